"""The TMVA-layout output file of a Multiclass or Regression job, written with uproot.

What a Factory with ``AnalysisType=Multiclass`` or ``Regression`` leaves in its output file
(``DataSet::GetTree``, ``MethodBase::AddMulticlassOutput``/``TestMulticlass``,
``ResultsMulticlass``, ``MethodBase::AddRegressionOutput``, ``ResultsRegression``)::

    <dataset>/TestTree, <dataset>/TrainTree
        classID /I, className /C, the input variables /F, [the targets /F], weight /F,
        then the method's output. TMVA writes ONE branch <title> with one leaf per class
        (leaf list "Signal/F:ttbar/F:WJets/F") or per target ("fvalue/F:..."). uproot writes
        one leaf per branch, so we write one /F branch per leaf, named "<title>.<leaf>": the
        same names TTree::Draw("PyLSTM.Signal") and RDataFrame's columns give for TMVA's leaf
        list. A single regression target is a plain <title>/F branch (TTree::Draw("<title>")
        reads either). uproot (5.7.7) has no way to write a leaf list: in
        ``uproot/writing/_cascadetree.py``, ``Tree._build_out`` serialises every branch with
        a leaf TObjArray whose header is the constant "fSize: 1" (line 1066) and one TLeaf of
        the branch's single dtype (line 1081); a record (structured array, dict or Awkward
        record) is not written as a branch at all (lines 988, 1001) but split into one branch
        per field, named by ``mktree``'s ``field_name`` (``uproot/writing/writable.py`` line
        1793, default "<branch>_<field>").
    <dataset>/Method_PyLSTM/<title>/
        TrainingHistory_<title>_trainingError, _valError        TH1D, bin i = epoch i
      Multiclass, with P = MVA_<title>_Test and MVA_<title>_Train:
        P_<c>_prob_for_<d>      TH1F 40 bins on [-0.0002, 1.0002]: the class-c probability
                                of the events of class d, weighted, Tools::NormHist-ed
        P_rejBvsS_<c>           TGraph: the 1-vs-rest ROC curve of class c (ROCCurve::
                                GetROCCurve: x = signal efficiency, y = background rejection,
                                unbinned, N + 2 points), title P_<c>
        P_1v1rejBvsS_<c>_vs_<d> TGraph: class c against class d only, on the class-c
                                probability, title P_<c>_vs_<d>
      Regression, with P = MVA_<title>test and MVA_<title>train (TMVA's prefix, no underscore):
        P_reg_var<i>_rtgt<j>    TH2F 50 x 50: regression - target of target j vs variable i
        P_reg_tgt<i>_rtgt<j>    TH2F 50 x 50: the same vs target i
        P_Quadr_Deviation_target_<j>_, P_Quadr_Dev_best90perc_target_<j>_
                                TH1F 500 bins: (regression - target)^2, weighted; the second
                                cut at the 0.9 quantile of the first

Every ``MVA_<title>_Train_*`` object is there twice, as in TMVA's file: ``MethodBase::
TestMulticlass`` books a ``_Train`` set in the *test* Results (from the test events: the
``_Test`` set it books again is skipped, ``DoesExist``), and the Factory writes the test
Results before the training ones (``WriteEvaluationHistosToFile(kTesting)``, then
``kTraining``). So ``;1`` holds the test-event content and ``;2`` the training-event content;
``Get("name")`` and uproot's ``f["name"]`` return ``;2``.

From the training events, as ``Factory::WriteDataInformation`` (see
:func:`dataset_objects`)::

    <dataset>/CorrelationMatrix<class>                TH2F per class (Multiclass)
    <dataset>/CorrelationMatrix                       TH2F (Regression)
    <dataset>/InputVariables_Id/<var>__<class>_Id      TH1F per variable and class
    <dataset>/InputVariables_Id/<target>__Regression_Id   (``_target_Id`` for one target)
    <dataset>/InputVariables_Id/CorrelationPlots/     only for at most 20 variables and
        targets together (``fMaxNumOfAllowedVariablesForScatterPlots``):
        scat_<j>_vs_<i>_<class>_Id  TH2F 300 x 300, prof_<j>_vs_<i>_<class>_Id  TProfile 40
        bins, per pair i < j and class (Multiclass: each class name; Regression: "Regression"),
        pairs of two variables and, Regression, of two targets (``<target>`` as in the
        target's histogram name). TMVA books target-versus-variable plots too but never
        writes them (see :func:`tmva_lstm.results.variables.pair_plots`).

Not written (nor for Classification, :mod:`tmva_lstm.results.rootfile`): the variable plots
``MethodBase::WriteEvaluationHistosToFile(kTesting)`` adds to the method directory from the
test events when there are fewer than 200 variables (``fMaxNumOfAllowedVariables``;
``PlotVariables(..., BaseDir())``: ``<var>__<class>`` and a ``CorrelationPlots`` directory).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from ..errors import DataError
from ..evaluation.histograms import Hist1D, Hist2D, _find_bins, _norm_hist
from ..evaluation.roc import roc_curve

__all__ = [
    "TypedTreeData",
    "write_typed_file",
    "multiclass_histograms",
    "multiclass_roc_graphs",
    "regression_histograms",
    "output_branch_names",
    "dataset_objects",
    "dataset_variable_histograms",
]


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
class Graph:
    """A TGraph: ``x``, ``y`` points, ROOT name and title."""

    name: str
    title: str
    x: np.ndarray
    y: np.ndarray


def _f32(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float32).astype(np.float64)


def _th1f(name: str, x: np.ndarray, w: np.ndarray, nbins: int, lo: float, hi: float,
          x_title: str = "", y_title: str = "") -> Hist1D:  # fmt: skip
    """``TH1F(name, name, nbins, lo, hi)`` and ``Fill(x, w)`` per event (Sumw2 kept)."""
    b = _find_bins(x, nbins, lo, hi)
    contents = np.bincount(b, weights=w, minlength=nbins + 2)
    sumw2 = np.bincount(b, weights=w * w, minlength=nbins + 2)
    inr = (b >= 1) & (b <= nbins)
    wi, xi = w[inr], x[inr]
    stats = (float(wi.sum()), float((wi * wi).sum()), float((wi * xi).sum()),
             float((wi * xi * xi).sum()))  # fmt: skip
    contents = contents.astype(np.float32).astype(np.float64)  # TH1F stores floats
    return Hist1D(name, name, lo, hi, contents, sumw2, float(x.size), stats,
                  x_title=x_title, y_title=y_title, root_class="TH1F")  # fmt: skip


def multiclass_histograms(title: str, sample: str, data: TypedTreeData) -> list[Hist1D]:
    """``MVA_<title>_<sample>_<c>_prob_for_<d>`` (TH1F); ``sample`` is "Test" or "Train"."""
    lo, hi = float(np.float32(-0.0002)), float(np.float32(1.0002))
    values = _f32(data.outputs)
    w = _f32(data.weights)
    out = []
    for d, dname in enumerate(data.class_names):  # TMVA stores histos[d][c], d outer
        rows = data.y == d
        for c, cname in enumerate(data.class_names):
            name = f"MVA_{title}_{sample}_{cname}_prob_for_{dname}"
            # NormHist switches Sumw2 on: the sum of w^2 per bin, then scaled
            out.append(_norm_hist(_th1f(name, values[rows, c], w[rows], 40, lo, hi)))
    return out


def multiclass_roc_graphs(title: str, sample: str, data: TypedTreeData) -> list[Graph]:
    """``ResultsMulticlass::CreateMulticlassPerformanceHistos``: 1-vs-rest, then 1-vs-1."""
    prefix = f"MVA_{title}_{sample}"
    names = list(data.class_names)
    probs = _f32(data.outputs)
    w = _f32(data.weights)
    y = np.asarray(data.y)
    out = []
    for i, cname in enumerate(names):
        if (y == i).all() or not (y == i).any():
            continue  # no signal or no background: no curve (TMVA divides by zero)
        sens, spec = roc_curve(probs[:, i], (y == i).astype(np.int64), w)
        out.append(Graph(f"{prefix}_rejBvsS_{cname}", f"{prefix}_{cname}", sens, spec))
    for i, iname in enumerate(names):
        for j, jname in enumerate(names):
            rows = (y == i) | (y == j)
            if i == j or not (y == i).any() or not (y == j).any():
                continue
            sens, spec = roc_curve(probs[rows, i], (y[rows] == i).astype(np.int64), w[rows])
            out.append(Graph(f"{prefix}_1v1rejBvsS_{iname}_vs_{jname}",
                             f"{prefix}_{iname}_vs_{jname}", sens, spec))  # fmt: skip
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


def _deviation_vs(x: np.ndarray, lo: float, hi: float, dev: np.ndarray, name: str,
                  x_title: str, y_title: str) -> Hist2D:  # fmt: skip
    """ResultsRegression::DeviationAsAFunctionOf: TH2F 50 x 50, unweighted, padded ranges."""
    lo, hi = np.float32(min(lo, x.min())), np.float32(max(hi, x.max()))
    eps = np.float32(abs(hi - lo) / np.float32(49))
    xr = (float(lo - np.float32(1.01) * eps), float(hi + np.float32(1.01) * eps))
    ymin, ymax = np.float32(dev.min()), np.float32(dev.max())
    eps = np.float32((ymax - ymin) / np.float32(49))
    yr = (float(ymin - np.float32(1.01) * eps), float(ymax + np.float32(1.01) * eps))
    if xr[1] <= xr[0]:  # a constant variable: one unit around it
        xr = (xr[0] - 0.5, xr[0] + 0.5)
    if yr[1] <= yr[0]:
        yr = (yr[0] - 0.5, yr[0] + 0.5)
    x = x.astype(np.float64)
    d = dev.astype(np.float64)
    bx = _find_bins(x, 50, *xr)
    by = _find_bins(d, 50, *yr)
    contents = np.bincount(by * 52 + bx, minlength=52 * 52).reshape(52, 52).astype(np.float64)
    inr = (bx >= 1) & (bx <= 50) & (by >= 1) & (by <= 50)
    xi, yi = x[inr], d[inr]
    n = float(inr.sum())
    stats = (n, n, float(xi.sum()), float((xi * xi).sum()), float(yi.sum()),
             float((yi * yi).sum()), float((xi * yi).sum()))  # fmt: skip
    return Hist2D(name, name, xr, yr, contents, None, float(x.size), stats,
                  x_title=x_title, y_title=y_title)  # fmt: skip


def _variable_columns(data: TypedTreeData, internal: bool = False):
    """The input variables as ``(N, V)`` float32 values and TMVA's variable titles (with
    ``internal``: (internal name, title) pairs; an array element is ``name[k]``, title
    ``[k]``, as AddVariablesArray names it)."""
    cols, titles = [], []
    n = len(data.y)
    for name, arr in data.variables.items():
        a = np.asarray(arr, np.float32).reshape(n, -1)
        cols.append(a)
        if np.asarray(arr).ndim == 1:
            titles.append((name, name))
        else:
            titles += [(f"{name}[{k}]", f"[{k}]") for k in range(a.shape[1])]
    values = np.concatenate(cols, axis=1) if cols else None
    return values, (titles if internal else [t for _, t in titles])


def _dataset_columns(train: TypedTreeData):
    """The training events' columns as ``WriteDataInformation`` uses them: ``(values (N, V [+ M]),
    weights, classes, (internal name, title) per column, class names, number of targets)``,
    the targets last (Regression, class ``Regression``); None without variables."""
    values, names = _variable_columns(train, internal=True)
    if values is None:
        return None
    w = _f32(train.weights)
    cls = np.asarray(train.y)
    if train.targets is None:
        return values, w, cls, names, list(train.class_names), 0
    tgt = np.asarray(train.targets, np.float32).reshape(len(cls), -1)
    names = names + [(_branch_name(t), t) for t in train.target_names]
    return np.concatenate([values, tgt], axis=1), w, cls, names, ["Regression"], tgt.shape[1]


def dataset_variable_histograms(train: TypedTreeData) -> list[Hist1D]:
    """``InputVariables_Id/<var>__<class>_Id`` per variable and class (Regression: class
    ``Regression``, and the targets too, ``<target>__Regression_Id``, with TMVA's ``_target``
    suffix for a single target), from the training events."""
    from .variables import class_variable_histograms

    columns = _dataset_columns(train)
    if columns is None:
        return []
    values, w, cls, names, classes, n_tgt = columns
    return class_variable_histograms(values, w, cls, classes, names, n_targets=n_tgt)


def dataset_objects(train: TypedTreeData) -> tuple[list[Hist2D], list[Hist1D], list | None]:
    """``Factory::WriteDataInformation`` for Multiclass and Regression, from the training
    events: the correlation matrices (``CorrelationMatrix<class>`` per class; Regression:
    one ``CorrelationMatrix``, of the variables only), :func:`dataset_variable_histograms`,
    and the ``CorrelationPlots`` scatter and profile plots
    (:func:`tmva_lstm.results.variables.pair_plots`; None over TMVA's limit of 20 variables
    and targets together)."""
    from .variables import class_correlation_matrices, pair_plots

    columns = _dataset_columns(train)
    if columns is None:
        return [], [], None
    values, w, cls, names, classes, n_tgt = columns
    n_var = values.shape[1] - n_tgt
    labels = [t for _, t in names[:n_var]]
    if train.targets is None:
        pairs = [(c, c) for c in classes]
        corr = class_correlation_matrices(values, w, cls, pairs, labels)
    else:
        corr = class_correlation_matrices(values[:, :n_var], w, cls, [("", None)], labels)
    hists = dataset_variable_histograms(train)
    return corr, hists, pair_plots(values, w, cls, classes, names, n_targets=n_tgt)


def regression_histograms(
    title: str, sample: str, data: TypedTreeData, var_ranges: np.ndarray | None,
    tgt_ranges: np.ndarray,
) -> list[Hist1D | Hist2D]:  # fmt: skip
    """The deviation histograms with prefix ``MVA_<title><sample>`` (sample "test"/"train").

    ``var_ranges (V, 2)`` and ``tgt_ranges (M, 2)``: TMVA's VariableInfo minimum and maximum
    (over the whole data set) of each input variable and target.
    """
    prefix = f"MVA_{title}{sample}"
    reg = np.asarray(data.outputs, dtype=np.float32).reshape(len(data.y), -1)
    tgt = np.asarray(data.targets, dtype=np.float32).reshape(len(data.y), -1)
    dev = (reg - tgt).astype(np.float32)  # (N, M)
    x, var_titles = _variable_columns(data)
    tnames = list(data.target_names)
    ytitles = [f"{t}_{{regression}} - {t}_{{true}}" for t in tnames]
    w = _f32(data.weights)
    out: list[Hist1D | Hist2D] = []
    if x is not None:
        for i in range(x.shape[1]):
            for j in range(dev.shape[1]):
                out.append(_deviation_vs(x[:, i], *var_ranges[i], dev[:, j],
                                         f"{prefix}_reg_var{i}_rtgt{j}", var_titles[i],
                                         ytitles[j]))  # fmt: skip
    for i in range(tgt.shape[1]):
        for j in range(dev.shape[1]):
            out.append(_deviation_vs(tgt[:, i], *tgt_ranges[i], dev[:, j],
                                     f"{prefix}_reg_tgt{i}_rtgt{j}", tnames[i], ytitles[j]))  # fmt: skip
    titles = {"x_title": "Quadratic Deviation", "y_title": "Weighted Entries"}
    for j in range(dev.shape[1]):
        sq = (dev[:, j] * dev[:, j]).astype(np.float32)
        xmax = float(np.float32(max(float(sq.max()), 0.0)) * np.float32(1.1))
        h = _th1f(f"{prefix}_Quadr_Deviation_target_{j}_", sq.astype(np.float64), w, 500,
                  0.0, xmax if xmax > 0 else 1.0, **titles)  # fmt: skip
        out.append(h)
        q = _quantile(h.values, h.edges, 0.9)
        keep = sq <= q
        qmax = float(np.float32(q) * np.float32(1.1)) or 1.0
        out.append(_th1f(f"{prefix}_Quadr_Dev_best90perc_target_{j}_",
                         sq[keep].astype(np.float64), w[keep], 500, 0.0, qmax, **titles))  # fmt: skip
    return out


def _branch_name(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name)


def output_branch_names(title: str, class_names: Sequence[str] = (),
                        target_names: Sequence[str] = ()) -> list[str]:  # fmt: skip
    """The TestTree/TrainTree branches holding the method's output, one per class or target."""
    if target_names:
        if len(target_names) == 1:
            return [title]
        return [f"{title}.{_branch_name(t)}" for t in target_names]
    return [f"{title}.{c}" for c in class_names]


