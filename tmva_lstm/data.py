"""Read HEP ntuples into ``(N, T, F)`` sequences for the LSTM, with uproot.

Axes: ``N`` events, ``T`` time steps, ``F`` input features per step.

Sources
    uproot's forms: ``"file.root:tree"``, a glob such as ``"dir/*.root:events"``, a
    ``{"file.root": "tree"}`` dict, a ``pathlib.Path`` (never split at a colon), or a list of
    these. Without a tree name the file's only TTree is used. Signal and background come
    as two sources, or as one source with a class expression (``class_expr="isSignal == 1"``).

Sequence layouts (:class:`SequenceLayout`, string form in brackets)
    1. one branch per time step, ``vars_time0`` ... ``vars_time9``, each holding F values
       (a fixed-size array, a ``std::vector``, or a scalar for F = 1); T is inferred from
       the branches present unless given                [``per-step:vars_time{t}[:T=10]``]
       (``%d`` works as the placeholder too, as in TMVA's ``AddVariablesArray``);
    2. one fixed-size two-dimensional branch ``float x[T][F]``; ``time_axis=1`` reads
       ``x[F][T]``; a one-dimensional ``x[T]`` gives F = 1   [``array:x[:time_axis=1]``];
    3. jagged per-object branches ``trk_pt[ntrk]``, ``trk_eta[ntrk]`` ... (or
       ``std::vector``): objects are the time steps, one branch per feature, padded with
       zeros or truncated to the first ``max`` objects; :attr:`Dataset.mask` ``(N, T)`` and
       :attr:`Dataset.lengths` ``(N,)`` mark the valid steps, which come first (an event
       without objects has length 0)
                                                 [``jagged:trk_pt,trk_eta,trk_phi:max=20``].
    ``SequenceLayout.from_string(s)`` parses these and ``str(layout)`` prints them back.

Variable names follow TMVA: event variable ``j*F + k`` is time step j, feature k, named as
TMVA's internal names (``vars_time0[0]`` ... ``vars_time9[29]``; ``x[j][k]``; ``trk_pt[j]``).

Expressions
    ``cut``, ``weight`` and ``class_expr`` are uproot expressions: Python syntax over branch
    names and NumPy functions (``sqrt``, ``abs``, ``where`` ...), one value per event, e.g.
    ``cut="(nTrk > 2) & (met > 20)"``. Branches arrive as NumPy arrays; fixed-size arrays can
    be indexed (``x[:, 0] > 1``), variable-length ones cannot (cut on their counter branch,
    ``ntrk > 2``, instead). uproot evaluates them with
    Python's ``compile``/``eval``: like uproot's own ``cut=``, they are trusted input — never
    pass expressions from an untrusted party. A cut or class expression keeps or selects an
    event where its value is non-zero (TTree::Draw's rule).

Streaming
    :func:`iterate` yields one :class:`Dataset` per chunk of ``step_size`` (entries, or a
    memory size such as ``"100 MB"``); chunks never span files, so memory stays bounded by
    a few chunks. :func:`load` reads everything into one :class:`Dataset`; it equals the
    concatenation of :func:`iterate`'s chunks. Every file is opened and checked (tree,
    branches, types, expressions on the first entries) before any data are read, and
    :func:`load` returns a complete dataset or raises.

:func:`variable_branches` gives the arrays back in the ntuple's own branch shapes, for
writing the input variables next to the scores (TMVA's TestTree keeps ``vars_time0[30]``).

Errors (:mod:`tmva_lstm.errors`) name the file, the tree and the branch, and say what would
fix the problem: a missing file, a glob matching nothing, a file that is not ROOT, truncated
or corrupt → ``InputFileError``; a missing tree → ``TreeNotFoundError``; a missing branch (also
inside an expression) → ``BranchNotFoundError`` with the closest names; data that do not fit
the layout, an empty selection or class → ``DataError``; NaN or infinite inputs or weights →
``NonFiniteInputError``; bad arguments → ``OptionError``.
"""

from __future__ import annotations

import bisect
import glob
import os
import re
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from tmva_lstm.errors import (
    BranchNotFoundError,
    DataError,
    InputFileError,
    NonFiniteInputError,
    OptionError,
    TmvaLstmError,
    TreeNotFoundError,
    close_matches,
)

__all__ = ["SequenceLayout", "Dataset", "load", "iterate", "variable_branches"]

Source = str | os.PathLike | Mapping[Any, Any] | Sequence[Any]  # uproot's forms

_TREE_CLASSES = ("TTree", "TNtuple", "TNtupleD")
_GLOB_CHARS = re.compile(r"[*?\[]")
# uproot's rule for "file.root:object" (uproot._util._object_in_path_regex).
_OBJECT_IN_PATH = re.compile(r"(.+\.root(\.[0-9]+)?):(.*$)", re.IGNORECASE)
_MEMORY_SIZE = re.compile(r"^\s*(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?\s*([kmgtpezy]?i?b)\s*$", re.I)
_VALIDATION_ENTRIES = 100  # expressions are tried on this many entries before reading
_KEEP_OPEN = 16  # load() keeps this many files open from validation to reading
# Names under which the expressions are handed to uproot as aliases.
_ALIASES = {
    "cut": "tmva_lstm__cut",
    "weight": "tmva_lstm__weight",
    "class_expr": "tmva_lstm__class",
}


