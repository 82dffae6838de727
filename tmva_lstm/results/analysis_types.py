"""The TMVA-layout output file of a Multiclass or Regression job, written with uproot.

What a Factory with ``AnalysisType=Multiclass`` or ``Regression`` leaves in its output file::

    <dataset>/TestTree, <dataset>/TrainTree
        classID (int), className (string), the input variables, [targets], weight,
        <title>: the method's output, K class probabilities (Multiclass) or M target values
        (Regression) as one array branch <title>[K] (TMVA: one leaf per class or target in
        one branch; a single target is a plain <title>/F branch, as TMVA's)
    <dataset>/Method_PyLSTM/<title>/
        TrainingHistory_<title>_trainingError, _valError              TH1D per epoch
      Multiclass (MethodBase::AddMulticlassOutput -> ResultsMulticlass::CreateMulticlassHistos):
        MVA_<title>_Test_<c>_prob_for_<d>, MVA_<title>_Train_...        TH1 40 bins on
            [-0.0002, 1.0002]: the class-c probability of the events of class d, weighted,
            density-normalised (Tools::NormHist)
      Regression (MethodBase::AddRegressionOutput -> ResultsRegression::CreateDeviationHistograms),
      with P = MVA_<title>test or MVA_<title>train (TMVA's prefix, without an underscore):
        P_reg_var<i>_rtgt<j>   TH2 50 x 50: regression - target of target j vs variable i
        P_reg_tgt<i>_rtgt<j>   TH2 50 x 50: the same vs target i
        P_Quadr_Deviation_target_<j>_, P_Quadr_Dev_best90perc_target_<j>_   TH1 500 bins:
            (regression - target)^2, weighted; the second cut at the 0.9 quantile of the first

Histograms are written as TH1D/TH2D (TMVA's are TH1F/TH2F; TMVAGui reads either). Not written:
the multiclass ROC graphs ``*_rejBvsS_*`` and ``*_1v1rejBvsS_*`` (TGraph, which uproot cannot
write; the 1-vs-rest figures are in the printout and ``summary.txt``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from ..errors import DataError

__all__ = ["TypedTreeData", "write_typed_file", "multiclass_histograms", "regression_histograms"]

_F32_MAX = float(np.finfo(np.float32).max)


@dataclass
class TypedTreeData:
    """One sample: ``outputs (N, K)`` probabilities or ``(N, M)`` regression values, ``y (N,)``
    class indices (regression: zeros), ``targets (N, M)`` (regression), weights, variables."""

    outputs: np.ndarray
    y: np.ndarray
    weights: np.ndarray
    class_names: Sequence[str]
    targets: np.ndarray | None = None
    target_names: Sequence[str] = ()
    variables: Mapping[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class Hist:
    """A named histogram: ``counts`` with ``edges`` (1-d) or ``(xedges, yedges)`` (2-d)."""

    name: str
    counts: np.ndarray
    edges: tuple[np.ndarray, ...]


def _norm_hist(counts: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Tools::NormHist: divide by (sum of in-range contents x bin width)."""
    total = counts.sum()
    width = edges[1] - edges[0]
    return counts / (total * width) if total > 0 else counts


def multiclass_histograms(title: str, sample: str, data: TypedTreeData) -> list[Hist]:
    """``MVA_<title>_<sample>_<c>_prob_for_<d>``; ``sample`` is "Test" or "Train"."""
    edges = np.linspace(np.float32(-0.0002), np.float32(1.0002), 41)
    out = []
    values = np.asarray(data.outputs, dtype=np.float32)
    w = np.asarray(data.weights, dtype=np.float32).astype(np.float64)
    for d, dname in enumerate(data.class_names):
        rows = data.y == d
        for c, cname in enumerate(data.class_names):
            counts, _ = np.histogram(values[rows, c], bins=edges, weights=w[rows])
            name = f"MVA_{title}_{sample}_{cname}_prob_for_{dname}"
            out.append(Hist(name, _norm_hist(counts, edges), (edges,)))
    return out


