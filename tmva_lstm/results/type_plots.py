"""The plots of a Multiclass or Regression job, as TMVAGui's buttons for those types draw them.

``TMVA::TMVAMultiClassGui`` and ``TMVA::TMVARegGui`` draw from the output file's objects;
these functions draw the same objects (:mod:`tmva_lstm.results.analysis_types` makes them),
one figure per button, each panel what the macro draws on one canvas:

Multiclass
    ``class_outputs``   ``mvasMulticlass(..., kCompareType)``: per class c, the class-c
                        probability of the events of every class (``MVA_<t>_Test_<c>_prob_for_<d>``,
                        normalised), training events (``_Train_``) as points; test only
                        (``kMVAType``) when there are no training events
    ``roc_1vsrest``     ``efficienciesMulticlass1vsRest``: per class, background rejection vs
                        signal efficiency of class c against all others (``_rejBvsS_<c>``)
    ``roc_1vs1``        ``efficienciesMulticlass1vs1``: per class c, one curve per other class d
                        (``_1v1rejBvsS_<c>_vs_<d>``)
Regression
    ``deviation_target_test`` / ``_training``   ``deviations(..., showTarget=kTRUE)``: the
                        ``_reg_tgt<i>_rtgt<j>`` TH2F (regression - target vs target i), colz,
                        a dashed line at zero
    ``average_deviations``   ``regression_averagedevs``: per target, sqrt of the mean of the
                        ``_Quadr_Deviation`` histograms (all events and the best 90 %), test and
                        training, with TMVA's error ``RMS / (2 mean sqrt(entries))``
Both
    ``input_variables`` (``variablesMultiClass``, ``variables(..., kTRUE)``) and
    ``training_history``, drawn by :mod:`tmva_lstm.results.plots`.

Every figure is written as ``<stem>.png`` and ``.pdf``, atomically.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..evaluation.histograms import Hist1D, Hist2D
from .analysis_types import (
    TypedTreeData,
    _branch_name,
    dataset_variable_histograms,
    multiclass_histograms,
    multiclass_roc_graphs,
    regression_histograms,
)
from .plots import (
    CLASS_COLOURS,
    FORMATS,
    _errors,
    _figure,
    _save,
    _thin,
    plot_history,
    plot_input_variables,
)

__all__ = [
    "plot_class_outputs",
    "plot_multiclass_rocs",
    "plot_regression_deviations",
    "plot_average_deviations",
    "average_deviation",
    "write_typed_plots",
]


def _colour(k: int) -> str:
    return CLASS_COLOURS[k % len(CLASS_COLOURS)]


def _grid(n: int, ncols: int = 3) -> tuple[int, int]:
    ncols = max(1, min(ncols, n))
    return math.ceil(n / ncols), ncols


def _by_name(objects: Sequence, name: str):
    found = next((o for o in objects if o.name == name), None)
    if found is None:
        raise DataError(f"no object {name!r} to plot (the output file's objects are incomplete)")
    return found


def plot_class_outputs(
    path_stem: str | os.PathLike[str],
    test: Sequence[Hist1D],
    train: Sequence[Hist1D] | None,
    class_names: Sequence[str],
    *,
    title: str,
    formats: Sequence[str] = FORMATS,
) -> list[Path]:
    """``mvasMulticlass``: one panel per class c with ``MVA_<title>_Test_<c>_prob_for_<d>``
    for every class d (``test``: the normalised TH1F of
    :func:`~tmva_lstm.results.analysis_types.multiclass_histograms`), the ``_Train_`` ones
    as points with errors when ``train`` is given."""
    import mplhep

    names = list(class_names)
    nrows, ncols = _grid(len(names))
    fig, style = _figure(5.0 * ncols, 4.2 * nrows + 0.6, font=11.0, minor=False)
    for c, cname in enumerate(names):
        ax = fig.add_subplot(nrows, ncols, c + 1)
        ymax = 0.0
        for d, dname in enumerate(names):
            h = _by_name(test, f"MVA_{title}_Test_{cname}_prob_for_{dname}")
            mplhep.histplot(h.values, h.edges, ax=ax, histtype="step", color=_colour(d), lw=1.4,
                            label=dname)  # fmt: skip
            ymax = max(ymax, float(h.values.max()))
            if train is not None:
                t = _by_name(train, f"MVA_{title}_Train_{cname}_prob_for_{dname}")
                mplhep.histplot(t.values, t.edges, yerr=_errors(t), ax=ax, histtype="errorbar",
                                color=_colour(d), marker="o", markersize=3,
                                label=f"{dname} (training sample)")  # fmt: skip
                ymax = max(ymax, float((t.values + _errors(t)).max()))
        ax.set_xlim(0.0, 1.0)
        ax.set_ylim(0.0, ymax * (1.3 if train is not None else 1.2) or 1.0)
        ax.set_xlabel(f"{title} response for {cname}", fontsize="small")
        ax.set_ylabel("(1/N) dN / dx", fontsize="small")
        ax.tick_params(labelsize="x-small")
        ax.set_title(f"class {cname}", fontsize="small")
        ax.legend(loc="upper center", fontsize="xx-small", ncols=2, frameon=False)
    kind = "overtraining check" if train is not None else "response"
    fig.suptitle(f"TMVA {kind} for classifier: {title}", fontsize="medium", x=0.02, ha="left")
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return _save(fig, style, path_stem, formats)


def plot_multiclass_rocs(
    path_stem: str | os.PathLike[str],
    test: Sequence,
    train: Sequence | None,
    class_names: Sequence[str],
    *,
    title: str,
    one_vs_one: bool = False,
    formats: Sequence[str] = FORMATS,
) -> list[Path]:
    """One panel per class: background rejection vs signal efficiency of class c against
    the rest (``MVA_<title>_Test_rejBvsS_<c>``), or with ``one_vs_one`` against each other
    class d (``_1v1rejBvsS_<c>_vs_<d>``). ``test``/``train``: the TGraphs of
    :func:`~tmva_lstm.results.analysis_types.multiclass_roc_graphs` (x = signal efficiency,
    y = background rejection); training curves dashed. The ROC integrals are in the
    evaluation's table (``summary.txt``)."""
    names = list(class_names)
    nrows, ncols = _grid(len(names))
    fig, style = _figure(5.0 * ncols, 4.4 * nrows + 0.6, font=11.0, minor=False)
    for c, cname in enumerate(names):
        ax = fig.add_subplot(nrows, ncols, c + 1)
        others = (
            [(d, dname) for d, dname in enumerate(names) if d != c] if one_vs_one else [(c, "")]
        )
        for d, dname in others:
            stem = f"1v1rejBvsS_{cname}_vs_{dname}" if one_vs_one else f"rejBvsS_{cname}"
            label = f"{cname} vs {dname}" if one_vs_one else f"{cname} vs rest"
            for sample, graphs, line in (("Test", test, "-"), ("Train", train, "--")):
                if graphs is None:
                    continue
                g = next((g for g in graphs if g.name == f"MVA_{title}_{sample}_{stem}"), None)
                if g is None:  # a class without events in this sample has no curve
                    continue
                x, y = _thin(g.x, g.y)
                which = "test" if sample == "Test" else "training"
                ax.plot(x, y, line, color=_colour(d), lw=1.6, label=f"{label}, {which} sample")
        ax.plot([0, 1], [1, 0], ":", color="0.5", lw=1)
        ax.set_xlim(0.0, 1.0)
        ax.set_ylim(0.0, 1.05)
        ax.set_xlabel("Signal efficiency", fontsize="small")
        ax.set_ylabel("Background rejection", fontsize="small")
        ax.tick_params(labelsize="x-small")
        ax.set_title(f"class {cname}", fontsize="small")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="lower left", fontsize="xx-small", frameon=True)
    kind = "1-vs-1" if one_vs_one else "1-vs-rest"
    fig.suptitle(f"Background rejection vs. signal efficiency ({kind}): {title}",
                 fontsize="medium", x=0.02, ha="left")  # fmt: skip
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return _save(fig, style, path_stem, formats)


