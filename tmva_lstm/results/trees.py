"""``TestTree``/``TrainTree`` as ``DataSet::GetTree`` writes them.

Branches, in the Factory's order::

    classID    /I  TMVA's class number: 0 = "Signal", 1 = "Background"
    className  /C  the class name (uproot writes a TLeafC, as TMVA does)
    <variable> /F  AddVariable("x"): one scalar branch "x/F";
    <array>[k] /F  AddVariablesArray("vars_time0", 30): ONE branch "vars_time0[30]/F"
                   (the internal names vars_time0[0..29] with "[0]" removed, then "[size]")
    <spectator>/F  AddSpectator("x"): one scalar branch per spectator
    weight     /F
    <Title>    /F  the classifier response, named by the method title
    prob_<Title>/F with CreateMVAPdfs: the signal probability (MethodBase::GetProba)

How each of our sequence layouts maps onto TMVA's declarations (what a physicist would book
in a Factory for the same tree, and therefore what the Factory would write):

* ``per-step:vars_time{t}`` with F features per step: ``AddVariablesArray("vars_time<t>", F)``
  for each step t, so T array branches ``vars_time<t>[F]`` (F = 1 and scalar branches:
  ``AddVariable("vars_time<t>")``, T scalar branches);
* ``array:x`` (one ``x[A][B]`` branch): ``AddVariablesArray("x", A*B)``, one flat branch
  ``x[A*B]`` in the branch's own element order (TMVA has no 2-D variable arrays);
* ``jagged:trk_pt,trk_eta:max=M``: ``AddVariablesArray("trk_pt", M)`` per branch (padded with
  0 beyond each event's length) and the sequence length as a spectator ``length``.

**Class numbering.** TMVA numbers classes in the order they are added; the tutorials call
``AddSignalTree`` first, so ``classID`` is 0 for signal and 1 for background
(``DataSetInfo::AddClass``). tmva_lstm's labels are the other way round (1 = signal), so
:class:`TreeData` takes our labels and writes ``classID = 1 - label``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..errors import DataError, OptionError

__all__ = ["CLASS_NAMES", "TreeData", "VariableInfo", "split_time_steps"]

#: TMVA's class names, indexed by classID (signal tree added first).
CLASS_NAMES: tuple[str, str] = ("Signal", "Background")

#: DataSet::GetTree stores the class name in a char[40].
_CLASSNAME_MAX = 39

#: Rows per TTree basket when writing (keeps a basket far below ROOT's 1 GiB limit).
_MAX_BASKET_BYTES = 32 * 1024 * 1024


def check_name(kind: str, name: str) -> str:
    """A name usable as a ROOT object or branch name (no '/', ';', surrounding blanks)."""
    if not isinstance(name, str) or not name or "/" in name or ";" in name or name != name.strip():
        raise OptionError(f"{kind} {name!r} is not usable as a ROOT name (no '/', ';', blanks)")
    return name


@dataclass(frozen=True)
class VariableInfo:
    """One TMVA input variable (``TMVA::VariableInfo``): as the Factory names it.

    ``expression`` is what was declared (``vars_time0``), ``internal`` the per-element name
    (``vars_time0[3]`` for an array element, else the expression), ``title`` TMVA's title
    (``[3]`` for an array element: AddVariablesArray's empty title plus ``[i]``; else the
    expression). ``branch``/``column`` locate its values in :attr:`TreeData.variables`.
    """

    expression: str
    internal: str
    title: str
    branch: str
    column: int | None  # None: a scalar branch


@dataclass(eq=False)
class TreeData:
    """One sample (test or training) as it goes into ``TestTree``/``TrainTree``.

    ``labels`` use tmva_lstm's convention (1 signal, 0 background); :attr:`class_id` gives
    TMVA's (0 signal, 1 background). ``variables`` maps a branch name to an array of shape
    ``(N,)`` (a scalar ``name/F`` branch, ``AddVariable``) or ``(N, k, ...)`` (one flat
    ``name[k...]/F`` array branch, ``AddVariablesArray``); :func:`split_time_steps` turns an
    ``(N, T, F)`` array into per-step branches ``vars_time0 ... vars_time{T-1}``.
    ``spectators`` maps a name to ``(N,)`` values written as ``AddSpectator`` branches (not
    input variables: no histograms, no correlations). Weights default to 1.
    """

    scores: np.ndarray
    labels: np.ndarray
    weights: np.ndarray | None = None
    variables: Mapping[str, np.ndarray] = field(default_factory=dict)
    class_names: tuple[str, str] = CLASS_NAMES  # indexed by classID
    spectators: Mapping[str, np.ndarray] = field(default_factory=dict)
    probabilities: np.ndarray | None = None  # CreateMVAPdfs: GetProba per event (prob_<T>)

    def __post_init__(self) -> None:
        self.scores = np.asarray(self.scores)
        self.labels = np.asarray(self.labels)
        n = self.scores.shape[0] if self.scores.ndim == 1 else -1
        if n < 0:
            raise DataError(f"scores must be one-dimensional, got shape {self.scores.shape}")
        if self.labels.shape != (n,):
            raise DataError(f"labels have shape {self.labels.shape}, expected ({n},)")
        ok = (self.labels == 0) | (self.labels == 1)
        if not np.all(ok):
            raise DataError("labels must be 1 (signal) or 0 (background)")
        if self.weights is not None:
            self.weights = np.asarray(self.weights)
            if self.weights.shape != (n,):
                raise DataError(f"weights have shape {self.weights.shape}, expected ({n},)")
        flat: dict[str, np.ndarray] = {}
        for name, arr in self.variables.items():
            a = np.asarray(arr)
            if a.ndim < 1 or a.shape[0] != n or (a.ndim > 1 and a[0].size == 0):
                raise DataError(
                    f"variable {name!r} has shape {a.shape}; expected ({n},) or ({n}, k) "
                    "(split (N, T, F) sequences with split_time_steps, or pass them whole "
                    "for one flat array branch)"
                )
            flat[name] = a.reshape(n, -1) if a.ndim > 2 else a  # AddVariablesArray is 1-D
        self.variables = flat
        spect: dict[str, np.ndarray] = {}
        for name, arr in self.spectators.items():
            a = np.asarray(arr)
            if a.shape != (n,):
                raise DataError(f"spectator {name!r} has shape {a.shape}, expected ({n},)")
            spect[name] = a
        self.spectators = spect
        if self.probabilities is not None:
            self.probabilities = np.asarray(self.probabilities)
            if self.probabilities.shape != (n,):
                raise DataError(
                    f"probabilities have shape {self.probabilities.shape}, expected ({n},)"
                )
        if len(self.class_names) != 2 or any(
            not c or len(c.encode()) > _CLASSNAME_MAX for c in self.class_names
        ):
            raise DataError(f"class_names must be two names of 1-{_CLASSNAME_MAX} bytes")

    def __len__(self) -> int:
        return int(self.scores.shape[0])

    @property
    def class_id(self) -> np.ndarray:
        """TMVA's classID per event: 0 for signal (label 1), 1 for background (label 0)."""
        return np.where(self.labels == 1, 0, 1).astype(np.int32)

    @property
    def event_weights(self) -> np.ndarray:
        if self.weights is None:
            return np.ones(len(self), dtype=np.float32)
        return self.weights.astype(np.float32)

    def variable_infos(self) -> list[VariableInfo]:
        """TMVA's variables in declaration order (``DataSetInfo::GetVariableInfos``)."""
        out = []
        for name, a in self.variables.items():
            if a.ndim == 1:
                out.append(VariableInfo(name, name, name, name, None))
            else:
                out += [
                    VariableInfo(name, f"{name}[{i}]", f"[{i}]", name, i) for i in range(a.shape[1])
                ]
        return out

    def variable_matrix(self) -> np.ndarray:
        """All input variables as one ``(N, n_variables)`` float32 matrix, in TMVA's order."""
        cols = [a.reshape(len(self), -1) for a in self.variables.values()]
        if not cols:
            return np.zeros((len(self), 0), dtype=np.float32)
        return np.concatenate(cols, axis=1).astype(np.float32, copy=False)