# --------------------------------------------------------------------------------------
# Layout spec
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SequenceLayout:
    """How the branches of a tree form ``(T, F)`` sequences.

    ``kind`` is ``"per-step"``, ``"array"`` or ``"jagged"``. ``branches`` holds the
    per-step pattern (one string with ``{t}`` or ``%d``), the one array branch, or the
    jagged branches (one per feature). ``steps`` is T: optional for per-step (inferred from
    the branches present), the maximum length for jagged (required), unused for array.
    ``time_axis`` (array only) says which axis of ``x[A][B]`` is time.
    """

    kind: str  # "per-step" | "array" | "jagged"
    branches: tuple[str, ...]  # pattern / array branch / jagged branches
    steps: int | None = None  # T; None = inferred (per-step), from the branch (array)
    time_axis: int = 0  # array only: 0 reads x[T][F], 1 reads x[F][T]

    KINDS: ClassVar[tuple[str, ...]] = ("per-step", "array", "jagged")
    _KEYS: ClassVar[dict[str, str]] = {"per-step": "T", "array": "time_axis", "jagged": "max"}

    def __post_init__(self) -> None:
        if isinstance(self.branches, str):
            object.__setattr__(self, "branches", (self.branches,))
        object.__setattr__(self, "branches", tuple(self.branches))
        if self.kind not in self.KINDS:
            raise OptionError(
                f"unknown sequence layout kind {self.kind!r}"
                f"{close_matches(self.kind, self.KINDS)}; valid kinds: {', '.join(self.KINDS)}"
            )
        if not self.branches or not all(isinstance(b, str) and b for b in self.branches):
            raise OptionError(f"layout {self.kind!r} needs at least one branch name")
        bad = [b for b in self.branches if any(c in b for c in ":, ")]
        if bad:
            raise OptionError(f"branch name {bad[0]!r} in the layout contains ':', ',' or ' '")
        if self.steps is not None and (
            isinstance(self.steps, bool) or not isinstance(self.steps, int) or self.steps < 1
        ):
            raise OptionError(f"layout steps must be a positive integer, not {self.steps!r}")
        if self.time_axis not in (0, 1) or isinstance(self.time_axis, bool):
            raise OptionError(f"time_axis must be 0 or 1, not {self.time_axis!r}")
        if self.time_axis and self.kind != "array":
            raise OptionError("time_axis applies to the 'array' layout only")
        if self.kind == "per-step":
            if len(self.branches) != 1:
                raise OptionError("the per-step layout takes one pattern, e.g. 'vars_time{t}'")
            if self.branches[0].count("{t}") + self.branches[0].count("%d") != 1:
                raise OptionError(
                    f"per-step pattern {self.branches[0]!r} needs exactly one '{{t}}' (or '%d') "
                    "where the time step goes, e.g. 'vars_time{t}'"
                )
        elif self.kind == "array":
            if len(self.branches) != 1:
                raise OptionError("the array layout takes one branch, e.g. 'array:x'")
            if self.steps is not None:
                raise OptionError("the array layout takes T from the branch; drop the step count")
        elif self.steps is None:
            raise OptionError(
                "the jagged layout needs a maximum length, e.g. 'jagged:trk_pt,trk_eta:max=20'"
            )

    @classmethod
    def per_step(cls, pattern: str, steps: int | None = None) -> SequenceLayout:
        """One branch per time step, ``pattern`` with ``{t}``; ``steps`` = T or inferred."""
        return cls("per-step", (pattern,), steps)

    @classmethod
    def array(cls, branch: str, time_axis: int = 0) -> SequenceLayout:
        """One fixed-size ``x[T][F]`` branch (``time_axis=1`` for ``x[F][T]``)."""
        return cls("array", (branch,), None, time_axis)

    @classmethod
    def jagged(cls, branches: Sequence[str], max_len: int) -> SequenceLayout:
        """Jagged per-object branches, one per feature, padded/truncated to ``max_len``."""
        return cls("jagged", tuple(branches), max_len)

    @classmethod
    def from_string(cls, s: str) -> SequenceLayout:
        """Parse ``per-step:P[:T=n]``, ``array:x[:time_axis=1]`` or ``jagged:a,b:max=n``."""
        if not isinstance(s, str) or ":" not in s:
            raise OptionError(
                f"layout {s!r} must read 'KIND:BRANCHES[:KEY=VALUE]', e.g. "
                "'per-step:vars_time{t}', 'array:x', 'jagged:trk_pt,trk_eta:max=20'"
            )
        kind, spec, *options = s.strip().split(":")
        kind = kind.strip().lower()
        if kind not in cls.KINDS:
            raise OptionError(
                f"unknown sequence layout kind {kind!r} in {s!r}"
                f"{close_matches(kind, cls.KINDS)}; valid kinds: {', '.join(cls.KINDS)}"
            )
        branches = tuple(b.strip() for b in spec.split(","))
        valid = cls._KEYS[kind]
        values: dict[str, int] = {}
        for opt in options:
            key, eq, value = opt.partition("=")
            key = key.strip()
            if key != valid:
                raise OptionError(
                    f"unknown option {key!r} in layout {s!r}; the {kind} layout takes {valid}=N"
                )
            if not eq or not value.strip().isdigit():
                raise OptionError(f"option {key!r} in layout {s!r} needs an integer, e.g. {key}=10")
            if key in values:
                raise OptionError(f"option {key!r} is given twice in layout {s!r}")
            values[key] = int(value)
        if kind == "array":
            return cls("array", branches, None, values.get("time_axis", 0))
        return cls(kind, branches, values.get(valid))

    def __str__(self) -> str:
        text = f"{self.kind}:{','.join(self.branches)}"
        if self.kind == "array":
            return text + (f":time_axis={self.time_axis}" if self.time_axis else "")
        if self.steps is not None:
            text += f":{self._KEYS[self.kind]}={self.steps}"
        return text

    def step_branch(self, t: int) -> str:
        """Per-step layout: the branch name of time step ``t``."""
        return self.branches[0].replace("{t}", str(t)).replace("%d", str(t))