def plot_regression_deviations(
    path_stem: str | os.PathLike[str],
    histograms: Sequence[Hist2D],
    *,
    title: str,
    sample: str,
    formats: Sequence[str] = FORMATS,
) -> list[Path]:
    """``deviations(..., showTarget)``: each ``_reg_tgt<i>_rtgt<j>`` TH2F of ``sample``
    ("test" or "train") in colour (``colz``), a dashed line at zero deviation."""
    hists = [h for h in histograms if f"{title}{sample}_reg_tgt" in h.name]
    if not hists:
        raise DataError(f"no regression deviation histograms of the {sample} sample to plot")
    nrows, ncols = _grid(len(hists), 2)
    fig, style = _figure(6.0 * ncols, 4.6 * nrows + 0.6, font=11.0, minor=False)
    which = "training" if sample == "train" else "test"
    for k, h in enumerate(hists):
        ax = fig.add_subplot(nrows, ncols, k + 1)
        z = np.ma.masked_equal(h.contents[1:-1, 1:-1], 0.0)
        mesh = ax.pcolormesh(np.linspace(*h.x_range, z.shape[1] + 1),
                             np.linspace(*h.y_range, z.shape[0] + 1), z, cmap="viridis")  # fmt: skip
        fig.colorbar(mesh, ax=ax)
        ax.axhline(0.0, color="k", ls="--", lw=1)
        ax.set_xlabel(_plain(h.x_title), fontsize="small")
        ax.set_ylabel(_plain(h.y_title), fontsize="small")
        ax.tick_params(labelsize="x-small")
        ax.set_title(f"Output deviation for method: MVA_{title} ({which} sample)", fontsize="small")
    fig.tight_layout()
    return _save(fig, style, path_stem, formats)


