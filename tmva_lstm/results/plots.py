"""The plots a physicist looks at before reading numbers, as PNG and PDF.

Drawn with matplotlib's Agg canvas (no pyplot, no display) in mplhep's ROOT style, histograms
with ``mplhep.histplot``; each follows the TMVAGui macro that shows the same thing:

* :func:`plot_roc` (``efficiencies.cxx``): background rejection against signal efficiency,
  the ROC integral in the legend;
* :func:`plot_overtraining` (``mvas.cxx``, ``kCompareType``): the test responses as filled
  histograms, the training responses as points with errors, both normalised, and TMVAGui's
  Kolmogorov-Smirnov line. Without a training sample it is ``kMVAType``: test only;
* :func:`plot_history` (``training_history.cxx``): training and validation loss per epoch,
  the epoch whose weights were kept marked;
* :func:`plot_input_variables` (``variables.cxx``): the ``InputVariables_Id`` histograms,
  signal and background normalised, on a grid (the first N variables, with a note).

Every function writes ``<stem>.png`` and ``<stem>.pdf`` atomically and returns the paths.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from ..errors import DataError, DependencyError
from ..evaluation.histograms import Hist1D

__all__ = [
    "histograms_by_variable",
    "plot_history",
    "plot_input_variables",
    "plot_overtraining",
    "plot_roc",
]

#: TMVAGlob::SetSignalAndBackgroundStyle: signal blue (#7d99d1 fill, #0000ee line),
#: background red (hatched, #ff0000 line).
SIGNAL = {"fill": "#7d99d1", "line": "#0000ee"}
BACKGROUND = {"fill": "#ff0000", "line": "#ff0000"}
FORMATS = ("png", "pdf")
#: One colour per class, in class order (more than two classes): TMVA's signal blue and
#: background red first.
CLASS_COLOURS = ("#0000ee", "#ff0000", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
                 "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")  # fmt: skip


def _figure(width: float = 8.0, height: float = 6.4, font: float = 16.0, minor: bool = True):
    """A Figure on an Agg canvas in mplhep's ROOT style, fonts scaled to the figure.

    mplhep's styles are made for 10 x 10 inch figures (26 pt); ``font`` sets the base size
    and the tick lengths follow. No pyplot, no global state: the style is an rc context
    that :func:`_save` closes.
    """
    try:
        import matplotlib
        import mplhep
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise DependencyError(
            "plotting needs matplotlib and mplhep: pip install 'tmva-lstm[plot]'"
        ) from exc
    rc = _flat_style(mplhep.style.ROOT)
    scale = font / float(rc.get("font.size", 26))
    rc["font.size"] = font
    for key in ("xtick.major.size", "xtick.minor.size", "ytick.major.size", "ytick.minor.size"):
        if key in rc:
            rc[key] = float(rc[key]) * scale
    if not minor:  # many small panels: minor ticks cost time and add nothing
        rc["xtick.minor.visible"] = rc["ytick.minor.visible"] = False
    style = matplotlib.rc_context(rc)
    style.__enter__()
    try:
        fig = Figure(figsize=(width, height), dpi=100)
        FigureCanvasAgg(fig)
    except BaseException:
        style.__exit__(None, None, None)
        raise
    return fig, style


def _flat_style(style) -> dict:
    """An mplhep style (a dict or a list of dicts) as one rc dict."""
    if isinstance(style, dict):
        return dict(style)
    out: dict = {}
    for part in style:
        out.update(_flat_style(part))
    return out


def _save(fig, style, stem: str | os.PathLike[str], formats: Sequence[str]) -> list[Path]:
    try:
        written = []
        stem = Path(stem)
        for fmt in formats:
            target = stem.with_name(f"{stem.name}.{fmt}")
            with atomic_path(target) as tmp:
                fig.savefig(tmp, format=fmt)
            written.append(target)
        return written
    finally:
        style.__exit__(None, None, None)


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


# ---- ROC ---------------------------------------------------------------------------------


def plot_roc(
    path_stem: str | os.PathLike[str],
    curves: Sequence[tuple[str, np.ndarray, np.ndarray]],
    *,
    title: str = "Signal efficiency vs. Background rejection",
    formats: Sequence[str] = FORMATS,
) -> list[Path]:
    """Plot background rejection against signal efficiency; write ``<stem>.png`` and ``.pdf``.

    ``curves`` holds ``(label, eff_s, rej_b)`` triples, e.g. from
    :func:`tmva_lstm.evaluate.roc_curve`; put the ROC integral into the label (as
    :func:`tmva_lstm.results.write_results` does). A curve whose label contains "train" is
    drawn dashed. Axis titles follow ``Factory::GetROCCurve``.
    """
    if not curves:
        raise DataError("plot_roc needs at least one curve")
    fig, style = _figure(8.0, 7.0)
    ax = fig.add_subplot(1, 1, 1)
    colours = ["#0000ee", "#ff0000", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
    for i, (label, eff_s, rej_b) in enumerate(curves):
        x, y = _thin(eff_s, rej_b)
        style_ = "--" if "train" in label.lower() else "-"
        ax.plot(x, y, style_, color=colours[i % len(colours)], lw=2, label=label)
    ax.plot([0, 1], [1, 0], ":", color="0.5", lw=1, label="random guess")
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.05)
    ax.set_xlabel("Signal efficiency (Sensitivity)")
    ax.set_ylabel("Background rejection (Specificity)")
    ax.set_title(title, fontsize="medium")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower left", fontsize="small", frameon=True)
    fig.tight_layout()
    return _save(fig, style, path_stem, formats)


# ---- overtraining check -----------------------------------------------------------------


def _errors(h: Hist1D) -> np.ndarray:
    return np.sqrt(h.sumw2[1:-1]) if h.sumw2 is not None else np.sqrt(np.abs(h.values))


def _uoflow_percent(h: Hist1D) -> tuple[float, float]:
    """TMVAGui's U/O-flow text: flow contents x bin width, in % (the histogram is a density)."""
    width = (h.xmax - h.xmin) / h.nbins
    return 100.0 * h.contents[0] * width, 100.0 * h.contents[-1] * width


