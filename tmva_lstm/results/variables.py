"""The input-variable objects of a Factory's output file, as TMVA computes them.

``Factory::WriteDataInformation`` (``tmva/tmva/src/Factory.cxx``) writes, from the training
events of the dataset, per class (``Signal``, ``Background``):

* ``<dataset>/CorrelationMatrixS`` and ``CorrelationMatrixB`` (``DataSetInfo::
  CreateCorrelationMatrixHist``): TH2F built from the ``n x n`` matrix (bins ``[0, n]`` on both
  axes, bin ``(i+1, j+1)`` = ``C[j][i]``), labelled with the variable titles, scaled by 100
  and truncated to integers (``Int_t(100 C)``), minimum -100 and maximum +100. ``C`` is the
  weighted linear correlation of the class's training events
  (``DataSetFactory::CalcCorrelationMatrix``; zero variance gives 0 off the diagonal);
  titles "Correlation Matrix (signal)" / "(background)".
* ``<dataset>/InputVariables_Id/`` (``TransformationHandler::PlotVariables`` of the identity
  transform): per variable and class a TH1F ``<internal name>__<class>_Id`` titled with the
  variable title, 40 bins (``fNbins1D``) over ``[max(min, mean - 8 rms), min(max, mean +
  8 rms)]`` of all training events (``fTimesRMS``; weighted mean and rms), with ``xmax`` then
  raised by one bin width (``xmax += (xmax - xmin)/40``), filled with the event weights. Axis
  titles: the variable title, ``"dN_{ }/^{ }<bin width, %.3g> "`` (``Tools::GetYTitleWithUnit``).
* ``<dataset>/InputVariables_Id/CorrelationPlots/`` only when there are at most 20 variables
  (``fMaxNumOfAllowedVariablesForScatterPlots``; the Factory prints "Will not produce
  scatter plots" otherwise): for every pair ``i < j`` and class, a TH2F
  ``scat_<j>_vs_<i>_<class>_Id`` (300 x 300 bins, ``fNbins2D``, over the two variables' min
  and max) and a TProfile ``prof_<j>_vs_<i>_<class>_Id`` (40 bins over variable ``i``'s range).
  Multiclass and Regression jobs get the same through :func:`pair_plots` (per class name;
  ``Regression``, with the targets counted in the limit and target pairs plotted too).

Histograms are filled the way ``TH1::Fill(x, w)`` fills them: in-range fills enter the
statistics, ``Sumw2`` is switched on by the first weight that is not 1.
"""

from __future__ import annotations

import numpy as np

from ..evaluation.histograms import Hist1D, Hist2D, Profile1D, _find_bins
from .trees import TreeData, VariableInfo

__all__ = [
    "MAX_VARIABLES_FOR_SCATTER",
    "class_correlation_matrices",
    "class_variable_histograms",
    "correlation_matrices",
    "input_variable_histograms",
    "pair_plots",
    "scatter_plots",
]

N_BINS_1D = 40  # Config: fVariablePlotting.fNbins1D
N_BINS_2D = 300  # Config: fVariablePlotting.fNbins2D
TIMES_RMS = 8.0  # Config: fVariablePlotting.fTimesRMS
MAX_VARIABLES_FOR_SCATTER = 20  # Config: fMaxNumOfAllowedVariablesForScatterPlots
TRANSFORM = "Id"  # TransformationHandler::GetName() of the identity transform


def _ytitle(width: float) -> str:
    return f"dN_{{ }}/^{{ }}{width:.3g} "  # Tools::GetYTitleWithUnit(h, "", kFALSE): "%.3g"


def _stats(x: np.ndarray, w: np.ndarray) -> tuple[float, float, float, float]:
    return (
        float(w.sum()),
        float((w * w).sum()),
        float((w * x).sum()),
        float((w * x * x).sum()),
    )


def _th1f(name: str, title: str, x: np.ndarray, w: np.ndarray, lo: float, hi: float, **t) -> Hist1D:
    """``TH1F(name, title, 40, lo, hi)`` filled with ``Fill(x, w)`` per event."""
    b = _find_bins(x, N_BINS_1D, lo, hi)
    contents = np.bincount(b, weights=w, minlength=N_BINS_1D + 2).astype(np.float32)
    sumw2 = None
    if np.any(w != 1.0):
        sumw2 = np.bincount(b, weights=w * w, minlength=N_BINS_1D + 2).astype(np.float64)
    inr = (b >= 1) & (b <= N_BINS_1D)
    return Hist1D(
        name, title, lo, hi, contents.astype(np.float64), sumw2, float(x.size),
        _stats(x[inr], w[inr]), root_class="TH1F", **t,
    )  # fmt: skip


