"""Results in TMVA's own layout: the output ROOT file, the ROC plot and the text summary.

The file written by :func:`write_tmva_file` mirrors what ``Factory::EvaluateAllMethods`` and
``MethodBase::WriteEvaluationHistosToFile`` leave in a Factory's output file, so that
``TMVA::TMVAGui("file.root")`` and scripts that read ``dataset/Method_<Type>/<Title>/...``
work unchanged::

    <dataset>/TestTree, <dataset>/TrainTree          (TTree, from DataSet::GetTree)
        classID    /I  TMVA's class number: 0 = "Signal", 1 = "Background"
        className  /C  the class name (uproot writes a TLeafC, as TMVA does)
        <variable> /F  one branch per scalar variable; an array variable such as
                       vars_time0 of 30 floats is ONE branch "vars_time0[30]/F"
        weight     /F
        <Title>    /F  the classifier response, named by the method title
    <dataset>/Method_<Type>/<Title>/
        TrainingPath, WeightFileName     TObjString (only when a weight file is named)
        TrainingHistory_<Title>_<key>    TH1D per history curve (trainingError, valError)
        MVA_<Title>_S, _B, _S_high, _B_high, _effS, _effB, _effBvsS, _rejBvsS,
        _invBeffvsSeff, _Train_S, _Train_B, _trainingEffS, _trainingEffB,
        _trainingEffBvsS, _trainingRejBvsS    TH1D, binned as TMVA bins them
                                              (see tmva_lstm.evaluate)

**Class numbering.** TMVA numbers classes in the order they are added; the tutorials call
``AddSignalTree`` first, so ``classID`` is 0 for signal and 1 for background
(``DataSetInfo::AddClass``). tmva_lstm's labels are the other way round (1 = signal), so
:class:`TreeData` takes our labels and writes ``classID = 1 - label``.

Every file is written atomically: to a temporary file in the target directory, then
``os.replace``. A failure leaves any previous file untouched and no temporary behind.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .atomic import atomic_path
from .errors import DataError, DependencyError, OptionError
from .evaluate import Evaluation, Hist1D, evaluate

__all__ = [
    "CLASS_NAMES",
    "TreeData",
    "plot_roc",
    "split_time_steps",
    "write_summary",
    "write_tmva_file",
]

#: TMVA's class names, indexed by classID (signal tree added first).
CLASS_NAMES: tuple[str, str] = ("Signal", "Background")

#: DataSet::GetTree stores the class name in a char[40].
_CLASSNAME_MAX = 39

#: TMVA's property names for the epoch curves MethodDL records (TrainingHistory::SaveHistory).
_HISTORY_ALIASES = {
    "trainingError": "trainingError",
    "training_error": "trainingError",
    "train_loss": "trainingError",
    "train": "trainingError",
    "loss": "trainingError",
    "valError": "valError",
    "val_error": "valError",
    "val_loss": "valError",
    "validation_loss": "valError",
    "val": "valError",
}

#: Rows per TTree basket when writing (keeps a basket far below ROOT's 1 GiB limit).
_MAX_BASKET_BYTES = 32 * 1024 * 1024


@dataclass(eq=False)
class TreeData:
    """One sample (test or training) as it goes into ``TestTree``/``TrainTree``.

    ``labels`` use tmva_lstm's convention (1 signal, 0 background); :attr:`class_id` gives
    TMVA's (0 signal, 1 background). ``variables`` maps a branch name to an array of shape
    ``(N,)`` (a ``name/F`` branch) or ``(N, k)`` (one ``name[k]/F`` array branch);
    :func:`split_time_steps` turns an ``(N, T, F)`` sequence array into TMVA's per-time-step
    branches ``vars_time0 ... vars_time{T-1}``. Weights default to 1.
    """

    scores: np.ndarray
    labels: np.ndarray
    weights: np.ndarray | None = None
    variables: Mapping[str, np.ndarray] = field(default_factory=dict)
    class_names: tuple[str, str] = CLASS_NAMES  # indexed by classID

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
        for name, arr in self.variables.items():
            a = np.asarray(arr)
            if a.ndim not in (1, 2) or a.shape[0] != n:
                raise DataError(
                    f"variable {name!r} has shape {a.shape}; expected ({n},) or ({n}, k) "
                    "(split (N, T, F) sequences with split_time_steps)"
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


def split_time_steps(x: np.ndarray, prefix: str = "vars_time") -> dict[str, np.ndarray]:
    """``(N, T, F)`` -> ``{"vars_time0": (N, F), ...}``: TMVA's ``AddVariablesArray`` layout."""
    x = np.asarray(x)
    if x.ndim != 3:
        raise DataError(f"expected an (N, T, F) array, got shape {x.shape}")
    return {f"{prefix}{t}": x[:, t, :] for t in range(x.shape[1])}