def plot_overtraining(
    path_stem: str | os.PathLike[str],
    evaluation,
    *,
    title: str,
    formats: Sequence[str] = FORMATS,
) -> list[Path]:
    """TMVAGui's overtraining check for one classifier (``mvas(..., kCompareType)``).

    Test responses (``MVA_<T>_S/_B``) as filled histograms, training responses
    (``_Train_S/_B``) as points with errors, and the K-S probabilities of
    :attr:`Evaluation.ks_signal`/``ks_background``. Without a training sample
    (``evaluation.has_training`` false): the test responses only (``kMVAType``).
    """
    import mplhep

    s, b = evaluation.histogram("_S"), evaluation.histogram("_B")
    fig, style = _figure(8.0, 6.4)
    ax = fig.add_subplot(1, 1, 1)
    compare = evaluation.has_training
    suffix = " (test sample)" if compare else ""
    mplhep.histplot(s.values, s.edges, ax=ax, histtype="fill", color=SIGNAL["fill"], alpha=0.55,
                    label="Signal" + suffix)  # fmt: skip
    mplhep.histplot(s.values, s.edges, ax=ax, histtype="step", color=SIGNAL["line"], lw=1.5)
    mplhep.histplot(b.values, b.edges, ax=ax, histtype="fill", facecolor="none",
                    edgecolor=BACKGROUND["line"], hatch="////", label="Background" + suffix)  # fmt: skip
    mplhep.histplot(b.values, b.edges, ax=ax, histtype="step", color=BACKGROUND["line"], lw=1.5)
    ymax = max(s.values.max(), b.values.max())
    if compare:
        ts, tb = evaluation.histogram("_Train_S"), evaluation.histogram("_Train_B")
        for h, colour, label in (
            (ts, SIGNAL["line"], "Signal"),
            (tb, BACKGROUND["line"], "Background"),
        ):
            mplhep.histplot(h.values, h.edges, yerr=_errors(h), ax=ax, histtype="errorbar",
                            color=colour, marker="o", markersize=4, label=f"{label} (training sample)")  # fmt: skip
            ymax = max(ymax, float((h.values + _errors(h)).max()))
        ks = (f"Kolmogorov-Smirnov test: signal (background) probability = "
              f"{evaluation.ks_signal:5.3g} ({evaluation.ks_background:5.3g})")  # fmt: skip
        ax.text(0.03, 0.74, ks, transform=ax.transAxes, fontsize="x-small", va="top")
    ax.set_xlim(s.xmin, s.xmax)
    ax.set_ylim(0.0, ymax * (1.6 if compare else 1.3))
    ax.set_xlabel(f"{title} response")
    ax.set_ylabel("(1/N) dN / dx")
    ax.set_title(
        f"TMVA overtraining check for classifier: {title}" if compare
        else f"TMVA response for classifier: {title}",
        fontsize="medium",
    )  # fmt: skip
    (us, os_), (ub, ob) = _uoflow_percent(s), _uoflow_percent(b)
    ax.text(1.01, 0.02, f"U/O-flow (S,B): ({us:.1f}, {ub:.1f})% / ({os_:.1f}, {ob:.1f})%",
            transform=ax.transAxes, rotation=90, fontsize="x-small", va="bottom")  # fmt: skip
    ax.legend(loc="upper left", ncols=2 if compare else 1, fontsize="x-small", frameon=False)
    fig.tight_layout()
    return _save(fig, style, path_stem, formats)