def _quantile(counts: np.ndarray, edges: np.ndarray, prob: float) -> float:
    """TH1::GetQuantiles for one probability (in-range bins, linear within the bin)."""
    total = counts.sum()
    if total <= 0:
        return float(edges[0])
    integral = np.concatenate(([0.0], np.cumsum(counts) / total))
    nbins = len(counts)
    ibin = int(np.searchsorted(integral, prob, side="right") - 1)  # TMath::BinarySearch
    ibin = min(max(ibin, 0), nbins - 1)
    while ibin < nbins - 1 and integral[ibin + 1] == prob:
        if integral[ibin + 2] == prob:
            ibin += 1
        else:
            break
    q = edges[ibin]
    dint = integral[ibin + 1] - integral[ibin]
    if dint > 0:
        q += (edges[1] - edges[0]) * (prob - integral[ibin]) / dint
    return float(q)


def _deviation_vs(x: np.ndarray, lo: float, hi: float, dev: np.ndarray, name: str) -> Hist:
    """ResultsRegression::DeviationAsAFunctionOf: 50 x 50, unweighted, padded ranges."""
    lo, hi = np.float32(min(lo, x.min())), np.float32(max(hi, x.max()))
    eps = np.float32(abs(hi - lo) / np.float32(49))
    xe = np.linspace(lo - np.float32(1.01) * eps, hi + np.float32(1.01) * eps, 51)
    ymin, ymax = np.float32(dev.min()), np.float32(dev.max())
    eps = np.float32((ymax - ymin) / np.float32(49))
    ye = np.linspace(ymin - np.float32(1.01) * eps, ymax + np.float32(1.01) * eps, 51)
    if xe[-1] <= xe[0]:
        xe = np.linspace(xe[0] - 0.5, xe[0] + 0.5, 51)
    if ye[-1] <= ye[0]:
        ye = np.linspace(ye[0] - 0.5, ye[0] + 0.5, 51)
    counts, _, _ = np.histogram2d(x, dev, bins=(xe, ye))
    return Hist(name, counts, (xe, ye))


def regression_histograms(
    title: str, sample: str, data: TypedTreeData, var_ranges: np.ndarray, tgt_ranges: np.ndarray
) -> list[Hist]:
    """The deviation histograms with prefix ``MVA_<title><sample>`` (sample "test"/"train").

    ``var_ranges (V, 2)`` and ``tgt_ranges (M, 2)``: TMVA's VariableInfo minimum and maximum
    (over the whole data set) of each input variable and target.
    """
    prefix = f"MVA_{title}{sample}"
    reg = np.asarray(data.outputs, dtype=np.float32)
    tgt = np.asarray(data.targets, dtype=np.float32)
    dev = (reg - tgt).astype(np.float32)  # (N, M)
    x = np.concatenate([np.asarray(v, np.float32).reshape(len(reg), -1)
                        for v in data.variables.values()], axis=1) if data.variables else None  # fmt: skip
    w = np.asarray(data.weights, dtype=np.float32).astype(np.float64)
    out: list[Hist] = []
    if x is not None:
        for i in range(x.shape[1]):
            for j in range(dev.shape[1]):
                out.append(_deviation_vs(x[:, i], *var_ranges[i], dev[:, j],
                                         f"{prefix}_reg_var{i}_rtgt{j}"))  # fmt: skip
    for i in range(tgt.shape[1]):
        for j in range(dev.shape[1]):
            out.append(_deviation_vs(tgt[:, i], *tgt_ranges[i], dev[:, j],
                                     f"{prefix}_reg_tgt{i}_rtgt{j}"))  # fmt: skip
    for j in range(dev.shape[1]):
        sq = (dev[:, j] * dev[:, j]).astype(np.float32)
        xmax = float(np.float32(max(float(sq.max()), 0.0) * np.float32(1.1)))
        edges = np.linspace(0.0, xmax if xmax > 0 else 1.0, 501)
        counts, _ = np.histogram(sq, bins=edges, weights=w)
        out.append(Hist(f"{prefix}_Quadr_Deviation_target_{j}_", counts, (edges,)))
        q = _quantile(counts, edges, 0.9)
        tedges = np.linspace(0.0, float(np.float32(q) * np.float32(1.1)) or 1.0, 501)
        keep = sq <= q
        tcounts, _ = np.histogram(sq[keep], bins=tedges, weights=w[keep])
        out.append(Hist(f"{prefix}_Quadr_Dev_best90perc_target_{j}_", tcounts, (tedges,)))
    return out