# ---- atomic writing ----------------------------------------------------------------------


_atomic = atomic_path  # the one atomic writer of the package (tmva_lstm.atomic)


# ---- the TMVA output file ----------------------------------------------------------------


def _check_name(kind: str, name: str) -> str:
    if not isinstance(name, str) or not name or "/" in name or ";" in name or name != name.strip():
        raise OptionError(f"{kind} {name!r} is not usable as a ROOT name (no '/', ';', blanks)")
    return name


def _th1d(h: Hist1D):
    """An uproot-writable TH1D from a :class:`Hist1D`."""
    from uproot.writing.identify import to_TAxis, to_TH1x

    tsumw, tsumw2, tsumwx, tsumwx2 = h.stats
    sumw2 = np.zeros(0) if h.sumw2 is None else np.asarray(h.sumw2, dtype=np.float64)
    return to_TH1x(
        h.name,
        h.title,
        np.asarray(h.contents, dtype=np.float64),
        float(h.entries),
        tsumw,
        tsumw2,
        tsumwx,
        tsumwx2,
        sumw2,
        to_TAxis("xaxis", h.x_title, h.nbins, float(h.xmin), float(h.xmax)),
        to_TAxis("yaxis", h.y_title, 1, 0.0, 1.0),
        to_TAxis("zaxis", "", 1, 0.0, 1.0),
    )


def _history_hists(history: Mapping[str, Sequence[float]], title: str) -> list[Hist1D]:
    """``TrainingHistory::SaveHistory``: one TH1D per curve, bin i = epoch i (1-based)."""
    out: dict[str, Hist1D] = {}
    for key, values in history.items():
        prop = _HISTORY_ALIASES.get(key, key)
        _check_name("history key", prop)
        y = np.asarray(values, dtype=np.float64).ravel()
        n = y.size
        if n == 0:
            continue
        # Stages are the epochs 1..n, so TMVA's bin size (xMax - xMin)/(n - 1) is 1 and the
        # axis runs from 0.5 to n + 0.5 (for n = 1 TMVA divides 0 by 0; we keep width 1).
        name = f"TrainingHistory_{title}_{prop}"
        contents = np.concatenate(([0.0], y, [0.0]))
        out[prop] = Hist1D(name, name, 0.5, n + 0.5, contents, None, float(n))
    return [out[k] for k in sorted(out)]  # TMVA iterates a std::map: alphabetical


def _tree_columns(data: TreeData, title: str) -> tuple[dict[str, object], dict[str, np.ndarray]]:
    types: dict[str, object] = {"classID": np.int32, "className": "string"}
    cols: dict[str, np.ndarray] = {
        "classID": data.class_id,
        "className": np.asarray(data.class_names)[data.class_id],
    }
    reserved = {"classID", "className", "weight", title}
    for name, arr in data.variables.items():
        _check_name("variable", name)
        if name in reserved:
            raise DataError(f"variable name {name!r} clashes with a TMVA branch of the same name")
        a = np.asarray(arr, dtype=np.float32)
        types[name] = np.float32 if a.ndim == 1 else np.dtype((np.float32, (a.shape[1],)))
        cols[name] = a
    types["weight"] = np.float32
    cols["weight"] = data.event_weights
    types[title] = np.float32
    cols[title] = np.asarray(data.scores, dtype=np.float32)
    return types, cols