def _as_layout(layout: SequenceLayout | str) -> SequenceLayout:
    if isinstance(layout, SequenceLayout):
        return layout
    if isinstance(layout, str):
        return SequenceLayout.from_string(layout)
    raise OptionError(f"layout must be a SequenceLayout or its string form, not {layout!r}")


# --------------------------------------------------------------------------------------
# Dataset
# --------------------------------------------------------------------------------------


@dataclass(repr=False, eq=False)  # arrays: compare them with NumPy, not ==
class Dataset:
    """Sequences, labels and weights of N events.

    ``X (N, T, F)``; ``y (N,)`` int64, 1 signal, 0 background, -1 unknown (scoring);
    ``weights (N,)`` float64; for the jagged layout ``mask (N, T)`` bool (True on valid
    steps, which come first) and ``lengths (N,)`` int64, else None. ``variable_names`` has
    T*F names in TMVA's order (variable ``j*F + k`` = step j, feature k). ``entries (N,)``
    are the events' entry numbers in their own tree, when read from a file.
    """

    X: np.ndarray  # (N, T, F)
    y: np.ndarray  # (N,) int64
    weights: np.ndarray  # (N,) float64
    mask: np.ndarray | None = None  # (N, T) bool, jagged layout only
    lengths: np.ndarray | None = None  # (N,) int64, jagged layout only
    variable_names: list[str] | None = None  # T*F names; None gives x[j][k]
    source: str = ""  # where the events came from
    entries: np.ndarray | None = None  # (N,) int64 entry numbers in their own tree
    n_dropped: int = 0  # events left out for NaN/Inf inputs (non_finite="drop")

    def __post_init__(self) -> None:
        self.X = np.asarray(self.X)
        if self.X.ndim != 3:
            raise DataError(f"Dataset.X must have shape (N, T, F), not {self.X.shape}")
        n, t, f = self.X.shape
        self.y = np.asarray(self.y, dtype=np.int64)
        self.weights = np.asarray(self.weights, dtype=np.float64)
        for name in ("y", "weights"):
            if getattr(self, name).shape != (n,):
                raise DataError(
                    f"Dataset.{name} must have shape ({n},), not {getattr(self, name).shape}"
                )
        if (self.mask is None) != (self.lengths is None):
            raise DataError("Dataset.mask and Dataset.lengths come together (jagged layout)")
        if self.mask is not None:
            self.mask = np.asarray(self.mask, dtype=bool)
            self.lengths = np.asarray(self.lengths, dtype=np.int64)
            if self.mask.shape != (n, t) or self.lengths.shape != (n,):
                raise DataError(
                    f"Dataset.mask must be ({n}, {t}) and lengths ({n},), not "
                    f"{self.mask.shape} and {self.lengths.shape}"
                )
        if self.variable_names is None:
            self.variable_names = [f"x[{j}][{k}]" for j in range(t) for k in range(f)]
        self.variable_names = list(self.variable_names)
        if len(self.variable_names) != t * f:
            raise DataError(
                f"Dataset has T*F = {t * f} variables but {len(self.variable_names)} variable names"
            )
        if self.entries is not None:
            self.entries = np.asarray(self.entries, dtype=np.int64)
            if self.entries.shape != (n,):
                raise DataError(f"Dataset.entries must have shape ({n},)")

    def __len__(self) -> int:
        return self.X.shape[0]

    def __repr__(self) -> str:
        n, t, f = self.X.shape
        counts = f"signal={int(np.sum(self.y == 1))}, background={int(np.sum(self.y == 0))}"
        if np.any(self.y < 0):
            counts += f", unlabelled={int(np.sum(self.y < 0))}"
        masked = ", masked" if self.mask is not None else ""
        return (
            f"Dataset(N={n}, T={t}, F={f}, {counts}, dtype={self.X.dtype}{masked}, "
            f"source={self.source!r})"
        )

    @property
    def n_steps(self) -> int:
        """T."""
        return self.X.shape[1]

    @property
    def n_features(self) -> int:
        """F."""
        return self.X.shape[2]

    def subset(self, index: Any) -> Dataset:
        """The events selected by ``index`` (integer array, boolean mask or slice)."""
        if isinstance(index, (int, np.integer)):
            index = [index]
        return Dataset(
            X=self.X[index],
            y=self.y[index],
            weights=self.weights[index],
            mask=None if self.mask is None else self.mask[index],
            lengths=None if self.lengths is None else self.lengths[index],
            variable_names=self.variable_names,
            source=self.source,
            entries=None if self.entries is None else self.entries[index],
        )

    @classmethod
    def concat(cls, datasets: Sequence[Dataset]) -> Dataset:
        """Join datasets of the same ``(T, F)``, variable names and masking, in order."""
        datasets = list(datasets)
        if not datasets:
            raise DataError("Dataset.concat needs at least one dataset")
        first = datasets[0]
        for d in datasets[1:]:
            if d.X.shape[1:] != first.X.shape[1:]:
                raise DataError(
                    f"cannot join datasets of (T, F) = {first.X.shape[1:]} from "
                    f"'{first.source}' and {d.X.shape[1:]} from '{d.source}'; every source "
                    "must have the same sequence layout"
                )
            if d.variable_names != first.variable_names:
                raise DataError(
                    f"cannot join datasets with different variable names ('{first.source}': "
                    f"{first.variable_names[0]}..., '{d.source}': {d.variable_names[0]}...)"
                )
            if (d.mask is None) != (first.mask is None):
                raise DataError("cannot join a masked (jagged) dataset with an unmasked one")
        if len(datasets) == 1:
            return first
        sources = list(dict.fromkeys(d.source for d in datasets if d.source))
        masked = first.mask is not None
        with_entries = all(d.entries is not None for d in datasets)
        return cls(
            X=np.concatenate([d.X for d in datasets]),
            y=np.concatenate([d.y for d in datasets]),
            weights=np.concatenate([d.weights for d in datasets]),
            mask=np.concatenate([d.mask for d in datasets]) if masked else None,
            lengths=np.concatenate([d.lengths for d in datasets]) if masked else None,
            variable_names=first.variable_names,
            source="; ".join(sources),
            entries=np.concatenate([d.entries for d in datasets]) if with_entries else None,
        )