def _tree(file, path: str, data: TypedTreeData, title: str) -> None:
    names = np.asarray(list(data.class_names), dtype=object)
    cols: dict[str, np.ndarray] = {
        "classID": np.asarray(data.y, dtype=np.int32),
        "className": names[np.asarray(data.y, dtype=np.int64)].astype(str),
    }
    for name, arr in data.variables.items():
        cols[name] = np.asarray(arr, dtype=np.float32)
    if data.targets is not None:
        tg = np.asarray(data.targets).reshape(len(data.y), -1)
        for j, name in enumerate(data.target_names):
            cols[_branch_name(name)] = np.asarray(tg[:, j], dtype=np.float32)
    cols["weight"] = np.asarray(data.weights, dtype=np.float32)
    out = np.asarray(data.outputs, dtype=np.float32).reshape(len(data.y), -1)
    branches = output_branch_names(
        title, () if data.targets is not None else data.class_names,
        data.target_names if data.targets is not None else (),
    )  # fmt: skip
    names_written = [*cols, *branches]
    for k, b in enumerate(branches):
        cols[b] = out[:, k]
    if len(set(names_written)) != len(names_written):
        raise DataError(f"branch names clash in the output tree: {names_written}")
    types = {k: ("string" if k == "className" else (v.dtype if v.ndim == 1 else
                 np.dtype((v.dtype, v.shape[1:])))) for k, v in cols.items()}  # fmt: skip
    tree = file.mktree(path, types)
    tree.extend(cols)