def _plain(root_title: str) -> str:
    """A ROOT TLatex axis title as plain text: ``E_{regression} - E_{true}`` becomes
    ``E (regression) - E (true)`` (target names are expressions with ``_``, ``[``, ``*``)."""
    return re.sub(r"_\{([^{}]*)\}", r" (\1)", root_title).replace("$", r"\$")


def average_deviation(h: Hist1D) -> tuple[float, float]:
    """``regression_averagedevs``: ``sqrt(GetMean())`` of a ``_Quadr_Deviation`` histogram
    and its error ``GetRMS() / (sqrt(GetEntries()) * 2 * GetMean())``, from the stored
    statistics (sum of weights, of weight x value, of weight x value²)."""
    sumw, _, sumwx, sumwx2 = h.stats
    if sumw <= 0:
        return float("nan"), float("nan")
    mean = sumwx / sumw
    rms = math.sqrt(max(sumwx2 / sumw - mean * mean, 0.0))
    err = rms / (math.sqrt(h.entries) * 2.0 * mean) if mean > 0 and h.entries > 0 else 0.0
    return math.sqrt(max(mean, 0.0)), err


def plot_average_deviations(
    path_stem: str | os.PathLike[str],
    histograms: Sequence[Hist1D],
    target_names: Sequence[str],
    *,
    title: str,
    formats: Sequence[str] = FORMATS,
) -> list[Path]:
    """``regression_averagedevs``: one panel per target with four points: training and test
    sample (open and filled squares), all events (blue) and the best 90 % (black)."""
    names = list(target_names)
    nrows, ncols = _grid(len(names), 2)
    fig, style = _figure(6.0 * ncols, 4.6 * nrows + 0.6, font=11.0, minor=False)
    points = (
        ("train", "Quadr_Deviation", "#0000ee", "s", "none", "Training Sample, Average Deviation"),
        ("train", "Quadr_Dev_best90perc", "k", "s", "none",
         "Training Sample, truncated Average Dev. (best 90%)"),
        ("test", "Quadr_Deviation", "#0000ee", "s", None, "Test Sample, Average Deviation"),
        ("test", "Quadr_Dev_best90perc", "k", "s", None,
         "Test Sample, truncated Average Dev. (best 90%)"),
    )  # fmt: skip
    for j, tname in enumerate(names):
        ax = fig.add_subplot(nrows, ncols, j + 1)
        for k, (sample, kind, colour, marker, face, label) in enumerate(points):
            h = next((h for h in histograms
                      if h.name == f"MVA_{title}{sample}_{kind}_target_{j}_"), None)  # fmt: skip
            if h is None:
                continue
            m, e = average_deviation(h)
            ax.errorbar([0.44 + 0.12 * k], [m], yerr=[e], fmt=marker, color=colour,
                        mfc=face or colour, label=label)  # fmt: skip
        ax.set_xlim(-0.5, 1.5)
        ax.set_xticks([0.62], [title])
        ax.set_ylim(bottom=0.0)
        ax.set_ylabel("Deviation from target", fontsize="small")
        ax.tick_params(labelsize="x-small")
        ax.set_title(f"Average Quadratic Deviation, target {tname}", fontsize="small")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="lower left", fontsize="xx-small", frameon=True)
    fig.suptitle("Average Deviation = (sum (f_MVA - f_target)^2 / N)^(1/2)", fontsize="small",
                 x=0.02, ha="left")  # fmt: skip
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    return _save(fig, style, path_stem, formats)