# --------------------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _TreeRef:
    path: str
    tree: str | None  # None: the file's only TTree

    def __str__(self) -> str:
        return f"{self.path}:{self.tree}" if self.tree else self.path


def _is_remote(path: str) -> bool:
    return "://" in path and not path.lower().startswith(("file:", "local:"))


def _expand(path: str, tree: str | None) -> list[_TreeRef]:
    if _is_remote(path):
        return [_TreeRef(path, tree)]
    expanded = os.path.expanduser(path)
    if _GLOB_CHARS.search(expanded) and not os.path.exists(expanded):
        matches = sorted(glob.glob(expanded))
        if not matches:
            raise InputFileError(
                f"no file matches the pattern '{path}'; check the folder and the pattern"
            )
        return [_TreeRef(m, tree) for m in matches]
    return [_TreeRef(expanded, tree)]


def _resolve_sources(sources: Source) -> list[_TreeRef]:
    """uproot's source forms → a list of (file, tree) references, globs expanded."""
    refs: list[_TreeRef] = []
    if isinstance(sources, os.PathLike):
        refs += _expand(os.fspath(sources), None)
    elif isinstance(sources, str):
        m = _OBJECT_IN_PATH.match(sources.strip())
        if m:
            tree = re.sub(r"/+", "/", m.group(3).strip().lstrip("/")).rstrip("/") or None
            refs += _expand(m.group(1), tree)
        else:
            refs += _expand(sources.strip(), None)
    elif isinstance(sources, Mapping):
        for path, tree in sources.items():
            if tree is not None and not isinstance(tree, str):
                raise OptionError(f"tree name for '{path}' must be a string, not {tree!r}")
            refs += _expand(os.fspath(path), tree or None)
    elif isinstance(sources, Sequence) and not isinstance(sources, (bytes, bytearray)):
        for s in sources:
            refs += _resolve_sources(s)
    else:
        raise OptionError(
            f"a source must be 'file.root:tree', a glob, a {{file: tree}} dict, a Path or a "
            f"list of these, not {sources!r}"
        )
    if not refs:
        raise InputFileError("the list of sources is empty; give at least one 'file.root:tree'")
    return refs


def _describe(sources: Source) -> str:
    if isinstance(sources, (str, os.PathLike)):
        return os.fspath(sources)
    if isinstance(sources, Mapping):
        return ", ".join(f"{os.fspath(k)}:{v}" if v else os.fspath(k) for k, v in sources.items())
    return ", ".join(_describe(s) for s in sources)


