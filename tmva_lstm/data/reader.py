"""The validated reader of one source: expressions, chunked reading, conversion to Datasets."""

from __future__ import annotations

import bisect
import re
import zlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import (
    BranchNotFoundError,
    DataError,
    InputFileError,
    NonFiniteInputError,
    OptionError,
    TmvaLstmError,
    close_matches,
)
from .dataset import Dataset
from .expressions import language, syntaxes, to_python
from .layout import SequenceLayout
from .plan import _check_finite, _make_plan, _missing_branch, _per_event, _Plan, _to_sequences
from .sources import Source, _describe, _first_line, _OpenTree, _resolve_sources, _TreeRef

__all__: list[str] = []

_MEMORY_SIZE = re.compile(r"^\s*(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?\s*([kmgtpezy]?i?b)\s*$", re.I)

_VALIDATION_ENTRIES = 100  # expressions are tried on this many entries before reading

_KEEP_OPEN = 16  # load() keeps this many files open from validation to reading


# Names under which the expressions are handed to uproot as aliases.
def _alias(what: str) -> str:
    """The alias of an expression (``target0``, ``target1``... for regression targets)."""
    return _ALIASES.get(what, f"tmva_lstm__{what}")


def _label(what: str) -> str:
    """How an expression is named in messages: ``target0`` is a ``target``."""
    return "target" if what.startswith("target") else what


_ALIASES = {
    "cut": "tmva_lstm__cut",
    "weight": "tmva_lstm__weight",
    "class_expr": "tmva_lstm__class",
}

# --------------------------------------------------------------------------------------
# Reader
# --------------------------------------------------------------------------------------


def _check_step_size(step_size: int | str) -> int | str:
    if isinstance(step_size, bool):
        raise OptionError(
            f"step_size must be a number of entries or a size like '100 MB', not {step_size!r}"
        )
    if isinstance(step_size, (int, np.integer)) and step_size > 0:
        return int(step_size)
    if isinstance(step_size, str) and _MEMORY_SIZE.match(step_size):
        return step_size
    raise OptionError(
        f"step_size must be a positive number of entries or a size like '100 MB', not {step_size!r}"
    )


def _check_dtype(dtype: Any) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError as err:
        raise OptionError(f"dtype must be float32 or float64, not {dtype!r}") from err
    if dt not in (np.float32, np.float64):
        raise OptionError(f"dtype must be float32 or float64, not {dt}")
    return dt


