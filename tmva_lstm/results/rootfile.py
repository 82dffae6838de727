"""The TMVA-layout output file, written with uproot.

What ``Factory::WriteDataInformation``, ``Factory::EvaluateAllMethods`` and
``MethodBase::WriteEvaluationHistosToFile`` leave in a Factory's output file, so that
``TMVA::TMVAGui("file.root")`` finds every object its buttons read, and scripts that read
``dataset/Method_<Type>/<Title>/...`` work unchanged::

    <dataset>/CorrelationMatrixS, CorrelationMatrixB    TH2F  (button 3)
    <dataset>/InputVariables_Id/<var>__Signal_Id, ...   TH1F  (button 1a)
    <dataset>/InputVariables_Id/CorrelationPlots/       TH2F scat_*, TProfile prof_*  (2a;
                                                        only for <= 20 variables, TMVA's rule)
    <dataset>/Method_<Type>/<Title>/
        TrainingPath, WeightFileName     TObjString (only when a weight file is named)
        TrainingHistory_<Title>_<key>    TH1D per history curve (trainingError, valError)  (8)
        MVA_<Title>_S, _B, _Train_S, _Train_B               TH1D, 40 bins   (4a, 4b)
        MVA_<Title>_S_high, _B_high, _effS, _effB, ...      TH1D, 10000 bins
        MVA_<Title>_effBvsS, _rejBvsS, _invBeffvsSeff, ...  TH1D, 100 bins  (5)
        MVA_<Title>_Proba_S/_B, _Rarity_S/_B          TH1F, 40 bins  (4c, 4d; CreateMVAPdfs)
        <Type>_tr_S/_B, ..._smoothed_hist_from_spline2  TH1F  (7; CreateMVAPdfs)
    <dataset>/TestTree, <dataset>/TrainTree    TTree  (6; see :mod:`tmva_lstm.results.trees`)

The binning of each object is documented where it is computed:
:mod:`tmva_lstm.results.variables` and :mod:`tmva_lstm.evaluation`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np

from ..atomic import atomic_path
from ..evaluate import Evaluation, evaluate
from ..evaluation.histograms import Hist1D, Hist2D, Profile1D
from .trees import TreeData, check_name, write_tree
from .variables import correlation_matrices, input_variable_histograms, scatter_plots

__all__ = ["history_histograms", "write_tmva_file"]

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


# ---- uproot objects ----------------------------------------------------------------------


def _axis(name: str, title: str, nbins: int, lo: float, hi: float, labels: Sequence[str] = ()):
    from uproot.writing.identify import to_TAxis, to_THashList, to_TObjString

    fLabels = None
    if labels:  # TAxis::SetBinLabel: TObjString with the bin number as unique ID
        strings = []
        for i, label in enumerate(labels, start=1):
            s = to_TObjString(label)
            s._bases[0]._members["@fUniqueID"] = i
            strings.append(s)
        fLabels = to_THashList(strings)
    return to_TAxis(name, title, nbins, float(lo), float(hi), fLabels=fLabels)


def _th1(h: Hist1D):
    """An uproot-writable TH1D (or TH1F) from a :class:`Hist1D`."""
    from uproot.writing.identify import to_TH1x

    tsumw, tsumw2, tsumwx, tsumwx2 = h.stats
    dtype = np.float32 if h.root_class == "TH1F" else np.float64
    sumw2 = np.zeros(0) if h.sumw2 is None else np.asarray(h.sumw2, dtype=np.float64)
    return to_TH1x(
        h.name,
        h.title,
        np.asarray(h.contents, dtype=dtype),
        float(h.entries),
        tsumw,
        tsumw2,
        tsumwx,
        tsumwx2,
        sumw2,
        _axis("xaxis", h.x_title, h.nbins, h.xmin, h.xmax),
        _axis("yaxis", h.y_title, 1, 0.0, 1.0),
        _axis("zaxis", "", 1, 0.0, 1.0),
    )


def _th2(h: Hist2D):
    """An uproot-writable TH2F from a :class:`Hist2D`."""
    from uproot.writing.identify import to_TH2x

    dtype = np.float32 if h.root_class == "TH2F" else np.float64
    sumw2 = np.zeros(0) if h.sumw2 is None else np.asarray(h.sumw2, dtype=np.float64).ravel()
    return to_TH2x(
        h.name,
        h.title,
        np.asarray(h.contents, dtype=dtype).ravel(),  # global bin = binx + (nx + 2) * biny
        float(h.entries),
        *(float(s) for s in h.stats),
        sumw2,
        _axis("xaxis", h.x_title, h.nx, *h.x_range, labels=h.x_labels),
        _axis("yaxis", h.y_title, h.ny, *h.y_range, labels=h.y_labels),
        _axis("zaxis", "", 1, 0.0, 1.0),
        fMinimum=h.minimum,
        fMaximum=h.maximum,
    )


def _tprofile(p: Profile1D):
    """An uproot-writable TProfile from a :class:`Profile1D`."""
    from uproot.writing.identify import to_TProfile

    return to_TProfile(
        p.name,
        p.title,
        np.asarray(p.contents, dtype=np.float64),
        float(p.entries),
        *(float(s) for s in p.stats),
        np.asarray(p.sumwy2, dtype=np.float64),
        np.asarray(p.bin_entries, dtype=np.float64),
        np.zeros(0) if p.bin_sumw2 is None else np.asarray(p.bin_sumw2, dtype=np.float64),
        _axis("xaxis", p.x_title, p.nbins, p.xmin, p.xmax),
        _axis("yaxis", p.y_title, 1, 0.0, 1.0),
        _axis("zaxis", "", 1, 0.0, 1.0),
    )


def to_uproot(obj: Hist1D | Hist2D | Profile1D):
    """The uproot-writable ROOT object for one of our histogram descriptions."""
    if isinstance(obj, Hist1D):
        return _th1(obj)
    if isinstance(obj, Hist2D):
        return _th2(obj)
    if isinstance(obj, Profile1D):
        return _tprofile(obj)
    raise TypeError(f"cannot write {type(obj).__name__}")


# ---- the file --------------------------------------------------------------------------


def history_histograms(history: Mapping[str, Sequence[float]], title: str) -> list[Hist1D]:
    """``TrainingHistory::SaveHistory``: one TH1D per curve, bin i = epoch i (1-based)."""
    out: dict[str, Hist1D] = {}
    for key, values in history.items():
        prop = _HISTORY_ALIASES.get(key, key)
        check_name("history key", prop)
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


def _put(file, directory: str, objects: Sequence, extra: Mapping[str, object] | None = None):
    """Write ``objects`` (and ``extra`` name -> value) into ``directory``, in order."""
    items = dict(extra or {})
    items.update((h.name, to_uproot(h)) for h in objects)
    if not items:
        return
    file.mkdir(directory).update(items)


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
    evaluation: Evaluation | None = None,
    ks_method: str = "auto",
    extra_histograms: Sequence[Hist1D] = (),
) -> Evaluation:
    """Write a TMVA-layout output file with uproot; return the :class:`Evaluation` in it.

    ``title`` is the method title (branch ``<title>`` in the trees, directory
    ``<dataset>/Method_<method_type>/<title>/``, histograms ``MVA_<title>_*``). ``history``
    maps a curve name to one value per epoch; ``train_loss``/``loss`` are written as
    TMVA's ``trainingError`` and ``val_loss`` as ``valError``, other keys as they are.
    ``TrainingPath`` (the working directory) and ``WeightFileName`` are written, as
    TObjString, when ``weight_file_name`` is given (TMVA writes them with ModelPersistence).
    The input-variable objects come from ``train``'s variables (none without variables).
    ``evaluation``: one already computed from the same samples (else it is computed here,
    with ``ks_method``; see :func:`tmva_lstm.evaluate.evaluate`). ``extra_histograms`` go
    into the method directory too, named as they are (e.g. :mod:`tmva_lstm.evaluation.pdfs`).
    """
    import uproot

    for kind, name in (("title", title), ("method_type", method_type), ("dataset", dataset)):
        check_name(kind, name)
    if evaluation is None:
        evaluation = evaluate(
            test.scores, test.labels, test.weights,
            train.scores, train.labels, train.weights, ks_method=ks_method,
        )  # fmt: skip
    method_dir = f"{dataset}/Method_{method_type}/{title}"
    inputs_dir = f"{dataset}/InputVariables_Id"
    hists = history_histograms(history, title) if history else []
    hists += evaluation.tmva_histograms(title)
    hists += list(extra_histograms)
    with atomic_path(path) as tmp, uproot.recreate(tmp) as f:
        # one update per directory: uproot rewrites a directory's keys on every update
        _put(f, dataset, correlation_matrices(train))
        _put(f, inputs_dir, input_variable_histograms(train))
        _put(f, f"{inputs_dir}/CorrelationPlots", scatter_plots(train))
        strings = {}
        if weight_file_name is not None:
            strings = {"TrainingPath": os.getcwd(), "WeightFileName": str(weight_file_name)}
        _put(f, method_dir, hists, strings)
        write_tree(f, f"{dataset}/TestTree", "TestTree", test, title)
        write_tree(f, f"{dataset}/TrainTree", "TrainTree", train, title)
    return evaluation