def _check_root_header(path: str) -> None:
    """Missing, not a ROOT file, or shorter than its header says → InputFileError."""
    if not os.path.exists(path):
        raise InputFileError(
            f"no such file: '{path}'; check the path (a tree is named as 'file.root:tree')"
        )
    if os.path.isdir(path):
        raise InputFileError(
            f"'{path}' is a folder, not a ROOT file; name the file, or a glob "
            "such as 'folder/*.root:tree'"
        )
    try:
        with open(path, "rb") as f:
            head = f.read(20)
    except OSError as err:
        raise InputFileError(f"cannot read '{path}': {err.strerror}") from err
    if head[:4] != b"root":
        raise InputFileError(
            f"'{path}' is not a ROOT file (it starts with {head[:4]!r}, not "
            "b'root'); give a .root file written by ROOT or uproot"
        )
    size = os.path.getsize(path)
    version = int.from_bytes(head[4:8], "big") if len(head) >= 8 else 0
    need = 20 if version >= 1000000 else 16
    end = int.from_bytes(head[12:need], "big") if len(head) >= need else None
    if end is None or size < end:
        raise InputFileError(
            f"'{path}' is truncated: {size} bytes on disk, its header says "
            f"{end if end is not None else 'more'}; copy or write the file again"
        )


class _OpenTree:
    """Context manager: the uproot TTree of a reference, with errors turned into ours."""

    def __init__(self, ref: _TreeRef) -> None:
        self.ref = ref
        self.file: Any = None

    def __enter__(self) -> tuple[Any, str]:
        import uproot

        path = self.ref.path
        if not _is_remote(path):
            _check_root_header(path)
        try:
            self.file = uproot.open(path, array_cache=None)  # stream: keep no chunk
        except FileNotFoundError as err:
            raise InputFileError(f"no such file: '{path}'; check the path") from err
        except (OSError, ValueError, uproot.deserialization.DeserializationError) as err:
            raise InputFileError(
                f"cannot open '{path}' as a ROOT file ({_first_line(err)}); "
                "it may be truncated or corrupt"
            ) from err
        try:
            return self._tree(uproot)
        except BaseException:
            self.file.close()
            raise

    def _tree(self, uproot: Any) -> tuple[Any, str]:
        path, name = self.ref.path, self.ref.tree
        try:
            classnames = self.file.classnames()
        except (OSError, ValueError, uproot.deserialization.DeserializationError) as err:
            raise InputFileError(
                f"cannot list the contents of '{path}' ({_first_line(err)}); "
                "it may be truncated or corrupt"
            ) from err
        trees = [k.rsplit(";", 1)[0] for k, c in classnames.items() if c in _TREE_CLASSES]
        trees = list(dict.fromkeys(trees))
        listing = ", ".join(trees) if trees else "none"
        if name is None:
            if len(trees) != 1:
                raise TreeNotFoundError(
                    f"'{path}' holds {len(trees)} trees ({listing}); name one as '{path}:TREE'"
                )
            name = trees[0]
        try:
            tree = self.file[name]
        except uproot.KeyInFileError as err:
            raise TreeNotFoundError(
                f"no tree '{name}' in '{path}'{close_matches(name.split(';')[0], trees)}; "
                f"trees in the file: {listing}"
            ) from err
        except (OSError, ValueError, uproot.deserialization.DeserializationError) as err:
            raise InputFileError(
                f"cannot read tree '{name}' of '{path}' ({_first_line(err)}); "
                "the file may be truncated or corrupt"
            ) from err
        if not isinstance(tree, uproot.behaviors.TTree.TTree):
            kind = getattr(tree, "classname", type(tree).__name__)
            raise TreeNotFoundError(
                f"'{name}' in '{path}' is a {kind}, not a TTree; trees in the file: {listing}"
            )
        return tree, name

    def __exit__(self, *exc: object) -> None:
        if self.file is not None:
            self.file.close()


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


# --------------------------------------------------------------------------------------
# Per-tree reading plan
# --------------------------------------------------------------------------------------


@dataclass
class _Branch:
    name: str
    jagged: bool  # AsJagged (std::vector, float[n]); else fixed (AsDtype)
    shape: tuple[int, ...]  # per-event shape of a fixed branch
    in_place: bool = False  # plain AsDtype: uproot can decompress it straight into X


