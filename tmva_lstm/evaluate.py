"""Evaluation of a binary classifier the way TMVA's Factory evaluates it.

:func:`evaluate` puts together the pieces of :mod:`tmva_lstm.evaluation`, one per concept:

* the ROC integral of the Factory printout (``ROCCurve``, unbinned): :mod:`~tmva_lstm.evaluation.roc`;
* the response histograms ``MVA_<T>_S/_B/...`` (``MethodBase::TestClassification``):
  :mod:`~tmva_lstm.evaluation.histograms`;
* the signal efficiencies at background efficiency 0.01 / 0.10 / 0.30 and the efficiency
  histograms (``MethodBase::GetEfficiency``/``GetTrainingEfficiency``, binned, with splines):
  :mod:`~tmva_lstm.evaluation.efficiencies`;
* TMVAGui's overtraining check, ``TH1::KolmogorovTest(..., "X")``: :mod:`~tmva_lstm.evaluation.ks`.

Without a training sample (``train_scores=None``: ``tmva-lstm evaluate`` on new events) there
is no overtraining check: no ``_Train_*``/``_training*`` histograms, no training efficiencies,
no K-S probabilities, and the summary says so.

The names below are re-exported here, so ``from tmva_lstm.evaluate import roc_curve`` works.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from .evaluation.efficiencies import (
    _check_eff_b,
    _efficiencies,
    _scan_eff_s,
    _test_range,
    eff_s_at_eff_b,
)
from .evaluation.histograms import Hist1D, _filled, _norm_hist, _set_bins
from .evaluation.ks import kolmogorov_prob, kolmogorov_test, ks_probabilities
from .evaluation.roc import _integral_from_vectors, roc_curve, roc_integral, roc_vectors
from .evaluation.sample import (
    DBL_EPSILON,
    EFF_B_POINTS,
    N_BINS_HIGH,
    N_BINS_MVA,
    N_BINS_ROC,
    XMAX_PAD,
    as_sample,
)

__all__ = [
    "EFF_B_POINTS",
    "Evaluation",
    "Hist1D",
    "evaluate",
    "eff_s_at_eff_b",
    "kolmogorov_prob",
    "kolmogorov_test",
    "roc_curve",
    "roc_integral",
]

#: MsgLogger prints kINFO lines as a 25-wide empty source field followed by ": ".
_LOG_PREFIX = " " * 25 + ": "
#: Factory::EvaluateAllMethods' separator line (115 dashes).
_HLINE = "-" * 115

# ---- the evaluation ----------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Evaluation:
    """TMVA's numbers for one classifier; see :mod:`tmva_lstm.evaluation` for their definitions.

    The training-sample fields are None when no training sample was given.
    """

    roc_integral: float  # ROCCurve on the test sample: the Factory's "ROC-integ"
    roc_integral_train: float | None  # the same on the training sample (not printed by TMVA)
    eff_at_b: dict[float, float]  # GetEfficiency on the test sample, keys EFF_B_POINTS
    eff_at_b_train: dict[float, float] | None  # GetTrainingEfficiency (TMVA's quirk included)
    ks_signal: float | None  # KolmogorovTest(MVA_S, MVA_Train_S, "X"), as TMVAGui
    ks_background: float | None  # KolmogorovTest(MVA_B, MVA_Train_B, "X")
    cut_orientation: int  # +1: signal has the higher response (TMVA's kPositive)
    xmin: float  # histogram range [xmin, xmax + 1e-5] after TMVA's 10-RMS clipping
    xmax: float
    histograms: tuple[Hist1D, ...] = field(repr=False, default=())
    ks_method: str | None = None  # "root" (TH1::KolmogorovTest) or "numpy"; None: no K-S

    @property
    def has_training(self) -> bool:
        """Whether a training sample was evaluated (the overtraining check exists)."""
        return self.eff_at_b_train is not None

    def histogram(self, suffix: str) -> Hist1D:
        """One histogram by TMVA's suffix, e.g. ``"_S"``, ``"_Train_B"``, ``"_rejBvsS"``."""
        for h in self.histograms:
            if h.name == suffix:
                return h
        raise KeyError(f"no histogram {suffix!r}; have {[h.name for h in self.histograms]}")

    def tmva_histograms(self, title: str) -> list[Hist1D]:
        """The method-directory histograms named as TMVA names them (``MVA_<title>_...``)."""
        testvar = "MVA_" + title
        return [replace(h, name=testvar + h.name, title=testvar + h.title) for h in self.histograms]

    def ks_line(self) -> str:
        """TMVAGui's K-S line (``"%5.3g (%5.3g)"``) and who computed it."""
        if self.ks_signal is None or self.ks_background is None:
            return "Kolmogorov-Smirnov test: not available (no training sample evaluated)"
        who = {
            "root": "ROOT TH1::KolmogorovTest",
            "numpy": "NumPy, TH1::KolmogorovTest's method",
        }.get(self.ks_method or "", str(self.ks_method))
        return (
            "Kolmogorov-Smirnov test: signal (background) probability = "
            f"{self.ks_signal:5.3g} ({self.ks_background:5.3g})"
            f'  [option "X", 1000 pseudo-experiments; {who}]'
        )

    def summary(self, title: str, dataset: str = "dataset", *, log_prefix: bool = True) -> str:
        """The two blocks ``Factory::EvaluateAllMethods`` prints, plus TMVAGui's K-S line.

        Without a training sample the second block shows the test efficiencies only.
        ``log_prefix`` adds MsgLogger's kINFO prefix (25 blanks and ``": "``) to every line.
        """
        e = self.eff_at_b
        lines = [
            "Evaluation results ranked by best signal efficiency and purity (area)",
            _HLINE,
            "DataSet       MVA                       ",
            "Name:         Method:          ROC-integ",
            f"{dataset:<13} {title:<15}: {self.roc_integral:#1.3f}",  # "%-13s %-15s: %#1.3f"
            _HLINE,
            "",
        ]
        if self.eff_at_b_train is not None:
            t = self.eff_at_b_train
            lines += [
                "Testing efficiency compared to training efficiency (overtraining check)",
                _HLINE,
                "DataSet              MVA              Signal efficiency: from test sample "
                "(from training sample) ",
                "Name:                Method:          @B=0.01             @B=0.10            "
                "@B=0.30   ",
                _HLINE,
                # "%-20s %-15s: %#1.3f (%#1.3f)       %#1.3f (%#1.3f)      %#1.3f (%#1.3f)"
                f"{dataset:<20} {title:<15}: {e[0.01]:#1.3f} ({t[0.01]:#1.3f})       "
                f"{e[0.10]:#1.3f} ({t[0.10]:#1.3f})      {e[0.30]:#1.3f} ({t[0.30]:#1.3f})",
                _HLINE,
            ]
        else:
            lines += [
                "Signal efficiency at fixed background efficiency (no training sample: "
                "no overtraining check)",
                _HLINE,
                "DataSet              MVA              Signal efficiency: from test sample",
                "Name:                Method:          @B=0.01             @B=0.10            "
                "@B=0.30   ",
                _HLINE,
                f"{dataset:<20} {title:<15}: {e[0.01]:#1.3f}               "
                f"{e[0.10]:#1.3f}              {e[0.30]:#1.3f}",
                _HLINE,
            ]
        lines += ["", self.ks_line()]
        prefix = _LOG_PREFIX if log_prefix else ""
        return "\n".join(prefix + line for line in lines) + "\n"