def _ranges(values: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per variable: min, max, weighted mean and rms of all events (``CalcStats``)."""
    v = values.astype(np.float64)
    sumw = float(w.sum())
    mean = (w[:, None] * v).sum(axis=0) / sumw
    rms = np.sqrt(np.abs((w[:, None] * v * v).sum(axis=0) / sumw - mean * mean))
    return v.min(axis=0), v.max(axis=0), mean, rms


def input_variable_histograms(train: TreeData) -> list[Hist1D]:
    """``InputVariables_Id/<var>__Signal_Id``, ``__Background_Id``: variable by variable."""
    infos = train.variable_infos()
    if not infos:
        return []
    return class_variable_histograms(
        train.variable_matrix(), train.event_weights.astype(np.float64), train.class_id,
        train.class_names, [(i.internal, i.title) for i in infos],
    )  # fmt: skip


def class_variable_histograms(
    values: np.ndarray, w: np.ndarray, cls: np.ndarray, class_names, names_titles,
    n_targets: int = 0,
) -> list[Hist1D]:  # fmt: skip
    """``TransformationHandler::PlotVariables`` for any number of classes: ``values (N, V)``,
    the last ``n_targets`` columns regression targets (a single target's class name gets
    TMVA's ``_target`` suffix); ``names_titles``: (internal name, title) per column."""
    vmin, vmax, mean, rms = _ranges(values, w)
    n_var = values.shape[1] - n_targets
    out = []
    for k, (internal, title) in enumerate(names_titles):
        lo = max(vmin[k], mean[k] - TIMES_RMS * rms[k])
        hi = min(vmax[k], mean[k] + TIMES_RMS * rms[k])
        if lo >= hi:
            hi = lo * 1.1
        if lo >= hi:
            hi = lo + 1
        hi += (hi - lo) / N_BINS_1D
        x = values[:, k].astype(np.float64)
        titles = {"x_title": title, "y_title": _ytitle((hi - lo) / N_BINS_1D)}
        suffix = "_target" if n_targets == 1 and k >= n_var else ""
        for c, cname in enumerate(class_names):
            sel = cls == c
            name = f"{internal}__{cname}{suffix}_{TRANSFORM}"
            out.append(_th1f(name, title, x[sel], w[sel], float(lo), float(hi), **titles))
    return out


def _correlation(values: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``DataSetFactory::CalcCorrelationMatrix``: weighted, 0 off-diagonal for zero variance."""
    v = values.astype(np.float64)
    ic = float(w.sum())
    mean = (w[:, None] * v).sum(axis=0) / ic
    cov = (v * w[:, None]).T @ v / ic - np.outer(mean, mean)  # (n, n)
    var = np.diag(cov).copy()
    d = np.outer(var, var)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.where(d > 0, cov / np.sqrt(np.where(d > 0, d, 1.0)), 0.0)
    np.fill_diagonal(corr, 1.0)
    return corr


def correlation_matrices(train: TreeData) -> list[Hist2D]:
    """``CorrelationMatrixS`` and ``CorrelationMatrixB`` (TH2F, in %, truncated to integers)."""
    infos = train.variable_infos()
    if not infos:
        return []
    return class_correlation_matrices(
        train.variable_matrix(), train.event_weights.astype(np.float64), train.class_id,
        [("S", "signal"), ("B", "background")], tuple(info.title for info in infos),
    )  # fmt: skip


def class_correlation_matrices(
    values: np.ndarray, w: np.ndarray, cls: np.ndarray, suffixes_words, labels
) -> list[Hist2D]:
    """``CorrelationMatrix<suffix>`` titled "Correlation Matrix (<word>)" for class c =
    0, 1, ... of ``suffixes_words`` (Factory::WriteDataInformation: ``S``/``signal`` and
    ``B``/``background`` for two classes, ``<class>``/``<class>`` for Multiclass); a word
    None gives TMVA's regression title "Correlation Matrix"."""
    n = values.shape[1]
    out = []
    for c, (suffix, word) in enumerate(suffixes_words):
        sel = cls == c
        corr = _correlation(values[sel], w[sel]).astype(np.float32)  # TMatrixF
        pct = np.trunc(corr.astype(np.float64) * 100.0)  # Scale(100), then Int_t(...)
        contents = np.zeros((n + 2, n + 2))
        contents[1:-1, 1:-1] = pct  # [biny = row + 1, binx = col + 1]
        out.append(
            Hist2D(
                f"CorrelationMatrix{suffix}",
                "Correlation Matrix" if word is None else f"Correlation Matrix ({word})",
                (0.0, float(n)),
                (0.0, float(n)),
                contents,
                entries=float(2 * n * n),  # SetBinContent n^2 times, twice
                x_labels=tuple(labels),
                y_labels=tuple(labels),
                minimum=-100.0,
                maximum=100.0,
            )
        )
    return out


def _scatter(
    name: str, title: str, x: np.ndarray, y: np.ndarray, w: np.ndarray, xr, yr, titles
) -> Hist2D:
    bx = _find_bins(x, N_BINS_2D, *xr)
    by = _find_bins(y, N_BINS_2D, *yr)
    nc = N_BINS_2D + 2
    flat = by * nc + bx
    contents = np.bincount(flat, weights=w, minlength=nc * nc).astype(np.float32)
    sumw2 = None
    if np.any(w != 1.0):
        sumw2 = np.bincount(flat, weights=w * w, minlength=nc * nc).reshape(nc, nc)
    inr = (bx >= 1) & (bx <= N_BINS_2D) & (by >= 1) & (by <= N_BINS_2D)
    xi, yi, wi = x[inr], y[inr], w[inr]
    stats = (*_stats(xi, wi), float((wi * yi).sum()), float((wi * yi * yi).sum()),
             float((wi * xi * yi).sum()))  # fmt: skip
    return Hist2D(
        name, title, xr, yr, contents.reshape(nc, nc).astype(np.float64), sumw2,
        float(x.size), stats, **titles,
    )  # fmt: skip


def _profile(
    name: str, title: str, x: np.ndarray, y: np.ndarray, w: np.ndarray, xr, titles
) -> Profile1D:
    b = _find_bins(x, N_BINS_1D, *xr)
    m = N_BINS_1D + 2
    bin_sumw2 = np.bincount(b, weights=w * w, minlength=m) if np.any(w != 1.0) else None
    inr = (b >= 1) & (b <= N_BINS_1D)
    xi, yi, wi = x[inr], y[inr], w[inr]
    stats = (*_stats(xi, wi), float((wi * yi).sum()), float((wi * yi * yi).sum()))
    return Profile1D(
        name, title, float(xr[0]), float(xr[1]),
        np.bincount(b, weights=w * y, minlength=m), np.bincount(b, weights=w * y * y, minlength=m),
        np.bincount(b, weights=w, minlength=m), bin_sumw2, float(x.size), stats, **titles,
    )  # fmt: skip


def pair_plots(
    values: np.ndarray, w: np.ndarray, cls: np.ndarray, class_names, names_titles,
    n_targets: int = 0,
) -> list[Hist2D | Profile1D] | None:  # fmt: skip
    """``TransformationHandler::PlotVariables``' scatter and profile plots, TMVA's write order.

    ``values (N, V + M)``: the variables, then the ``M = n_targets`` regression targets;
    ``names_titles``: (internal name, title) per column; ``cls (N,)`` indices into
    ``class_names``. None (no ``CorrelationPlots`` directory) when ``V + M`` passes
    :data:`MAX_VARIABLES_FOR_SCATTER`. Written, for every column pair ``i < j`` and class:
    ``scat_<j>_vs_<i>_<class>_Id`` and ``prof_<j>_vs_<i>_<class>_Id``, pairs of two variables
    or two targets only: TMVA also books target-versus-variable plots (for its ranking), but
    stores them at ``[V + t][v]``, below the diagonal its write loop ``j > i`` visits, so they
    never reach the file. Ranges: each column's min and max over all events (``CalcStats``).
    """
    n = values.shape[1]
    if n > MAX_VARIABLES_FOR_SCATTER:
        return None
    n_var = n - n_targets
    values = values.astype(np.float64)
    w = np.asarray(w, np.float64)
    vmin, vmax = values.min(axis=0), values.max(axis=0)
    out: list[Hist2D | Profile1D] = []
    for i in range(n):
        for j in range(i + 1, n):
            if i < n_var <= j:
                continue  # a target against a variable: booked, never written
            (ni, ti), (nj, tj) = names_titles[i], names_titles[j]
            xr, yr = (float(vmin[i]), float(vmax[i])), (float(vmin[j]), float(vmax[j]))
            titles = {"x_title": ti, "y_title": tj}
            for c, cname in enumerate(class_names):
                sel = cls == c
                suffix = f"{nj}_vs_{ni}_{cname}_{TRANSFORM}"
                x, y, ww = values[sel, i], values[sel, j], w[sel]
                out.append(_scatter(
                    f"scat_{suffix}", f"{tj} versus {ti} ({cname})_{TRANSFORM}",
                    x, y, ww, xr, yr, titles,
                ))  # fmt: skip
                out.append(_profile(
                    f"prof_{suffix}", f"profile {tj} versus {ti} ({cname})_{TRANSFORM}",
                    x, y, ww, xr, titles,
                ))  # fmt: skip
    return out


def scatter_plots(train: TreeData) -> list[Hist2D | Profile1D]:
    """``CorrelationPlots/scat_*`` (TH2F) and ``prof_*`` (TProfile) of a two-class job.

    Empty when there are more than :data:`MAX_VARIABLES_FOR_SCATTER` variables (TMVA's rule).
    """
    infos: list[VariableInfo] = train.variable_infos()
    if len(infos) < 2:
        return []
    plots = pair_plots(
        train.variable_matrix(), train.event_weights, train.class_id, train.class_names,
        [(i.internal, i.title) for i in infos],
    )  # fmt: skip
    return plots or []


def describe_scatter_rule(n_variables: int) -> str:
    """One line saying whether scatter plots were written, with TMVA's reason."""
    if n_variables <= MAX_VARIABLES_FOR_SCATTER:
        return f"scatter and profile plots for {n_variables * (n_variables - 1) // 2} pairs"
    pairs = n_variables * (n_variables - 1) // 2
    return (
        f"no scatter plots: {n_variables} variables would need {pairs} two-dimensional "
        f"histograms per class (TMVA's limit is {MAX_VARIABLES_FOR_SCATTER} variables)"
    )