def _tgraph(g: Graph):
    import uproot

    obj = uproot.as_TGraph({"x": np.asarray(g.x, np.float64), "y": np.asarray(g.y, np.float64)})
    for base in obj._bases:  # as_TGraph writes "title;xlabel;ylabel": TMVA's title is plain
        if "fTitle" in getattr(base, "_members", {}):
            base._members["fTitle"] = g.title
    return obj


def _update_with_cycles(directory, items: list[tuple[str, object]]) -> None:
    """Write ``items`` in order; a name given twice gets cycles 1 and 2, listed as ROOT lists
    them (``TDirectoryFile::AppendKey`` puts a new cycle right before the older one).

    The order matters: ROOT's ``Get("name")`` returns the FIRST key of that name in the list,
    and uproot appends keys, which would make ``Get`` return cycle 1. uproot has no public
    way to order keys, so this reorders its directory's key list (``_cascade.DirectoryData``)
    and rewrites it. Should those internals change, only the last object of each name is
    written (cycle 1, the content ``Get`` would give in TMVA's file) rather than a file whose
    ``Get`` returns the wrong cycle.
    """
    data = getattr(getattr(directory, "_cascading", None), "_data", None)
    keys = getattr(data, "_keys", None)
    if not isinstance(keys, list) or not callable(getattr(data, "write", None)):
        directory.update(dict(items))  # a dict keeps each name's last object
        return
    directory.update(items)
    first: dict[str, int] = {}
    for i, key in enumerate(keys):
        first.setdefault(key.name.string, i)
    keys.sort(key=lambda k: (first[k.name.string], -k.cycle))
    data._file_dirty = True
    data.write(directory.file.sink)


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

    from .rootfile import history_histograms, to_uproot

    path = Path(path)
    method_dir = f"{dataset}/Method_{method_type}/{title}"
    objects: list = history_histograms(history, title) if history else []
    if test.targets is None:
        # MethodBase::TestMulticlass books the _Train objects a first time from the TEST events
        # (in the test Results, written first: cycle 1); the training Results' own ones follow
        for sample, data in (("Test", test), ("Train", test), ("Train", train)):
            objects += multiclass_histograms(title, sample, data)
            objects += multiclass_roc_graphs(title, sample, data)
    else:
        both = [test, train]

        def ranges(arrays):
            a = np.concatenate([np.asarray(x, np.float32).reshape(len(x), -1) for x in arrays])
            return np.stack([a.min(axis=0), a.max(axis=0)], axis=1)

        var_ranges = ranges([_variable_columns(d)[0] for d in both]) if test.variables else None
        tgt_ranges = ranges([d.targets for d in both])
        objects += regression_histograms(title, "test", test, var_ranges, tgt_ranges)
        objects += regression_histograms(title, "train", train, var_ranges, tgt_ranges)
    # a list, not a dict: the _Train names come twice, and uproot gives the second cycle 2
    items = [(o.name, _tgraph(o) if isinstance(o, Graph) else to_uproot(o)) for o in objects]
    correlations, variables, pairs = dataset_objects(train)
    with atomic_path(path) as tmp, uproot.recreate(tmp) as f:
        # one update per directory: uproot rewrites a directory's keys on every update
        if correlations:
            inputs = f"{dataset}/InputVariables_Id"
            f.mkdir(dataset).update({h.name: to_uproot(h) for h in correlations})
            f.mkdir(inputs).update({h.name: to_uproot(h) for h in variables})
            if pairs:
                f.mkdir(f"{inputs}/CorrelationPlots").update({h.name: to_uproot(h) for h in pairs})
        _update_with_cycles(f.mkdir(method_dir), items)
        _tree(f, f"{dataset}/TestTree", test, title)
        _tree(f, f"{dataset}/TrainTree", train, title)
    return path