def split_time_steps(x: np.ndarray, prefix: str = "vars_time") -> dict[str, np.ndarray]:
    """``(N, T, F)`` -> ``{"vars_time0": (N, F), ...}``: TMVA's ``AddVariablesArray`` layout."""
    x = np.asarray(x)
    if x.ndim != 3:
        raise DataError(f"expected an (N, T, F) array, got shape {x.shape}")
    return {f"{prefix}{t}": x[:, t, :] for t in range(x.shape[1])}


def tree_columns(data: TreeData, title: str) -> tuple[dict[str, object], dict[str, np.ndarray]]:
    """Branch types and columns of ``DataSet::GetTree``, in its order."""
    types: dict[str, object] = {"classID": np.int32, "className": "string"}
    cols: dict[str, np.ndarray] = {
        "classID": data.class_id,
        "className": np.asarray(data.class_names)[data.class_id],
    }
    reserved = {"classID", "className", "weight", title, f"prob_{title}"}
    seen: set[str] = set()
    for kind, mapping in (("variable", data.variables), ("spectator", data.spectators)):
        for name, arr in mapping.items():
            check_name(kind, name)
            if name in reserved or name in seen:
                raise DataError(f"{kind} name {name!r} clashes with a branch of the same name")
            seen.add(name)
            a = np.asarray(arr, dtype=np.float32)
            types[name] = np.float32 if a.ndim == 1 else np.dtype((np.float32, (a.shape[1],)))
            cols[name] = a
    types["weight"] = np.float32
    cols["weight"] = data.event_weights
    types[title] = np.float32
    cols[title] = np.asarray(data.scores, dtype=np.float32)
    if data.probabilities is not None:  # results map order: "<T>" < "prob_<T>"
        types[f"prob_{title}"] = np.float32
        cols[f"prob_{title}"] = np.asarray(data.probabilities, dtype=np.float32)
    return types, cols


def write_tree(file, path: str, name: str, data: TreeData, title: str) -> None:
    """Write one tree with uproot into the open ``file`` at ``path``."""
    types, cols = tree_columns(data, title)
    tree = file.mktree(path, types, title=name)
    row_bytes = max(4, max(c.itemsize * int(np.prod(c.shape[1:])) for c in cols.values()))
    step = max(1, _MAX_BASKET_BYTES // row_bytes)
    for start in range(0, len(data), step):
        tree.extend({k: v[start : start + step] for k, v in cols.items()})