class _Reader:
    """Validated sources and settings; ``chunks()`` streams Datasets.

    ``validate()`` opens every file first. With ``keep_open`` the first few stay open
    until ``chunks()`` reads them (saves a second open); ``close()`` releases them.
    """

    def __init__(
        self,
        sources: Source,
        layout: SequenceLayout,
        *,
        cut: str | None,
        weight: str | None,
        class_expr: str | None,
        targets: Sequence[str] = (),
        label: int,
        step_size: int | str,
        max_events: int | None,
        dtype: np.dtype,
        role: str,
        keep_open: bool = False,
        non_finite: str = "stop",
    ) -> None:
        if non_finite not in ("stop", "drop"):
            raise OptionError(f"non_finite must be 'stop' or 'drop', not {non_finite!r}")
        self.non_finite = non_finite
        self.dropped = 0  # events dropped for NaN/Inf inputs (non_finite="drop")
        self.refs = _resolve_sources(sources)
        self.description = _describe(sources)
        self.layout = layout
        self.exprs = {
            k: v
            for k, v in (("cut", cut), ("weight", weight), ("class_expr", class_expr))
            if v is not None
        }
        self.n_targets = len(targets)
        self.exprs.update({f"target{j}": t for j, t in enumerate(targets)})
        for k, v in self.exprs.items():
            if not isinstance(v, str) or not v.strip():
                raise OptionError(f"{k} must be a non-empty expression string, not {v!r}")
        # what uproot evaluates: TTreeFormula translated to Python (messages show self.exprs)
        self.python = {k: to_python(v, _label(k)) for k, v in self.exprs.items()}
        self.label = label
        self.step_size = step_size
        self.max_events = max_events
        self.dtype = dtype
        self.role = role
        self.keep_open = keep_open
        self.plans: dict[_TreeRef, _Plan] = {}
        self.num_entries: dict[_TreeRef, int] = {}
        self.tree_names: dict[_TreeRef, str] = {}  # the tree each reference resolved to
        self._open: dict[_TreeRef, tuple[_OpenTree, Any]] = {}

    # -- validation ----------------------------------------------------------------------

    def validate(self) -> None:
        """Open every file: tree, branches, types and expressions; nothing is read yet."""
        try:
            for ref in self.refs:
                ctx = _OpenTree(ref)
                tree, name = ctx.__enter__()
                try:
                    where = f"{ref.path}:{name}"
                    plan = _make_plan(tree, self.layout, where)
                    self._try_expressions(tree, where)
                    if self.plans:
                        _check_same_layout(plan, next(iter(self.plans.values())))
                    self.plans[ref] = plan
                    self.num_entries[ref] = tree.num_entries
                    self.tree_names[ref] = name
                except BaseException:
                    ctx.__exit__(None, None, None)
                    raise
                if self.keep_open and len(self._open) < _KEEP_OPEN:
                    self._open[ref] = (ctx, tree)
                else:
                    ctx.__exit__(None, None, None)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        for ctx, _ in self._open.values():
            ctx.__exit__(None, None, None)
        self._open.clear()

    def expected_events(self) -> int:
        """Events ``chunks()`` will give when there is no cut."""
        total = sum(self.num_entries.values())
        return total if self.max_events is None else min(total, self.max_events)

    def _try_expressions(self, tree: Any, where: str) -> None:
        import uproot

        stop = min(tree.num_entries, _VALIDATION_ENTRIES)
        for what, expr in self.exprs.items():
            try:
                out = tree.arrays(
                    [_alias(what)],
                    aliases={_alias(what): self.python[what]},
                    library="np",
                    entry_stop=stop,
                    language=language(),
                )
            except uproot.KeyInFileError as err:
                key = str(err.key) if getattr(err, "key", None) is not None else str(err)
                raise BranchNotFoundError(
                    f"{_label(what)} '{expr}' uses '{key}', which is not a branch of '{where}'"
                    f"{close_matches(key, tree.keys())}"
                ) from err
            except SyntaxError as err:
                raise OptionError(
                    f"{_label(what)} '{expr}' is not a valid expression ({_first_line(err)}); "
                    f"write {syntaxes()}"
                ) from err
            except (OSError, uproot.deserialization.DeserializationError, zlib.error) as err:
                raise InputFileError(
                    f"cannot read '{where}' ({_first_line(err)}); the file may be truncated or "
                    "corrupt"
                ) from err
            except Exception as err:
                raise DataError(
                    f"{_label(what)} '{expr}' cannot be evaluated on '{where}': "
                    f"{type(err).__name__}: {_first_line(err)}"
                ) from err
            _per_event(out[_alias(what)], stop, _label(what), expr, where)

    # -- reading -------------------------------------------------------------------------

    def chunks(self, out: np.ndarray | None = None) -> Iterator[Dataset]:
        """Stream the sources; with ``out`` (no cut), X is written into it in order."""
        remaining = self.max_events
        pos = 0
        F_seen: int | None = None
        try:
            for ref in self.refs:
                if remaining == 0:
                    return
                plan = self.plans[ref]
                ctx, tree = self._open.pop(ref, (None, None))
                if ctx is None:
                    ctx = _OpenTree(ref)
                    tree, _ = ctx.__enter__()
                try:
                    tree_out = None if out is None else out[pos:]
                    for arrays, start, stop, filled in self._read(tree, plan, remaining, tree_out):
                        block = None if out is None else out[pos:]
                        ds = self._convert(plan, arrays, start, stop, remaining, block, filled)
                        if ds is None:
                            continue  # emptied by the cut
                        if F_seen is not None and ds.n_features != F_seen:
                            raise DataError(
                                f"'{plan.where}' has F={ds.n_features} features per step but "
                                f"earlier data have F={F_seen}; every file must have the same "
                                "sequence layout"
                            )
                        F_seen = ds.n_features
                        pos += len(ds)
                        if remaining is not None:
                            remaining -= len(ds)
                        yield ds
                        if remaining == 0:
                            return
                finally:
                    ctx.__exit__(None, None, None)
        finally:
            self.close()

    def _read(
        self, tree: Any, plan: _Plan, remaining: int | None, out: np.ndarray | None
    ) -> Iterator[tuple[Mapping[str, Any], int, int, np.ndarray | None]]:
        """uproot chunks of one tree: (branch and expression arrays, entry start, stop, X).

        With ``out`` (the result from this tree's first entry on, read without a cut),
        fixed-size branches are decompressed straight into it and X is that block;
        otherwise X is None, the arrays hold the branches and :meth:`_convert` builds X.
        """
        aliases = {_alias(k): v for k, v in self.python.items()}
        library = plan.library
        # One uproot call reads layout branches and expressions when both fit library="np";
        # jagged branches need awkward, and the expressions then get their own NumPy call.
        expressions = plan.names + (list(aliases) if library == "np" else [])
        options = dict(
            aliases=aliases if library == "np" else None, library=library, language=language()
        )
        stop = tree.num_entries
        if remaining is not None and "cut" not in self.exprs:
            stop = min(stop, remaining)  # without a cut, max_events counts entries: read no more
        if out is not None and plan.in_place:
            chunks = self._in_place_chunks(tree, plan, aliases, stop, out)
        else:
            chunks = self._uproot_chunks(tree, expressions, options, stop)
        try:
            while True:
                try:
                    arrays, start, stop, filled = next(chunks)  # filled: X or None
                    if aliases and library != "np":
                        arrays = {name: arrays[name] for name in plan.names}
                        arrays.update(
                            tree.arrays(
                                list(aliases),
                                aliases=aliases,
                                library="np",
                                language=language(),
                                entry_start=start,
                                entry_stop=stop,
                            )
                        )
                except StopIteration:
                    return
                except Exception as err:
                    raise self._read_error(err, tree, plan) from err
                yield arrays, start, stop, filled
        finally:
            chunks.close()

    def _uproot_chunks(
        self, tree: Any, expressions: list[str], options: dict[str, Any], stop: int
    ) -> Iterator[tuple[Mapping[str, Any], int, int, None]]:
        if stop == 0:
            return
        step = self.step_size
        if isinstance(step, str):
            step = tree.num_entries_for(
                step, expressions, aliases=options["aliases"], language=options["language"]
            )
        if stop <= step:  # one chunk: a plain arrays() call is a little faster than iterate
            yield tree.arrays(expressions, entry_stop=stop, **options), 0, stop, None
            return
        # iterate keeps the baskets that straddle two chunks: each is decompressed once
        for arrays, report in tree.iterate(
            expressions, step_size=step, entry_stop=stop, report=True, **options
        ):
            yield arrays, report.tree_entry_start, report.tree_entry_stop, None

    def _in_place_chunks(
        self, tree: Any, plan: _Plan, aliases: dict[str, str], stop: int, out: np.ndarray
    ) -> Iterator[tuple[Mapping[str, Any], int, int, np.ndarray]]:
        """Fixed-size branches decompressed by uproot straight into ``out`` (the result, from
        this tree's first entry on) with ``AsDtype.inplace``: no intermediate arrays, no copy.
        Chunks end where all baskets end, so no basket is decompressed twice. (One uproot
        call per branch and chunk: for load's large chunks only; streaming uses iterate.)"""
        if stop == 0:
            return
        step = self.step_size
        if isinstance(step, str):
            step = tree.num_entries_for(step, plan.names)
        wanted = set(plan.names)
        offsets = tree.common_entry_offsets(filter_name=lambda name: name in wanted)
        start = 0
        while start < stop:
            i = bisect.bisect_right(offsets, start + step) - 1
            end = min(offsets[i] if offsets[i] > start else start + step, stop)
            X = out[start:end]  # (n, T, F)
            for b, view in zip(plan.branches, plan.fill_views(X), strict=True):
                branch = tree[b.name]
                branch.array(
                    interpretation=branch.interpretation.inplace(view),
                    entry_start=start,
                    entry_stop=end,
                    library="np",
                )
            arrays = {}
            if aliases:
                arrays = tree.arrays(
                    list(aliases),
                    aliases=aliases,
                    library="np",
                    language=language(),
                    entry_start=start,
                    entry_stop=end,
                )
            yield arrays, start, end, X
            start = end

    def _read_error(self, err: Exception, tree: Any, plan: _Plan) -> Exception:
        import uproot

        if isinstance(err, TmvaLstmError):
            return err
        if isinstance(err, uproot.KeyInFileError):
            return _missing_branch(str(err.key), tree, plan.where)
        why = f"{type(err).__name__}: {_first_line(err)}"
        file_errors = (OSError, EOFError, zlib.error, uproot.deserialization.DeserializationError)
        if isinstance(err, file_errors) or not self.exprs:
            # nothing but the file's own bytes can be at fault
            return InputFileError(
                f"cannot read '{plan.where}' ({why}); the file may be truncated or corrupt"
            )
        return DataError(
            f"reading '{plan.where}' failed ({why}); the file may be corrupt, or an expression "
            f"({', '.join(self.exprs.values())}) fails on these entries"
        )

    def _convert(
        self,
        plan: _Plan,
        arrays: Mapping[str, Any],
        start: int,
        stop: int,
        limit: int | None,
        out: np.ndarray | None,
        filled: np.ndarray | None = None,
    ) -> Dataset | None:
        n = stop - start
        where = plan.where
        entries = np.arange(start, stop, dtype=np.int64)
        if "weight" in self.exprs:
            expr = self.exprs["weight"]
            w = _per_event(arrays[_ALIASES["weight"]], n, "weight", expr, where)
            w = w.astype(np.float64)
        else:
            w = np.ones(n, dtype=np.float64)
        if "class_expr" in self.exprs:
            expr = self.exprs["class_expr"]
            y = _per_event(arrays[_ALIASES["class_expr"]], n, "class_expr", expr, where) != 0
            y = y.astype(np.int64)
        else:
            y = np.full(n, self.label, dtype=np.int64)
        targets = None
        if self.n_targets:
            columns = []
            for j in range(self.n_targets):
                expr = self.exprs[f"target{j}"]
                columns.append(_per_event(arrays[_alias(f"target{j}")], n, "target", expr, where))
            targets = np.stack(columns, axis=1).astype(np.float64)  # (n, M)
        # the events kept: the cut, then at most `limit` of them
        keep: slice | np.ndarray | None = None
        if "cut" in self.exprs:
            keep = _per_event(arrays[_ALIASES["cut"]], n, "cut", self.exprs["cut"], where) != 0
            if limit is not None:
                keep &= np.cumsum(keep) <= limit
            if keep.all():
                keep = None
        elif limit is not None and n > limit:
            keep = slice(0, limit)
        branch_arrays = {} if filled is not None else {name: arrays[name] for name in plan.names}
        if keep is not None:
            branch_arrays = {k: v[keep] for k, v in branch_arrays.items()}
            filled = None if filled is None else filled[keep]
            w, y, entries = w[keep], y[keep], entries[keep]
            targets = None if targets is None else targets[keep]
            n = len(entries)
        if n == 0:
            return None
        if not np.isfinite(w).all():
            i = int(np.flatnonzero(~np.isfinite(w))[0])
            raise NonFiniteInputError(
                f"weight '{self.exprs['weight']}' is {w[i]} at entry {entries[i]} of "
                f"'{where}'; fix the weight expression or remove these events with a cut"
            )
        block = None if out is None else out[:n]
        if filled is not None:  # uproot already wrote X (into out, when given)
            X, mask, lengths, F = filled, None, None, plan.F
        else:
            X, mask, lengths, F = _to_sequences(plan, branch_arrays, n, self.dtype, entries, block)
        names = plan.variable_names(F)
        if self.non_finite == "drop":
            bad = ~np.isfinite(X).reshape(n, -1).all(axis=1)
            if bad.any():
                keep_rows = ~bad
                self.dropped += int(bad.sum())
                X, y, w, entries = X[keep_rows], y[keep_rows], w[keep_rows], entries[keep_rows]
                targets = None if targets is None else targets[keep_rows]
                mask = None if mask is None else mask[keep_rows]
                lengths = None if lengths is None else lengths[keep_rows]
                if len(X) == 0:
                    return None
        else:
            _check_finite(X, names, entries, where)
        return Dataset(
            X=X,
            y=y,
            weights=w,
            mask=mask,
            lengths=lengths,
            variable_names=names,
            source=where,
            entries=entries,
            targets=targets,
        )


def _check_same_layout(plan: _Plan, first: _Plan) -> None:
    same = (plan.T, plan.F) == (first.T, first.F)
    if same and plan.F is not None:
        same = plan.variable_names(plan.F) == first.variable_names(first.F)
    if not same:
        raise DataError(
            f"'{plan.where}' has T={plan.T} time steps of F={plan.F} features but "
            f"'{first.where}' has T={first.T}, F={first.F}; every file must have the same "
            "sequence layout"
        )
