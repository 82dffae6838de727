"""Scoring ntuples with a trained model: the engine of ``tmva-lstm apply``.

One input tree is scored as a list of entry ranges of a whole number of batches of
:data:`BATCH` entries (the step size rounded up), each batch one network call. So an event is
always scored in the same batch, whatever the step size and whichever process scores it: one
process (:func:`apply_to_files`) and many Dask workers
(:func:`tmva_lstm.distributed.apply_files`) write the same bits. (A float32 network call
rounds differently for batches of other sizes, in the last bits.)

Outputs (written to a temporary file in the same folder, then renamed):

* copy (default): the input tree's branches that uproot can write (numbers, fixed-size arrays,
  variable-length arrays of numbers) plus the score branch; branches it cannot write (objects
  such as ``TLorentzVector``, strings) are left out with a warning that suggests ``friend``;
* friend (``friend=True``): a tree ``<tree>_<branch>`` holding only the score, entry for entry,
  for ``TTree::AddFriend``; one per input file.

Each output holds a ``TObjString`` ``tmva_lstm_apply``: JSON recording the model's SHA-256, the
inputs (path, size, modification time, entries) and the settings, so a rerun can tell an output
that is complete and up to date from one that must be written again.

Inputs with NaN or infinite values (``non_finite``): ``"stop"`` (default) raises naming the
entry; ``"drop"`` leaves those events out of a copy; ``"score"`` gives them the score -999, the
value ``TMVA::Reader`` returns for them (and :meth:`Model.predict` for NaN inputs).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import atomic_path
from .errors import DataError, InputFileError, NonFiniteInputError, OptionError
from .model import Model

__all__ = [
    "BATCH",
    "NON_FINITE_CHOICES",
    "ApplyWarning",
    "ModelPayload",
    "FileJob",
    "apply_to_files",
    "score_events",
]

BATCH = 4096  # events per network call; batches start at multiples of BATCH in each file
NON_FINITE_CHOICES = ("stop", "drop", "score")
NON_FINITE_SCORE = -999.0  # TMVA::Reader's value for an event it cannot score
META_KEY = "tmva_lstm_apply"  # TObjString with the provenance of an output
_BRANCH_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class ApplyWarning(UserWarning):
    """Something of the input could not be carried into the output (e.g. object branches)."""


# --------------------------------------------------------------------------- the model


_MODELS: dict[str, Model] = {}  # per process: parsed models by checksum (a worker parses once)


@dataclass(frozen=True)
class ModelPayload:
    """A model as the bytes of its XML file: what is sent to Dask workers (plain bytes, never a serialised Python object)."""

    data: bytes
    sha256: str
    title: str
    source: str = "<model>"

    @classmethod
    def from_bytes(cls, data: bytes, source: str = "<model>") -> ModelPayload:
        from .modelfile import find_model_element, model_from_element, parse_xml

        root = parse_xml(data, source)
        model = model_from_element(find_model_element(root, source), source)
        title = root.get("Method", "").partition("::")[2] if root.tag == "MethodSetup" else ""
        payload = cls(data, hashlib.sha256(data).hexdigest(), title or "PyLSTM", source)
        _MODELS.setdefault(payload.sha256, model)
        return payload

    @classmethod
    def of(cls, model: Any, title: str | None = None) -> ModelPayload:
        """From a model file path, a :class:`Model` (``title`` names it) or a payload."""
        if isinstance(model, ModelPayload):
            return model
        if isinstance(model, Model):
            from .modelfile import document_bytes, model_document

            data = document_bytes(model_document(model, title or "PyLSTM"))
            return cls.from_bytes(data, f"<Model {title or 'PyLSTM'}>")
        if not isinstance(model, (str, os.PathLike)):
            raise OptionError(f"model must be a model file path or a Model, not {model!r}")
        from .modelfile import read_document

        read_document(model)  # the clear errors: missing, a folder, empty, too large
        return cls.from_bytes(Path(model).read_bytes(), str(model))

    def load(self) -> Model:
        """The parsed model (cached per process)."""
        model = _MODELS.get(self.sha256)
        if model is None:
            from .modelfile import find_model_element, model_from_element, parse_xml

            root = parse_xml(self.data, self.source)
            model = _MODELS[self.sha256] = model_from_element(
                find_model_element(root, self.source), self.source
            )
        return model


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Settings:
    """What every task of one apply run shares."""

    layout: str
    branch: str
    friend: bool = False
    non_finite: str = "stop"
    overwrite_branch: bool = False
    step_size: int | str = "100 MB"

    def meta(self) -> dict[str, Any]:
        return {
            "layout": self.layout,
            "branch": self.branch,
            "friend": self.friend,
            "non_finite": self.non_finite,
            "overwrite_branch": self.overwrite_branch,
        }


def make_settings(payload: ModelPayload, *, layout, branch, friend, non_finite,
                  overwrite_branch, step_size) -> Settings:  # fmt: skip
    """Check the options of an apply run (before anything is read or written)."""
    from .data.layout import _as_layout
    from .data.reader import _check_step_size

    model = payload.load()
    layout = layout or model.data_layout
    if not layout:
        raise OptionError(f"{payload.source} records no data layout; give --layout")
    layout = str(_as_layout(layout))
    branch = branch or payload.title
    if not isinstance(branch, str) or not _BRANCH_NAME.match(branch):
        raise OptionError(
            f"score branch name {branch!r} is not a valid branch name (letters, digits, _); "
            "give another with --branch"
        )
    if non_finite not in NON_FINITE_CHOICES:
        raise OptionError(
            f"non_finite (--non-finite) must be one of {', '.join(NON_FINITE_CHOICES)}, "
            f"not {non_finite!r}"
        )
    if friend and non_finite == "drop":
        raise OptionError(
            "--non-finite drop cannot be used with --friend: a friend tree must have every "
            "entry of its tree; use --non-finite score (score -999) or write a copy"
        )
    return Settings(layout, branch, bool(friend), non_finite, bool(overwrite_branch),
                    _check_step_size(step_size))  # fmt: skip


# --------------------------------------------------------------------------- outputs


def check_outputs(outputs: Iterable[Path], input_paths: Iterable[str]) -> None:
    """Refuse an output that is one of the inputs (same resolved path or same file)."""
    from .data.sources import _is_remote

    local = [p for p in input_paths if not _is_remote(p)]
    resolved = {os.path.realpath(p): p for p in local}
    for out in outputs:
        hit = resolved.get(os.path.realpath(out))
        if hit is None and out.exists():
            hit = next((p for p in local if os.path.exists(p) and os.path.samefile(p, out)), None)
        if hit is not None:
            raise OptionError(
                f"output '{out}' is the input file '{hit}'; writing it would destroy the "
                "input: choose another --output (or --output-dir)"
            )


def read_meta(path: Path) -> dict[str, Any] | None:
    """The provenance JSON of an output written by apply, or None (absent or unreadable)."""
    import uproot

    try:
        with uproot.open(path) as f:
            if META_KEY not in f:
                return None
            return json.loads(str(f[META_KEY]))
    except Exception:  # a damaged or foreign file: it is not a complete output of ours
        return None


def input_stamp(path: str) -> dict[str, Any]:
    from .data.sources import _is_remote

    if _is_remote(path):
        return {"path": path}
    st = os.stat(path)
    return {"path": os.path.realpath(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


# --------------------------------------------------------------------------- copy plan


@dataclass
class CopyPlan:
    """Which input branches a copy carries, and how uproot writes them."""

    names: list[str]  # branches read and written (counters of jagged ones come with them)
    types: dict[str, Any]  # for uproot's mktree
    counters: dict[str, str]  # jagged branch -> its counter branch
    left_out: list[str] = field(default_factory=list)  # "name (type)": uproot cannot write them
    added: list[str] = field(default_factory=list)  # counters the input did not have


def plan_copy(tree: Any, skip: set[str]) -> CopyPlan:
    """The copy of ``tree``'s top-level branches, except ``skip``."""
    import awkward as ak
    import uproot

    numeric = uproot.interpretation.numerical.AsDtype
    names, types, counters, left_out = [], {}, {}, []
    for b in tree.branches:
        if b.name in skip:
            continue
        interp = b.interpretation
        jagged = isinstance(interp, uproot.interpretation.jagged.AsJagged)
        inner = interp.content if jagged else interp
        dt = np.dtype(inner.to_dtype) if type(inner) is numeric else None
        if (
            b.branches
            or dt is None
            or dt.names
            or dt.base.kind not in "biuf"
            or (jagged and dt.shape)
        ):
            left_out.append(f"{b.name} ({b.typename})")
            continue
        base = dt.base.newbyteorder("=")
        if jagged:
            types[b.name] = ak.types.from_datashape(f"var * {base.name}", highlevel=False)
            leaf_count = b.member("fLeaves")[0].member("fLeafCount")
            if leaf_count is not None:
                counters[b.name] = leaf_count.member("fName")
        else:
            types[b.name] = (base, dt.shape) if dt.shape else base
        names.append(b.name)
    # a counter in the input that a copied jagged branch implies is written by uproot with it
    implied = set(counters.values()) & set(names)
    for c in implied:
        names.remove(c)
        del types[c]
    taken = set(tree.keys()) | set(names)
    added = []
    for name, t in types.items():
        if not isinstance(t, (np.dtype, tuple)) and name not in counters:
            c = "n" + name
            while c in taken:
                c += "_"
            counters[name] = c
            taken.add(c)
            added.append(f"{c} (counts of {name})")
    return CopyPlan(names, types, counters, left_out, added)