def _branch_name(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name)


def _tree(file, path: str, data: TypedTreeData, title: str) -> None:
    n = len(data.y)
    names = np.asarray(list(data.class_names), dtype=object)
    cols: dict[str, np.ndarray] = {
        "classID": np.asarray(data.y, dtype=np.int32),
        "className": names[np.asarray(data.y, dtype=np.int64)].astype(str),
    }
    for name, arr in data.variables.items():
        cols[name] = np.asarray(arr, dtype=np.float32)
    if data.targets is not None:
        for j, name in enumerate(data.target_names):
            cols[_branch_name(name)] = np.asarray(data.targets[:, j], dtype=np.float32)
    cols["weight"] = np.asarray(data.weights, dtype=np.float32)
    out = np.asarray(data.outputs, dtype=np.float32).reshape(n, -1)
    cols[title] = out[:, 0] if out.shape[1] == 1 and data.targets is not None else out
    if len(set(cols)) != len(cols):
        raise DataError(f"branch names clash in the output tree: {list(cols)}")
    types = {k: ("string" if k == "className" else (v.dtype if v.ndim == 1 else
                 np.dtype((v.dtype, v.shape[1:])))) for k, v in cols.items()}  # fmt: skip
    tree = file.mktree(path, types)
    tree.extend(cols)


def write_typed_file(
    path: str | os.PathLike[str],
    *,
    title: str,
    test: TypedTreeData,
    train: TypedTreeData,
    dataset: str = "dataset",
    method_type: str = "PyLSTM",
    history: Mapping[str, Sequence[float]] | None = None,
) -> Path:
    """Write the Multiclass or Regression output file (see the module docstring)."""
    import uproot

    path = Path(path)
    method_dir = f"{dataset}/Method_{method_type}/{title}"
    hists: list[Hist] = []
    for key, values in (history or {}).items():
        y = np.asarray(values, dtype=np.float64)
        if y.size:
            name = f"TrainingHistory_{title}_{key}"
            hists.append(Hist(name, y, (np.arange(y.size + 1) + 0.5,)))
    if test.targets is None:
        hists += multiclass_histograms(title, "Test", test)
        hists += multiclass_histograms(title, "Train", train)
    else:
        both = [test, train]

        def ranges(arrays):
            a = np.concatenate([np.asarray(x, np.float32).reshape(len(x), -1) for x in arrays])
            return np.stack([a.min(axis=0), a.max(axis=0)], axis=1)

        var_ranges = (
            ranges([np.concatenate([np.asarray(v, np.float32).reshape(len(d.y), -1)
                                    for v in d.variables.values()], axis=1) for d in both])
            if test.variables else None
        )  # fmt: skip
        tgt_ranges = ranges([d.targets for d in both])
        hists += regression_histograms(title, "test", test, var_ranges, tgt_ranges)
        hists += regression_histograms(title, "train", train, var_ranges, tgt_ranges)
    with atomic_path(path) as tmp, uproot.recreate(tmp) as f:
        for h in hists:
            f[f"{method_dir}/{h.name}"] = (h.counts, *h.edges)
        _tree(f, f"{dataset}/TestTree", test, title)
        _tree(f, f"{dataset}/TrainTree", train, title)
    return path