def _write_tree(file, path: str, name: str, data: TreeData, title: str) -> None:
    types, cols = _tree_columns(data, title)
    tree = file.mktree(path, types, title=name)
    row_bytes = max(4, max(c.itemsize * int(np.prod(c.shape[1:])) for c in cols.values()))
    step = max(1, _MAX_BASKET_BYTES // row_bytes)
    for start in range(0, len(data), step):
        tree.extend({k: v[start : start + step] for k, v in cols.items()})


def write_tmva_file(
    path: str | os.PathLike[str],
    *,
    title: str,
    method_type: str = "PyLSTM",
    dataset: str = "dataset",
    test: TreeData,
    train: TreeData,
    history: Mapping[str, Sequence[float]] | None = None,
    weight_file_name: str | None = None,
) -> Evaluation:
    """Write a TMVA-layout output file with uproot; return the :class:`Evaluation` in it.

    ``title`` is the method title (branch ``<title>`` in the trees, directory
    ``<dataset>/Method_<method_type>/<title>/``, histograms ``MVA_<title>_*``). ``history``
    maps a curve name to one value per epoch; ``train_loss``/``loss`` are written as
    TMVA's ``trainingError`` and ``val_loss`` as ``valError``, other keys as they are.
    ``TrainingPath`` (the working directory) and ``WeightFileName`` are written, as
    TObjString, when ``weight_file_name`` is given (TMVA writes them with ModelPersistence).
    """
    import uproot

    for kind, name in (("title", title), ("method_type", method_type), ("dataset", dataset)):
        _check_name(kind, name)
    evaluation = evaluate(
        test.scores, test.labels, test.weights, train.scores, train.labels, train.weights
    )
    method_dir = f"{dataset}/Method_{method_type}/{title}"
    hists = _history_hists(history, title) if history else []
    hists += evaluation.tmva_histograms(title)
    with _atomic(path) as tmp, uproot.recreate(tmp) as f:
        if weight_file_name is not None:
            f[f"{method_dir}/TrainingPath"] = os.getcwd()
            f[f"{method_dir}/WeightFileName"] = str(weight_file_name)
        for h in hists:
            f[f"{method_dir}/{h.name}"] = _th1d(h)
        _write_tree(f, f"{dataset}/TestTree", "TestTree", test, title)
        _write_tree(f, f"{dataset}/TrainTree", "TrainTree", train, title)
    return evaluation


def write_summary(
    path: str | os.PathLike[str], evaluation: Evaluation, *, title: str, dataset: str = "dataset"
) -> Path:
    """Write :meth:`Evaluation.summary` (TMVA's evaluation printout) to a text file."""
    with _atomic(path) as tmp:
        tmp.write_text(evaluation.summary(title, dataset), encoding="utf-8")
    return Path(path)


# ---- the ROC plot --------------------------------------------------------------------------


def _thin(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop repeated points and the inner points of straight runs (the curve is unchanged)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.size < 3:
        return x, y
    moved = np.concatenate(([True], (np.diff(x) != 0) | (np.diff(y) != 0)))
    x, y = x[moved], y[moved]
    if x.size < 3:
        return x, y
    dx1, dy1 = x[1:-1] - x[:-2], y[1:-1] - y[:-2]
    dx2, dy2 = x[2:] - x[1:-1], y[2:] - y[1:-1]
    bend = dx1 * dy2 - dy1 * dx2 != 0
    keep = np.concatenate(([True], bend, [True]))
    return x[keep], y[keep]


def plot_roc(
    path_stem: str | os.PathLike[str],
    curves: Sequence[tuple[str, np.ndarray, np.ndarray]],
    *,
    title: str = "Signal efficiency vs. Background rejection",
    formats: Sequence[str] = ("png", "pdf"),
) -> list[Path]:
    """Plot background rejection against signal efficiency; write ``<stem>.png`` and ``.pdf``.

    ``curves`` holds ``(label, eff_s, rej_b)`` triples, e.g. from
    :func:`tmva_lstm.evaluate.roc_curve` on the test and training samples. A curve whose
    label contains "train" is drawn dashed. Axis titles follow ``Factory::GetROCCurve``.
    Uses matplotlib's Agg canvas directly (no pyplot, no display). Returns the paths.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise DependencyError("plotting needs matplotlib: pip install 'tmva-lstm[plot]'") from exc
    if not curves:
        raise DataError("plot_roc needs at least one curve")

    fig = Figure(figsize=(6.4, 5.2), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
    for i, (label, eff_s, rej_b) in enumerate(curves):
        x, y = _thin(eff_s, rej_b)
        style = "--" if "train" in label.lower() else "-"
        ax.plot(x, y, style, color=colours[i % len(colours)], lw=1.8, label=label)
    ax.plot([0, 1], [1, 0], ":", color="0.6", lw=1, label="random guess")
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.02)
    ax.set_xlabel("Signal efficiency (Sensitivity)")
    ax.set_ylabel("Background rejection (Specificity)")
    ax.set_title(title)
    ax.grid(True, alpha=0.35)
    ax.legend(loc="lower left", frameon=True)
    fig.tight_layout()

    written = []
    stem = Path(path_stem)
    for fmt in formats:
        target = stem.with_name(f"{stem.name}.{fmt}")
        with _atomic(target) as tmp:
            fig.savefig(tmp, format=fmt)
        written.append(target)
    return written