def evaluate(
    test_scores: object,
    test_labels: object,
    test_weights: object | None,
    train_scores: object | None = None,
    train_labels: object | None = None,
    train_weights: object | None = None,
    *,
    eff_b_points: Sequence[float] = EFF_B_POINTS,
    ks_method: str = "auto",
) -> Evaluation:
    """Evaluate test (and training) responses as ``Factory::EvaluateAllMethods`` does.

    Labels: 1 signal, 0 background. Weights may be None (all 1). Test scores are rounded to
    float32 (TMVA stores them so); training scores are used as given (TMVA recomputes them
    in double precision). ``train_scores=None``: no training sample, so no overtraining
    check (see the module docstring). ``ks_method`` chooses who runs TMVAGui's K-S test
    (``"auto"``: ROOT when PyROOT imports, else NumPy; see :mod:`tmva_lstm.evaluation.ks`).
    The returned :class:`Evaluation` also carries every histogram TMVA writes to
    ``<dataset>/Method_<Type>/<Title>/`` (see :meth:`Evaluation.tmva_histograms`).
    """
    points = tuple(_check_eff_b(p) for p in eff_b_points)
    x, sig, w = as_sample(test_scores, test_labels, test_weights, "test")
    rng = _test_range(x, sig, w)
    hi = rng.xmax + XMAX_PAD

    # TestClassification: response distributions, density-normalised
    mva_s = _norm_hist(_filled("_S", x[sig], w[sig], N_BINS_MVA, rng.xmin, hi))
    mva_b = _norm_hist(_filled("_B", x[~sig], w[~sig], N_BINS_MVA, rng.xmin, hi))
    high_s = _norm_hist(_filled("_S_high", x[sig], w[sig], N_BINS_HIGH, rng.xmin, hi))
    high_b = _norm_hist(_filled("_B_high", x[~sig], w[~sig], N_BINS_HIGH, rng.xmin, hi))

    # GetEfficiency on the test sample
    test_eff = _efficiencies(x, sig, w, rng, None)
    eff_at_b = {p: _scan_eff_s(test_eff.eff_b_vs_s, p) for p in points}
    curve = test_eff.eff_b_vs_s
    inv = np.where(curve > DBL_EPSILON, 1.0 / np.where(curve > DBL_EPSILON, curve, 1.0), 0.0)
    roc_titles = {"x_title": "Signal eff"}
    histograms = [
        mva_s,
        mva_b,
        high_s,
        high_b,
        _set_bins("_effS", " (signal)", N_BINS_HIGH, rng.xmin, hi, test_eff.eff_s),
        _set_bins("_effB", " (background)", N_BINS_HIGH, rng.xmin, hi, test_eff.eff_b),
        _set_bins("_effBvsS", "", N_BINS_ROC, 0.0, 1.0, curve, **roc_titles, y_title="Backgr eff"),
        _set_bins(
            "_rejBvsS",
            "",
            N_BINS_ROC,
            0.0,
            1.0,
            1.0 - curve,
            **roc_titles,
            y_title="Backgr rejection (1-eff)",
        ),
        _set_bins(
            "_invBeffvsSeff",
            "",
            N_BINS_ROC,
            0.0,
            1.0,
            inv,
            **roc_titles,
            y_title="Inverse backgr. eff (1/eff)",
        ),
    ]
    fields: dict[str, object] = {
        "roc_integral_train": None,
        "eff_at_b_train": None,
        "ks_signal": None,
        "ks_background": None,
        "ks_method": None,
    }
    if train_scores is not None:
        xt, sigt, wt = as_sample(
            train_scores, train_labels, train_weights, "training", float32_scores=False
        )
        # GetTrainingEfficiency: root finder on the TEST signal spline (TMVA's quirk)
        train_eff = _efficiencies(xt, sigt, wt, rng, test_eff.spline_s)
        train_s = _norm_hist(_filled("_Train_S", xt[sigt], wt[sigt], N_BINS_MVA, rng.xmin, hi))
        train_b = _norm_hist(_filled("_Train_B", xt[~sigt], wt[~sigt], N_BINS_MVA, rng.xmin, hi))
        tr_curve = train_eff.eff_b_vs_s
        histograms += [
            train_s,
            train_b,
            _set_bins("_trainingEffS", " (signal)", N_BINS_HIGH, rng.xmin, hi, train_eff.eff_s),
            _set_bins("_trainingEffB", " (background)", N_BINS_HIGH, rng.xmin, hi, train_eff.eff_b),
            _set_bins("_trainingEffBvsS", "", N_BINS_ROC, 0.0, 1.0, tr_curve),
            _set_bins("_trainingRejBvsS", "", N_BINS_ROC, 0.0, 1.0, 1.0 - tr_curve),
        ]
        (ks_s, ks_b), method = ks_probabilities([(mva_s, train_s), (mva_b, train_b)], ks_method)
        fields = {
            "roc_integral_train": _integral_from_vectors(*roc_vectors(xt, sigt, wt)),
            "eff_at_b_train": {p: _scan_eff_s(tr_curve, p) for p in points},
            "ks_signal": ks_s,
            "ks_background": ks_b,
            "ks_method": method,
        }
    elif train_labels is not None or train_weights is not None:
        raise TypeError("train_labels/train_weights given without train_scores")
    return Evaluation(
        roc_integral=_integral_from_vectors(*roc_vectors(x, sig, w)),
        eff_at_b=eff_at_b,
        cut_orientation=rng.sign,
        xmin=rng.xmin,
        xmax=rng.xmax,
        histograms=tuple(histograms),
        **fields,
    )