# ---- training history -------------------------------------------------------------------


def plot_history(
    path_stem: str | os.PathLike[str],
    train_loss: Sequence[float],
    val_loss: Sequence[float] | None = None,
    *,
    best_epoch: int = 0,
    title: str = "",
    loss_name: str = "loss",
    formats: Sequence[str] = FORMATS,
) -> list[Path]:
    """Training and validation loss per epoch (epochs 1..n), ``best_epoch`` marked.

    ``val_loss`` may hold NaN for epochs without validation; ``best_epoch`` 0 means the
    initial weights were kept (no marker).
    """
    y = np.asarray(train_loss, dtype=np.float64)
    if y.size == 0:
        raise DataError("plot_history needs at least one epoch")
    epochs = np.arange(1, y.size + 1)
    fig, style = _figure(8.0, 5.6)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(epochs, y, "o-", color=SIGNAL["line"], ms=4, label="training")
    if val_loss is not None:
        v = np.asarray(val_loss, dtype=np.float64)
        ok = np.isfinite(v)
        if ok.any():
            ax.plot(epochs[ok], v[ok], "s-", color=BACKGROUND["line"], ms=4, label="validation")
    if 1 <= best_epoch <= y.size:
        ax.axvline(best_epoch, color="0.3", ls="--", lw=1.2, label=f"best epoch ({best_epoch})")
    ax.set_xlabel("Epoch")
    ax.set_ylabel(loss_name)
    ax.set_xlim(0.5, y.size + 0.5)
    if y.size <= 20:
        ax.set_xticks(epochs)
    ax.set_title(f"Training history: {title}" if title else "Training history", fontsize="medium")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    return _save(fig, style, path_stem, formats)


# ---- input variables --------------------------------------------------------------------


def _density(h: Hist1D) -> np.ndarray:
    """TMVAGlob::NormalizeHists: scale to unit area (in-range sum x bin width)."""
    total = float(h.values.sum()) * (h.xmax - h.xmin) / h.nbins
    return h.values / total if total > 0 else h.values