@dataclass
class _Plan:
    """How to turn one tree's branches into (T, F): fixed per tree, checked across trees."""

    layout: SequenceLayout
    where: str  # "file.root:tree"
    branches: list[_Branch]
    T: int
    F: int | None  # None: per-step std::vector branches, F comes from the data

    @property
    def names(self) -> list[str]:
        return [b.name for b in self.branches]

    @property
    def library(self) -> str:
        return "ak" if any(b.jagged for b in self.branches) else "np"

    @property
    def in_place(self) -> bool:
        return self.layout.kind != "jagged" and all(b.in_place for b in self.branches)

    def fill_views(self, X: np.ndarray) -> list[np.ndarray]:
        """Views of X ``(n, T, F)`` that each branch's values go to, in branch order."""
        if self.layout.kind == "per-step":
            return [
                X[:, t, 0] if b.shape == () else X[:, t, :] for t, b in enumerate(self.branches)
            ]
        if len(self.branches[0].shape) == 1:
            return [X[:, :, 0]]  # x[T]
        return [X.transpose(0, 2, 1) if self.layout.time_axis else X]

    def variable_names(self, F: int) -> list[str]:
        layout, T = self.layout, self.T
        if layout.kind == "per-step":
            scalar = [b.shape == () and not b.jagged for b in self.branches]
            return [
                self.branches[j].name if scalar[j] else f"{self.branches[j].name}[{k}]"
                for j in range(T)
                for k in range(F)
            ]
        if layout.kind == "array":
            x = self.branches[0].name
            if len(self.branches[0].shape) == 1:
                return [f"{x}[{j}]" for j in range(T)]
            if layout.time_axis == 0:
                return [f"{x}[{j}][{k}]" for j in range(T) for k in range(F)]
            return [f"{x}[{k}][{j}]" for j in range(T) for k in range(F)]
        return [f"{b.name}[{j}]" for j in range(T) for b in self.branches]


def _branch_info(tree: Any, name: str, where: str) -> _Branch:
    import uproot

    interp = tree[name].interpretation
    numeric = (
        uproot.interpretation.numerical.AsDtype,
        uproot.interpretation.numerical.TruncatedNumerical,
    )
    jagged = isinstance(interp, uproot.interpretation.jagged.AsJagged)
    inner = interp.content if jagged else interp
    if isinstance(inner, numeric):
        dtype = np.dtype(inner.to_dtype)
        if dtype.names is None and dtype.base.kind in "biuf":
            if jagged and dtype.shape != ():
                pass  # vector of arrays: not a sequence of numbers, refused below
            else:
                shape = () if jagged else tuple(dtype.shape)
                exact = type(interp) is uproot.interpretation.numerical.AsDtype
                return _Branch(name, jagged, shape, in_place=exact)
    typename = tree[name].typename
    raise DataError(
        f"branch '{name}' in '{where}' has type {typename}; sequence layouts need numbers "
        "(float, double, int), fixed-size arrays or std::vector of them"
    )


def _missing_branch(name: str, tree: Any, where: str, hint: str = "") -> BranchNotFoundError:
    return BranchNotFoundError(
        f"no branch '{name}' in '{where}'{close_matches(name, tree.keys())}{hint}"
    )


def _make_plan(tree: Any, layout: SequenceLayout, where: str) -> _Plan:
    keys = set(tree.keys())
    if layout.kind == "per-step":
        return _per_step_plan(tree, layout, where, keys)
    if layout.kind == "array":
        name = layout.branches[0]
        if name not in keys:
            raise _missing_branch(name, tree, where)
        b = _branch_info(tree, name, where)
        if b.jagged:
            raise DataError(
                f"branch '{name}' in '{where}' is variable-length ({tree[name].typename}), but "
                f"the layout 'array:{name}' needs a fixed-size x[T][F]; use "
                f"'jagged:{name}:max=N' or 'per-step:...'"
            )
        if len(b.shape) not in (1, 2) or (len(b.shape) == 1 and layout.time_axis):
            raise DataError(
                f"branch '{name}' in '{where}' is {tree[name].typename}; the layout "
                f"'{layout}' needs a two-dimensional x[T][F] (or x[T]) array"
            )
        if len(b.shape) == 1:
            return _Plan(layout, where, [b], b.shape[0], 1)
        T, F = b.shape if layout.time_axis == 0 else b.shape[::-1]
        return _Plan(layout, where, [b], T, F)
    # jagged
    branches = []
    for name in layout.branches:
        if name not in keys:
            raise _missing_branch(name, tree, where)
        b = _branch_info(tree, name, where)
        if not b.jagged:
            raise DataError(
                f"branch '{name}' in '{where}' has a fixed size ({tree[name].typename}), but the "
                f"jagged layout needs variable-length branches; use 'array:{name}' or "
                "'per-step:...'"
            )
        branches.append(b)
    return _Plan(layout, where, branches, layout.steps, len(branches))


def _per_step_plan(tree: Any, layout: SequenceLayout, where: str, keys: set[str]) -> _Plan:
    pattern = layout.branches[0]
    placeholder = "{t}" if "{t}" in pattern else "%d"
    prefix, suffix = pattern.split(placeholder)
    regex = re.compile(re.escape(prefix) + r"(0|[1-9][0-9]*)" + re.escape(suffix))
    found = {int(m.group(1)) for k in keys if (m := regex.fullmatch(k))}
    if not found:
        raise _missing_branch(
            layout.step_branch(0), tree, where, f"; no branch matches the pattern '{pattern}'"
        )
    T = layout.steps if layout.steps is not None else max(found) + 1
    missing = [t for t in range(T) if t not in found]
    if missing:
        have = ", ".join(str(t) for t in sorted(found)[:12])
        raise DataError(
            f"time step {missing[0]} of '{pattern}' is missing in '{where}': no branch "
            f"'{layout.step_branch(missing[0])}' (steps found: {have}); add the branch or set "
            f"T={missing[0]} to use the steps before it"
        )
    branches = [_branch_info(tree, layout.step_branch(t), where) for t in range(T)]
    fixed = [b for b in branches if not b.jagged]
    for b in fixed:
        if len(b.shape) > 1:
            raise DataError(
                f"branch '{b.name}' in '{where}' is {tree[b.name].typename}; a per-step branch "
                "holds one value or a one-dimensional array per event; use 'array:...' for x[T][F]"
            )
    sizes = {b.name: (b.shape[0] if b.shape else 1) for b in fixed}
    if len(set(sizes.values())) > 1:
        (n1, s1), (n2, s2) = _two_different(sizes)
        raise DataError(
            f"per-step branches differ in length in '{where}': '{n1}' has {s1} values, "
            f"'{n2}' has {s2}; every time step needs the same features"
        )
    # std::vector branches get their F from the data, checked against the fixed ones if any
    F = next(iter(sizes.values())) if sizes else None
    return _Plan(layout, where, branches, T, F)