def write_typed_plots(
    out: str | os.PathLike[str],
    title: str,
    test: TypedTreeData,
    train: TypedTreeData | None,
    history=None,
) -> dict[str, Path]:
    """Every figure of the module docstring for a Multiclass (``test.targets`` None) or
    Regression job; returns ``{"<name>.<format>": path}``. Without ``train`` (a saved
    model evaluated on new events): the test sample's figures only."""
    out = Path(out)
    files: dict[str, Path] = {}

    def keep(name: str, paths: list[Path]) -> None:
        for p in paths:
            files[f"{name}{p.suffix}"] = p

    if test.targets is None:
        names = list(test.class_names)
        objs = {s: (multiclass_histograms(title, s, d), multiclass_roc_graphs(title, s, d))
                for s, d in (("Test", test), ("Train", train)) if d is not None}  # fmt: skip
        hists, graphs = objs["Test"]
        t_hists, t_graphs = objs.get("Train", (None, None))
        keep("class_outputs", plot_class_outputs(out / "class_outputs", hists, t_hists, names,
                                                 title=title))  # fmt: skip
        keep("roc_1vsrest", plot_multiclass_rocs(out / "roc_1vsrest", graphs, t_graphs, names,
                                                 title=title))  # fmt: skip
        keep("roc_1vs1", plot_multiclass_rocs(out / "roc_1vs1", graphs, t_graphs, names,
                                              title=title, one_vs_one=True))  # fmt: skip
    else:
        samples = [("test", test)] + ([("train", train)] if train is not None else [])
        tgt = np.concatenate([np.asarray(d.targets, np.float32).reshape(len(d.y), -1)
                              for _, d in samples])  # fmt: skip
        tgt_ranges = np.stack([tgt.min(axis=0), tgt.max(axis=0)], axis=1)  # as the file's
        devs: list = []
        for sample, data in samples:  # the variables' _reg_var histograms are not drawn
            hists = regression_histograms(title, sample, replace(data, variables={}), None,
                                          tgt_ranges)  # fmt: skip
            devs += hists
            name = "deviation_target_" + ("training" if sample == "train" else "test")
            keep(name, plot_regression_deviations(out / name, hists, title=title, sample=sample))
        keep("average_deviations", plot_average_deviations(
            out / "average_deviations", devs, test.target_names, title=title))  # fmt: skip
    if train is not None and train.variables:
        regression = train.targets is not None
        hists = dataset_variable_histograms(train)
        if regression:  # the targets first: the figure shows the first 12 histograms
            tnames = {_branch_name(t) for t in train.target_names}
            hists = sorted(hists, key=lambda h: h.name.rpartition("__")[0] not in tnames)
        keep("input_variables", plot_input_variables(
            out / "input_variables", hists,
            class_names=["Regression"] if regression else list(train.class_names),
            title="Targets and input variables (training sample)" if regression
            else "Input variables (training sample)",
        ))  # fmt: skip
    if history is not None and len(history.train_loss):
        keep("training_history", plot_history(
            out / "training_history", history.train_loss, history.val_loss,
            best_epoch=history.best_epoch, title=title,
        ))  # fmt: skip
    return files
