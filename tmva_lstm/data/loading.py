"""The public readers: :func:`load`, :func:`load_classes`, :func:`iterate` and
:func:`variable_branches`."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import (
    DataError,
    OptionError,
)
from .dataset import Dataset
from .layout import SequenceLayout, _as_layout
from .plan import _Plan
from .reader import _check_dtype, _check_same_layout, _check_step_size, _Reader
from .sources import Source, _is_remote, _TreeRef

__all__ = ["load", "load_classes", "iterate", "variable_branches"]

# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def _check_max_events(max_events: int | None) -> int | None:
    if max_events is None:
        return None
    if (
        isinstance(max_events, bool)
        or not isinstance(max_events, (int, np.integer))
        or max_events < 1
    ):
        raise OptionError(f"max_events must be a positive integer or None, not {max_events!r}")
    return int(max_events)


def iterate(
    sources: Source,
    *,
    layout: SequenceLayout | str,
    cut: str | None = None,
    weight: str | None = None,
    class_expr: str | None = None,
    label: int | None = None,
    step_size: int | str = "100 MB",
    max_events: int | None = None,
    dtype: Any = np.float32,
    non_finite: str = "stop",
) -> Iterator[Dataset]:
    """Stream ``sources`` as one :class:`Dataset` per chunk of ``step_size``.

    The label comes from ``class_expr`` (non-zero = signal, 1), or is ``label`` for every
    event, or -1 when neither is given (scoring). Chunks never span files; a chunk's
    ``source`` is its ``"file.root:tree"``, and its ``entries`` the tree entry numbers.
    Chunks emptied by the cut are skipped. At most ``max_events`` events (after the cut).
    All files are opened and checked when ``iterate`` is called, before any data are read.
    """
    if class_expr is not None and label is not None:
        raise OptionError("give class_expr or label, not both")
    if label is not None and label not in (0, 1, -1):
        raise OptionError(f"label must be 1 (signal), 0 (background) or -1, not {label!r}")
    reader = _Reader(
        sources,
        _as_layout(layout),
        cut=cut,
        weight=weight,
        class_expr=class_expr,
        label=-1 if label is None else int(label),
        step_size=_check_step_size(step_size),
        max_events=_check_max_events(max_events),
        dtype=_check_dtype(dtype),
        role="input",
        non_finite=non_finite,
    )
    reader.validate()
    return reader.chunks()


_MEMMAP_NEEDS_ALL = (
    "reading into a memory map needs every entry of the trees (no cut, no dropped events); "
    "apply the selection when making the ntuple, or read without memmap"
)


def load(
    signal: Source,
    background: Source | None = None,
    *,
    layout: SequenceLayout | str,
    cut: str | None = None,
    weight: str | None = None,
    class_expr: str | None = None,
    step_size: int | str = "100 MB",
    max_events: int | None = None,
    dtype: Any = np.float32,
    non_finite: str = "stop",
    memmap: str | os.PathLike | None = None,
    targets: Sequence[str] | None = None,
) -> Dataset:
    """Read a labelled dataset: signal (y = 1) first, then background (y = 0).

    With ``targets`` (uproot expressions, one per regression target) and one source: a
    regression sample, ``Dataset.targets (N, M)``, every ``y`` 0 (TMVA's one class).

    Either two sources, or one source and ``class_expr`` (non-zero = signal). ``cut`` and
    ``weight`` apply to both. ``max_events`` caps each source (after the cut). Raises
    :class:`~tmva_lstm.errors.DataError` when a class ends up empty. Without a cut the
    result is filled in place (one copy of the data in memory, plus one chunk).
    ``memmap``: a ``.npy`` path; ``X`` is then written there, chunk by chunk, and returned as
    a ``numpy.memmap``, for inputs larger than memory (no cut, ``non_finite="stop"``).
    """
    layout = _as_layout(layout)
    common: dict[str, Any] = dict(
        cut=cut,
        weight=weight,
        step_size=_check_step_size(step_size),
        max_events=_check_max_events(max_events),
        dtype=_check_dtype(dtype),
        keep_open=True,
        non_finite=non_finite,
    )
    if targets is not None:
        if background is not None or class_expr is not None:
            raise OptionError(
                "a regression sample (targets=...) is one source, without background or class_expr"
            )
        return load_classes(
            {"Regression": signal}, layout=layout, cut=cut, weight=weight, targets=targets,
            step_size=step_size, max_events=max_events, dtype=dtype, non_finite=non_finite,
            memmap=memmap,
        )  # fmt: skip
    if background is None:
        if class_expr is None:
            raise OptionError(
                "one source needs class_expr to tell signal from background (e.g. "
                "class_expr='isSignal == 1'), or give a background source"
            )
        readers = [_Reader(signal, layout, class_expr=class_expr, label=-1, role="input", **common)]
    else:
        if class_expr is not None:
            raise OptionError(
                "class_expr is for one mixed source; with separate signal and "
                "background sources leave it out"
            )
        readers = [
            _Reader(signal, layout, class_expr=None, label=1, role="signal", **common),
            _Reader(background, layout, class_expr=None, label=0, role="background", **common),
        ]
    try:
        for r in readers:
            r.validate()
        if len(readers) == 2:
            _check_distinct(*readers)
        plans = [next(iter(r.plans.values())) for r in readers]
        _check_same_layout(plans[-1], plans[0])
        in_place = cut is None and plans[0].F is not None and non_finite == "stop"
        if memmap is not None and not in_place:
            raise OptionError(_MEMMAP_NEEDS_ALL)
        data = _read_all(readers, plans[0], in_place=in_place, memmap=memmap)
        data.n_dropped = sum(r.dropped for r in readers)
    finally:
        for r in readers:
            r.close()
    if background is None:
        for cls, role in ((1, "signal"), (0, "background")):
            if not np.any(data.y == cls):
                raise DataError(
                    f"class_expr '{class_expr}' selects no {role} events in "
                    f"'{readers[0].description}'"
                    + (f" after the cut '{cut}'" if cut else "")
                    + "; check the expression"
                )
        data.source = f"{readers[0].description} (signal: {class_expr})"
    else:
        data.source = f"signal: {readers[0].description}; background: {readers[1].description}"
    if cut:
        data.source += f"; cut: {cut}"
    return data


def load_classes(
    classes: Mapping[str, Source],
    *,
    layout: SequenceLayout | str,
    cut: str | None = None,
    weight: str | None = None,
    targets: Sequence[str] | None = None,
    step_size: int | str = "100 MB",
    max_events: int | None = None,
    dtype: Any = np.float32,
    non_finite: str = "stop",
    memmap: str | os.PathLike | None = None,
) -> Dataset:
    """Read K named classes, as TMVA's ``AddTree(tree, className)``: ``y`` = the index of
    the class in ``classes`` (insertion order), ``Dataset.class_names`` = its keys.

    ``{"Signal": "sig.root:t", "ttbar": "tt.root:t", "WJets": "w.root:t"}`` gives y = 0, 1,
    2. ``targets``: regression target expressions, read into ``Dataset.targets (N, M)``.
    ``cut`` and ``weight`` apply to every class; an empty class raises ``DataError``.
    ``memmap``: as for :func:`load`.
    """
    names = list(classes)
    if not names or not all(isinstance(n, str) and n.strip() for n in names):
        raise OptionError(f"classes needs at least one named source, got {names!r}")
    if targets is not None:
        targets = list(targets)
        if not targets or not all(isinstance(t, str) and t.strip() for t in targets):
            raise OptionError(f"targets must be non-empty expression strings, got {targets!r}")
    layout = _as_layout(layout)
    common: dict[str, Any] = dict(
        cut=cut,
        weight=weight,
        targets=tuple(targets or ()),
        step_size=_check_step_size(step_size),
        max_events=_check_max_events(max_events),
        dtype=_check_dtype(dtype),
        keep_open=True,
        non_finite=non_finite,
    )
    readers = [
        _Reader(classes[name], layout, class_expr=None, label=k, role=name, **common)
        for k, name in enumerate(names)
    ]
    try:
        for r in readers:
            r.validate()
        plans = [next(iter(r.plans.values())) for r in readers]
        for plan in plans[1:]:
            _check_same_layout(plan, plans[0])
        in_place = cut is None and plans[0].F is not None and non_finite == "stop"
        if memmap is not None and not in_place:
            raise OptionError(_MEMMAP_NEEDS_ALL)
        data = _read_all(readers, plans[0], in_place=in_place, memmap=memmap)
        data.n_dropped = sum(r.dropped for r in readers)
    finally:
        for r in readers:
            r.close()
    data.class_names = names
    data.source = "; ".join(
        f"{name}: {r.description}" for name, r in zip(names, readers, strict=True)
    )
    if cut:
        data.source += f"; cut: {cut}"
    return data


def _read_all(readers: list[_Reader], plan: _Plan, in_place: bool, memmap=None) -> Dataset:
    """All chunks of all readers as one Dataset; ``in_place`` fills a preallocated X
    (in memory, or in the ``.npy`` file ``memmap``)."""
    out = None
    if in_place:
        counts = [r.expected_events() for r in readers]
        for r, c in zip(readers, counts, strict=True):
            if c == 0:
                raise DataError(_empty_message(r, r.role))
        shape = (sum(counts), plan.T, plan.F)
        jagged = plan.layout.kind == "jagged"
        if memmap is not None:  # a new file reads as zeros: padding needs no pass
            os.makedirs(os.path.dirname(os.path.abspath(memmap)), exist_ok=True)
            out = np.lib.format.open_memmap(memmap, mode="w+", dtype=readers[0].dtype, shape=shape)
        else:
            out = np.zeros(shape, readers[0].dtype) if jagged else np.empty(shape, readers[0].dtype)
    parts: list[Dataset] = []
    pos = 0
    for r in readers:
        chunks = list(r.chunks(None if out is None else out[pos:]))
        n = sum(len(c) for c in chunks)
        if n == 0 and (r.role != "input" or len(readers) == 1):
            raise DataError(_empty_message(r, r.role))
        pos += n
        parts += chunks
    if out is None:
        return Dataset.concat(parts)
    if pos != len(out):
        raise DataError(
            f"read {pos} events but the trees hold {len(out)}; were the files changed while "
            "being read?"
        )
    first = parts[0]
    return Dataset(
        X=out,
        y=np.concatenate([d.y for d in parts]),
        weights=np.concatenate([d.weights for d in parts]),
        mask=None if first.mask is None else np.concatenate([d.mask for d in parts]),
        lengths=None if first.lengths is None else np.concatenate([d.lengths for d in parts]),
        variable_names=first.variable_names,
        source=first.source,
        entries=np.concatenate([d.entries for d in parts]),
        targets=None if first.targets is None else np.concatenate([d.targets for d in parts]),
    )


def _empty_message(reader: _Reader, role: str) -> str:
    what = "" if role == "input" else f"{role} "
    if "cut" in reader.exprs and sum(reader.num_entries.values()):
        return (
            f"the cut '{reader.exprs['cut']}' keeps no events of the {what}source "
            f"'{reader.description}'; loosen the cut"
        )
    return f"the {what}source '{reader.description}' has no entries; check the file and tree"


def variable_branches(data: Dataset, layout: SequenceLayout | str) -> dict[str, np.ndarray]:
    """Arrays to write back as TMVA-style branches: ``{"vars_time0": (N, F), ...}``.

    Per-step: one ``(N, F)`` (or ``(N,)`` for F = 1) array per step branch; array: the
    block flattened in the stored order, ``(N, T*F)`` (``(N, F*T)`` for ``time_axis=1``), as
    TTrees keep one branch per variable array; jagged: one padded ``(N, T)``
    array per branch, plus ``"length"`` ``(N,)``.
    """
    layout = _as_layout(layout)
    X = data.X
    if layout.kind == "per-step":
        scalar = data.n_features == 1 and "[" not in data.variable_names[0]
        return {
            layout.step_branch(t): X[:, t, 0] if scalar else X[:, t, :] for t in range(data.n_steps)
        }
    if layout.kind == "array":
        name = layout.branches[0]
        if data.n_features == 1 and data.variable_names[0] == f"{name}[0]":
            return {name: X[:, :, 0]}
        block = X.transpose(0, 2, 1) if layout.time_axis else X  # the stored order
        return {name: block.reshape(len(block), -1)}  # x[T][F] as one x[T*F] array branch
    out = {b: X[:, :, k] for k, b in enumerate(layout.branches)}
    if data.lengths is not None:
        out["length"] = data.lengths
    return out


def _tree_identity(ref: _TreeRef, tree: str) -> tuple[object, str]:
    """(the file itself, the tree): the same file reached by two paths compares equal."""
    if _is_remote(ref.path):
        return ref.path, tree
    try:
        st = os.stat(ref.path)
        return (st.st_dev, st.st_ino), tree
    except OSError:
        return os.path.realpath(ref.path), tree


def _check_distinct(signal: _Reader, background: _Reader) -> None:
    """A tree read as signal and as background makes the two classes the same events."""
    seen = {_tree_identity(r, signal.tree_names[r]): r for r in signal.refs}
    for ref in background.refs:
        same = seen.get(_tree_identity(ref, background.tree_names[ref]))
        if same is not None:
            raise OptionError(
                f"'{same.path}:{signal.tree_names[same]}' is both a signal and a background "
                "source, so the classes would hold the same events; give the background tree "
                "(or one source with class_expr / --class-expr)"
            )