def _two_different(sizes: dict[str, int]) -> tuple[tuple[str, int], tuple[str, int]]:
    items = list(sizes.items())
    first = items[0]
    other = next(item for item in items if item[1] != first[1])
    return first, other


# --------------------------------------------------------------------------------------
# Chunk conversion
# --------------------------------------------------------------------------------------


def _to_sequences(
    plan: _Plan,
    arrays: Mapping[str, Any],
    n: int,
    dtype: np.dtype,
    entries: np.ndarray,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, int]:
    """Branch arrays of one chunk → X (n, T, F), mask, lengths (jagged only), F.

    ``out``, when given, is the ``(n, T, F)`` block X is written into (zero-filled for the
    jagged layout): :func:`load` fills its result in place instead of joining chunks.
    """
    if plan.layout.kind == "array":
        return _array_sequences(plan, arrays, n, dtype, out)
    if plan.layout.kind == "per-step":
        return _per_step_sequences(plan, arrays, n, dtype, entries, out)
    return _jagged_sequences(plan, arrays, n, dtype, entries, out)


def _alloc(out: np.ndarray | None, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    if out is None:
        return np.empty(shape, dtype=dtype)
    assert out.shape == shape, (out.shape, shape)
    return out


def _array_sequences(
    plan: _Plan, arrays: Mapping[str, Any], n: int, dtype: np.dtype, out: np.ndarray | None
) -> tuple[np.ndarray, None, None, int]:
    a = np.asarray(arrays[plan.branches[0].name])
    if a.ndim == 2:
        a = a[:, :, None]  # x[T] -> (n, T, 1)
    elif plan.layout.time_axis == 1:
        a = a.transpose(0, 2, 1)  # (n, F, T) -> (n, T, F)
    if out is None and a.dtype == dtype and a.flags.c_contiguous:
        return a, None, None, plan.F  # uproot's own buffer, no copy
    X = _alloc(out, (n, plan.T, plan.F), dtype)  # (N, T, F)
    X[...] = a
    return X, None, None, plan.F


def _per_step_sequences(
    plan: _Plan,
    arrays: Mapping[str, Any],
    n: int,
    dtype: np.dtype,
    entries: np.ndarray,
    out: np.ndarray | None,
) -> tuple[np.ndarray, None, None, int]:
    import awkward as ak

    F = plan.F
    columns: list[np.ndarray] = []
    for b in plan.branches:
        a = arrays[b.name]
        if b.jagged:
            counts = np.asarray(ak.num(a, axis=1))
            if F is None:
                F = int(counts[0])  # the first step's length; chunks are never empty
            bad = np.flatnonzero(counts != F)
            if bad.size:
                raise DataError(
                    f"branch '{b.name}' in '{plan.where}' has {counts[bad[0]]} values at entry "
                    f"{entries[bad[0]]} but {F} elsewhere; the per-step layout needs the same "
                    f"number of features at every step and event (use 'jagged:...' for "
                    "variable-length sequences)"
                )
            a = np.asarray(ak.flatten(a, axis=1)).reshape(n, F)
        else:
            a = np.asarray(a)
            if a.ndim == 1:
                a = a[:, None]  # scalar branch: F = 1
        columns.append(a)
    X = _alloc(out, (n, plan.T, F), dtype)  # (N, T, F)
    for t, a in enumerate(columns):
        X[:, t, :] = a  # (N, F)
    return X, None, None, F


def _jagged_sequences(
    plan: _Plan,
    arrays: Mapping[str, Any],
    n: int,
    dtype: np.dtype,
    entries: np.ndarray,
    out: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    import awkward as ak

    T, F = plan.T, plan.F
    X = np.zeros((n, T, F), dtype=dtype) if out is None else out  # (N, T, F), zero padding
    counts0 = None
    for k, b in enumerate(plan.branches):
        a = arrays[b.name]
        counts = np.asarray(ak.num(a, axis=1), dtype=np.int64)
        if counts0 is None:
            counts0, first = counts, b.name
        elif not np.array_equal(counts, counts0):
            i = int(np.flatnonzero(counts != counts0)[0])
            raise DataError(
                f"jagged branches '{first}' and '{b.name}' in '{plan.where}' differ in length at "
                f"entry {entries[i]} ({counts0[i]} vs {counts[i]} objects); the branches of one "
                "jagged layout must describe the same objects"
            )
        X[:, :, k] = ak.to_numpy(ak.fill_none(ak.pad_none(a, T, axis=1, clip=True), 0))  # (N, T)
    lengths = np.minimum(counts0, T) if counts0 is not None else np.zeros(n, np.int64)
    mask = np.arange(T) < lengths[:, None]  # (N, T)
    return X, mask, lengths, F


def _per_event(value: Any, n: int, what: str, expr: str, where: str) -> np.ndarray:
    """An expression's value → one number per event, or DataError naming the expression."""
    if np.ndim(value) == 0:
        value = np.full(n, value)
    value = np.asarray(value)
    if value.dtype == object:
        raise DataError(
            f"{what} '{expr}' gives a variable number of values per event in '{where}'; it "
            "must give one value per event"
        )
    if value.shape != (n,):
        raise DataError(
            f"{what} '{expr}' gives {value.shape[1:]} values per event in '{where}'; it must "
            "give one value per event (e.g. pick an element: x[:, 0])"
        )
    if value.dtype.kind not in "biuf":
        raise DataError(
            f"{what} '{expr}' gives {value.dtype} values in '{where}'; it must "
            "give numbers or booleans"
        )
    return value


def _check_finite(X: np.ndarray, names: list[str], entries: np.ndarray, where: str) -> None:
    if np.isfinite(X.sum(dtype=np.float64)):
        return
    bad = np.argwhere(~np.isfinite(X))
    if bad.size == 0:
        return
    i, t, k = (int(v) for v in bad[0])
    name = names[t * X.shape[2] + k]
    raise NonFiniteInputError(
        f"input '{name}' is {X[i, t, k]} at entry {entries[i]} of '{where}' "
        f"({len(np.unique(bad[:, 0]))} events affected); drop them with NonFinite=DROP "
        "(non_finite='drop'), remove them with a cut, or fix the ntuple"
    )


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
        for k, v in self.exprs.items():
            if not isinstance(v, str) or not v.strip():
                raise OptionError(f"{k} must be a non-empty expression string, not {v!r}")
        self.label = label
        self.step_size = step_size
        self.max_events = max_events
        self.dtype = dtype
        self.role = role
        self.keep_open = keep_open
        self.plans: dict[_TreeRef, _Plan] = {}
        self.num_entries: dict[_TreeRef, int] = {}
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
                    [_ALIASES[what]], aliases={_ALIASES[what]: expr}, library="np", entry_stop=stop
                )
            except uproot.KeyInFileError as err:
                key = str(err.key) if getattr(err, "key", None) is not None else str(err)
                raise BranchNotFoundError(
                    f"{what} '{expr}' uses '{key}', which is not a branch of '{where}'"
                    f"{close_matches(key, tree.keys())}"
                ) from err
            except SyntaxError as err:
                raise OptionError(
                    f"{what} '{expr}' is not a valid expression ({_first_line(err)})"
                ) from err
            except (OSError, uproot.deserialization.DeserializationError, zlib.error) as err:
                raise InputFileError(
                    f"cannot read '{where}' ({_first_line(err)}); the file may be truncated or "
                    "corrupt"
                ) from err
            except Exception as err:
                raise DataError(
                    f"{what} '{expr}' cannot be evaluated on '{where}': "
                    f"{type(err).__name__}: {_first_line(err)}"
                ) from err
            _per_event(out[_ALIASES[what]], stop, what, expr, where)

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
        aliases = {_ALIASES[k]: v for k, v in self.exprs.items()}
        library = plan.library
        # One uproot call reads layout branches and expressions when both fit library="np";
        # jagged branches need awkward, and the expressions then get their own NumPy call.
        expressions = plan.names + (list(aliases) if library == "np" else [])
        options = dict(aliases=aliases if library == "np" else None, library=library)
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
            step = tree.num_entries_for(step, expressions, aliases=options["aliases"])
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
                    list(aliases), aliases=aliases, library="np", entry_start=start, entry_stop=end
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
) -> Dataset:
    """Read a labelled dataset: signal (y = 1) first, then background (y = 0).

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
        plans = [next(iter(r.plans.values())) for r in readers]
        _check_same_layout(plans[-1], plans[0])
        in_place = cut is None and plans[0].F is not None and non_finite == "stop"
        if memmap is not None and not in_place:
            raise OptionError(
                "reading into a memory map needs every entry of the trees (no cut, no dropped "
                "events); apply the selection when making the ntuple, or read without memmap"
            )
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
    ``(N, T, F)`` block (transposed back for ``time_axis=1``); jagged: one padded ``(N, T)``
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
        return {name: X.transpose(0, 2, 1) if layout.time_axis else X}
    out = {b: X[:, :, k] for k, b in enumerate(layout.branches)}
    if data.lengths is not None:
        out["length"] = data.lengths
    return out