# --------------------------------------------------------------------------- per-file plan


@dataclass
class FileJob:
    """One input tree to score: its ranges and (for a copy) what to copy."""

    path: str
    tree: str  # the tree's name in its file
    num_entries: int
    ranges: list[tuple[int, int]]  # [start, stop) entry ranges, in order
    stamp: dict[str, Any]
    copy: CopyPlan | None = None
    score_names: list[str] = field(default_factory=list)  # output branches of the score

    @property
    def where(self) -> str:
        return f"{self.path}:{self.tree}"


def _grid_step(step: int) -> int:
    """Ranges are whole batches: a multiple of BATCH entries (at least one batch)."""
    return max(1, -(-int(step) // BATCH)) * BATCH


def _open(path: str, tree: str | None):
    from .data.sources import _OpenTree, _TreeRef

    return _OpenTree(_TreeRef(path, tree))


def open_job(payload: ModelPayload, path: str, tree: str | None, settings: Settings) -> FileJob:
    """Open one input: check the layout and the score branch, cut it into entry ranges."""
    from .data.layout import _as_layout
    from .data.plan import _make_plan

    model = payload.load()
    layout = _as_layout(settings.layout)
    score_names = score_branches(model, settings.branch)
    with _open(path, tree) as (t, name):
        where = f"{path}:{name}"
        plan = _make_plan(t, layout, where)
        T, F = model.input_layout
        if plan.T != T or (plan.F is not None and plan.F != F):
            raise DataError(
                f"model {payload.source} was trained on {T} time steps x {F} features, but "
                f"'{where}' gives {plan.T} x {plan.F}; use the model's data layout "
                f"({model.data_layout or 'see --layout'}) or the matching model"
            )
        copy = None
        if not settings.friend:
            taken = [b for b in score_names if b in t.keys()]
            if taken and not settings.overwrite_branch:
                raise OptionError(
                    f"'{where}' already has a branch '{taken[0]}'; name the score "
                    "otherwise (--branch), replace it (--overwrite-branch) or write a friend "
                    "tree (--friend)"
                )
            copy = plan_copy(t, set(score_names))
        step = settings.step_size
        if isinstance(step, str):
            names = plan.names + (copy.names if copy else [])
            step = t.num_entries_for(step, names) if t.num_entries else 1
        step = _grid_step(step)
        n = t.num_entries
        ranges = [(s, min(s + step, n)) for s in range(0, n, step)]
    return FileJob(path, name, n, ranges, input_stamp(path), copy, score_names)


def score_branches(model: Model, branch: str) -> list[str]:
    """The output branches: ``branch`` (Classification), else ``<branch>_<class>`` per class
    (Multiclass, the probabilities) or ``<branch>_<target>`` per target (Regression)."""
    kind = getattr(model, "analysis_type", "CLASSIFICATION")
    if kind == "CLASSIFICATION":
        return [branch]
    names = model.class_names if kind == "MULTICLASS" else model.target_names
    return [f"{branch}_{re.sub(r'[^A-Za-z0-9_]', '_', name)}" for name in names]


# --------------------------------------------------------------------------- scoring


def _batches(start: int, stop: int) -> Iterator[tuple[int, int]]:
    """[start, stop) cut at multiples of BATCH."""
    a = start
    while a < stop:
        b = min(stop, (a // BATCH + 1) * BATCH)
        yield a, b
        a = b


def _read_error(err: Exception, where: str) -> Exception:
    import uproot

    from .data.sources import _first_line
    from .errors import TmvaLstmError

    if isinstance(err, TmvaLstmError):
        return err
    if isinstance(err, uproot.KeyInFileError):
        return DataError(f"cannot read branch '{err.key}' of '{where}'")
    return InputFileError(
        f"cannot read '{where}' ({type(err).__name__}: {_first_line(err)}); the file may be "
        "truncated or corrupt"
    )


def score_block(model: Model, tree: Any, plan: Any, start: int, stop: int, non_finite: str):
    """Scores ``(n,)`` or ``(n, K)`` float32 of entries [start, stop); NaN marks an event to drop."""
    from .data.plan import _to_sequences

    n = stop - start
    try:
        arrays = tree.arrays(plan.names, entry_start=start, entry_stop=stop, library=plan.library)
    except Exception as err:
        raise _read_error(err, plan.where) from err
    entries = np.arange(start, stop, dtype=np.int64)
    X, mask, _, F = _to_sequences(plan, arrays, n, model.dtype, entries)
    T, F_model = model.input_layout
    if (X.shape[1], F) != (T, F_model):
        raise DataError(
            f"'{plan.where}' gives {X.shape[1]} time steps x {F} features, but the model was "
            f"trained on {T} x {F_model}; use the model's data layout or the matching model"
        )
    bad = ~np.isfinite(X).reshape(n, -1).all(axis=1)  # (n,)
    if bad.any():
        if non_finite == "stop":
            i = int(np.flatnonzero(bad)[0])
            t, k = (int(v) for v in np.argwhere(~np.isfinite(X[i]))[0])
            name = plan.variable_names(F)[t * F + k]
            raise NonFiniteInputError(
                f"input '{name}' is {X[i, t, k]} at entry {start + i} of '{plan.where}' "
                f"({int(bad.sum())} events in entries {start}-{stop - 1}); use --non-finite "
                "score (score them -999, as TMVA::Reader does) or --non-finite drop (leave "
                "them out of the copy), or remove them from the ntuple"
            )
        X[bad] = 0  # scored as zeros (no NaN arithmetic), then marked
    out = None
    for a, b in _batches(start, stop):
        rows = slice(a - start, b - start)
        s = model.predict(X[rows], None if mask is None else mask[rows])
        if out is None:
            out = np.empty((n, *s.shape[1:]), dtype=np.float32)
        out[rows] = s
    if bad.any():
        out[bad] = np.nan if non_finite == "drop" else NON_FINITE_SCORE
    return out


def score_range(payload: ModelPayload, job: FileJob, settings: Settings, start: int, stop: int):
    """:func:`score_block` of one range, opening the file (what a Dask task runs)."""
    from .data.layout import _as_layout
    from .data.plan import _make_plan

    with _open(job.path, job.tree) as (tree, _):
        plan = _make_plan(tree, _as_layout(settings.layout), job.where)
        return score_block(payload.load(), tree, plan, start, stop, settings.non_finite)


def score_ranges(payload: ModelPayload, job: FileJob, settings: Settings):
    """``(start, stop, scores)`` for every range of a file, in order, the file opened once."""
    from .data.layout import _as_layout
    from .data.plan import _make_plan

    model = payload.load()
    with _open(job.path, job.tree) as (tree, _):
        plan = _make_plan(tree, _as_layout(settings.layout), job.where)
        for start, stop in job.ranges:
            yield start, stop, score_block(model, tree, plan, start, stop, settings.non_finite)


# --------------------------------------------------------------------------- writing


def make_tree(out: Any, name: str, job: FileJob, settings: Settings) -> Any:
    """Create the output tree ``name`` in the open uproot file ``out``: the copied branches
    (for a copy) and the score, counters named as in the input."""
    types: dict[str, Any] = dict.fromkeys(job.score_names, np.dtype(np.float32))
    counters: dict[str, str] = {}
    if job.copy is not None:
        types = job.copy.types | types
        counters = job.copy.counters
    return out.mktree(name, types, counter_name=lambda b: counters.get(b, "n" + b))


def extend_tree(new: Any, job: FileJob, settings: Settings,
                pieces: Iterable[tuple[int, int, np.ndarray]], tree: Any = None) -> int:  # fmt: skip
    """Fill ``new`` with ``pieces``, the scores of consecutive ranges; for a copy, the other
    branches are read from the open input ``tree``, range by range. Returns entries written."""
    written = 0
    for start, stop, scores in pieces:
        columns = scores.reshape(len(scores), -1)  # (n, K)
        arrays: dict[str, Any] = {
            b: np.ascontiguousarray(columns[:, k]) for k, b in enumerate(job.score_names)
        }
        if job.copy is not None and job.copy.names:
            read = tree.arrays(job.copy.names, entry_start=start, entry_stop=stop)
            arrays = {k: read[k] for k in job.copy.names} | arrays
        if settings.non_finite == "drop":
            keep = ~np.isnan(scores.reshape(len(scores), -1)).any(axis=1)
            if not keep.all():
                arrays = {k: v[keep] for k, v in arrays.items()}
        n = len(arrays[job.score_names[0]])
        if n:
            new.extend(arrays)
        written += n
    return written


def tree_name(job: FileJob, settings: Settings) -> str:
    return f"{job.tree}_{settings.branch}" if settings.friend else job.tree


def output_meta(payload: ModelPayload, jobs: list[FileJob], settings: Settings) -> dict[str, Any]:
    from . import __version__

    inputs = [job.stamp | {"tree": job.tree, "entries": job.num_entries} for job in jobs]
    return {"tmva_lstm": __version__, "model_sha256": payload.sha256, "inputs": inputs} | (
        settings.meta()
    )


def write_meta(out: Any, meta: dict[str, Any]) -> None:
    out[META_KEY] = json.dumps(meta, sort_keys=True)


def copy_notes(job: FileJob) -> list[str]:
    """What a copy of this file cannot carry as it is (one line each)."""
    if job.copy is None:
        return []
    notes = []
    if job.copy.left_out:
        notes.append(
            f"'{job.where}': branches uproot cannot write are left out of the copy: "
            f"{', '.join(job.copy.left_out)}; use --friend to keep the input whole and add "
            "the score as a friend tree"
        )
    if job.copy.added:
        notes.append(
            f"'{job.where}': std::vector branches are written as variable-length arrays with "
            f"a counter branch (uproot cannot write std::vector): {', '.join(job.copy.added)}"
        )
    return notes


# --------------------------------------------------------------------------- one process


def _friend_dirs(jobs: list[FileJob]) -> list[str]:
    """A folder per input file (its name without .root) for N friend trees in one output."""
    names: list[str] = []
    for job in jobs:
        stem = re.sub(r"\.root(\.\d+)?$", "", os.path.basename(job.path), flags=re.I) or "file"
        stem = re.sub(r"[^A-Za-z0-9_.-]", "_", stem).replace(".", "_")
        name, i = stem, 2
        while name in names:
            name, i = f"{stem}_{i}", i + 1
        names.append(name)
    return names


def apply_to_files(
    model_path: Any,
    sources: Any,
    output: str | Path,
    *,
    layout: str | None = None,
    branch: str | None = None,
    friend: bool = False,
    step_size: int | str = "100 MB",
    non_finite: str = "stop",
    overwrite_branch: bool = False,
) -> Path:
    """Score every event of ``sources`` in this process and write ``output``, range by range.

    Copy (default): one tree with the copied branches and the score (several input files
    are joined, as ``hadd`` would). ``friend=True``: one friend tree ``<tree>_<branch>`` per
    input file, entry for entry (with several files, each in a folder named after its file).
    The score branch is named after the model's title unless ``branch`` is given (a Multiclass
    model writes ``<branch>_<class>`` per class, a Regression model ``<branch>_<target>`` per
    target). Nothing is
    written until every input has been checked; ``output`` may not be one of the inputs.
    """
    import uproot

    from .data.sources import _resolve_sources

    payload = ModelPayload.of(model_path)
    settings = make_settings(payload, layout=layout, branch=branch, friend=friend,
                             non_finite=non_finite, overwrite_branch=overwrite_branch,
                             step_size=step_size)  # fmt: skip
    refs = _resolve_sources(sources)
    output = Path(output)
    check_outputs([output], [r.path for r in refs])
    jobs = [open_job(payload, r.path, r.tree, settings) for r in refs]
    if not settings.friend:
        first = jobs[0]
        for job in jobs[1:]:
            if job.tree != first.tree or job.copy.types != first.copy.types:
                raise DataError(
                    f"cannot join '{job.where}' and '{first.where}' into one copy: their trees "
                    "or branches differ; score them into separate files (--output-dir) or "
                    "write friend trees (--friend)"
                )
    for note in dict.fromkeys(n for job in jobs for n in copy_notes(job)):
        warnings.warn(note, ApplyWarning, stacklevel=2)
    dirs = _friend_dirs(jobs) if len(jobs) > 1 else [""]
    with atomic_path(output) as tmp, uproot.recreate(tmp) as out:
        new = None
        for job, folder in zip(jobs, dirs, strict=False):
            with _open(job.path, job.tree) as (tree, _):
                pieces = score_ranges(payload, job, settings)
                if settings.friend:
                    name = tree_name(job, settings)
                    new = make_tree(out, f"{folder}/{name}" if folder else name, job, settings)
                elif new is None:
                    new = make_tree(out, job.tree, job, settings)
                extend_tree(new, job, settings, pieces, tree)
        write_meta(out, output_meta(payload, jobs, settings))
    return output


# --------------------------------------------------------------------------- awkward


def score_events(model: Any, events: Any, layout: str | None = None) -> Any:
    """Scores of an awkward array of events (a coffea / ``dask-awkward`` partition).

    ``events`` holds the layout's branches as fields (``events["vars_time0"]`` ...), or is a
    regular ``(N, T, F)`` array; ``model`` a :class:`Model` or a model file. Returns
    :meth:`Model.predict`'s float64 scores, as an awkward array (NumPy for a NumPy input). On a
    typetracer (dask-awkward's pass that finds the columns to read) it touches the layout's
    branches and returns a typetracer, so ``events.map_partitions(partial(score_events,
    model))`` reads only those branches.
    """
    import awkward as ak

    from .data.layout import _as_layout

    model = model if isinstance(model, Model) else ModelPayload.of(model).load()
    if isinstance(events, np.ndarray):
        return model.predict(events)
    events = ak.Array(events)
    T, F = model.input_layout
    names: list[str] = []
    if events.fields:
        layout = _as_layout(layout or model.data_layout)
        per_step = layout.kind == "per-step"
        names = [layout.step_branch(t) for t in range(T)] if per_step else list(layout.branches)
    if ak.backend(events) == "typetracer":
        for name in names:
            ak.typetracer.touch_data(events[name])
        if not names:
            ak.typetracer.touch_data(events)
        empty = ak.Array(np.zeros(0, np.float64)).layout.to_typetracer(forget_length=True)
        return ak.Array(empty)
    if not names:
        return ak.Array(model.predict(ak.to_numpy(events)))
    n = len(events)
    mask = None
    if layout.kind == "per-step":
        X = np.stack([ak.to_numpy(events[b]).reshape(n, -1) for b in names], axis=1)
    elif layout.kind == "array":
        X = ak.to_numpy(events[names[0]])
        X = X.reshape(n, X.shape[1], -1)
        X = X.transpose(0, 2, 1) if layout.time_axis else X
    else:
        counts = ak.to_numpy(ak.num(events[names[0]], axis=1))
        X = np.stack(
            [
                ak.to_numpy(ak.fill_none(ak.pad_none(events[b], T, axis=1, clip=True), 0))
                for b in names
            ],
            axis=2,
        )
        mask = np.arange(T) < np.minimum(counts, T)[:, None]
    return ak.Array(model.predict(X.astype(model.dtype, copy=False), mask))