def histograms_by_variable(
    histograms: Sequence[Hist1D], class_names: Sequence[str]
) -> list[tuple[str, list[Hist1D]]]:
    """``[(variable, [its histogram of each class, in class order]), ...]`` in the order the
    variables first appear, for the variables that have all classes. A histogram's variable
    and class come from its name, ``<var>__<class>_Id`` (targets: ``<var>__<class>_target_Id``),
    split at the last ``__``."""
    names = list(class_names)
    found: dict[tuple[str, str], Hist1D] = {}
    order: list[str] = []
    for h in histograms:
        variable, sep, rest = h.name.rpartition("__")
        cname = rest.removesuffix("_Id").removesuffix("_target")
        if sep and cname in names:
            found[(variable, cname)] = h
            if variable not in order:
                order.append(variable)
    return [(v, [found[(v, c)] for c in names]) for v in order
            if all((v, c) in found for c in names)]  # fmt: skip


def plot_input_variables(
    path_stem: str | os.PathLike[str],
    histograms: Sequence[Hist1D],
    *,
    class_names: Sequence[str] = ("Signal", "Background"),
    max_plots: int = 12,
    ncols: int = 4,
    title: str = "Input variables (training sample)",
    formats: Sequence[str] = FORMATS,
) -> list[Path]:
    """The input variables per class on a grid, normalised as ``variables.cxx`` draws them.

    ``histograms`` are the ``InputVariables_Id`` histograms ``<var>__<class>...`` of
    :func:`tmva_lstm.results.variables.input_variable_histograms` (two classes) or
    :func:`tmva_lstm.results.analysis_types.dataset_variable_histograms` (Multiclass: one per class;
    Regression: the one class ``Regression``, targets included). The first class is filled
    blue, the second hatched red, further classes are lines (``variablesMultiClass.cxx``).
    With more than ``max_plots`` variables the first ``max_plots`` are drawn and a note says so
    (all of them are in the output file's ``InputVariables_Id`` directory).
    """
    names = list(class_names)
    rows = histograms_by_variable(histograms, names)
    if not rows:
        raise DataError(f"plot_input_variables needs histograms of the classes {names}")
    import mplhep

    n_all = len(rows)
    shown = rows[:max_plots]
    ncols = min(ncols, len(shown))
    nrows = math.ceil(len(shown) / ncols)
    fig, style = _figure(3.6 * ncols, 3.0 * nrows + 0.8, font=11.0, minor=False)
    for k, (variable, group) in enumerate(shown):
        ax = fig.add_subplot(nrows, ncols, k + 1)
        top = 1e-300
        for c, (cname, h) in enumerate(zip(names, group, strict=True)):
            d = _density(h)
            top = max(top, float(d.max()))
            if c == 0:
                mplhep.histplot(d, h.edges, ax=ax, histtype="fill", color=SIGNAL["fill"],
                                alpha=0.55, label=cname)  # fmt: skip
                mplhep.histplot(d, h.edges, ax=ax, histtype="step", color=SIGNAL["line"], lw=1)
            elif c == 1:
                mplhep.histplot(d, h.edges, ax=ax, histtype="step", color=BACKGROUND["line"],
                                lw=1.2, hatch="////", label=cname)  # fmt: skip
            else:
                mplhep.histplot(d, h.edges, ax=ax, histtype="step",
                                color=CLASS_COLOURS[c % len(CLASS_COLOURS)], lw=1.2, label=cname)  # fmt: skip
        ax.set_xlim(group[0].xmin, group[0].xmax)
        ax.set_ylim(0, 1.25 * top)
        ax.set_xlabel(variable, fontsize="small")
        ax.set_ylabel("(1/N) dN/dx", fontsize="x-small")
        ax.tick_params(labelsize="x-small")
        if k == 0:
            handles, labels = ax.get_legend_handles_labels()
    note = title
    if n_all > len(shown):
        note += f": the first {len(shown)} of {n_all} variables (all are in InputVariables_Id)"
    fig.suptitle(note, fontsize="medium", x=0.02, ha="left")
    if len(names) > 1:
        fig.legend(handles, labels, loc="upper right", ncols=min(len(names), 4),
                   fontsize="small", frameon=False)  # fmt: skip
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return _save(fig, style, path_stem, formats)
