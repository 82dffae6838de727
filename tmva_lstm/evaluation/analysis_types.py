"""Evaluation of Multiclass and Regression results as TMVA's Factory prints them.

* Multiclass (``Factory::EvaluateAllMethods``, "1-vs-rest performance metrics per class"):
  for each class k, the class-k probability of every event is the score and class k the
  signal (``Factory::GetROC(dataset, method, k, type)``); the printed ``ROC AUC`` is
  ``ROCCurve::GetROCIntegral`` (:func:`tmva_lstm.evaluate.roc_integral`) and the signal
  efficiencies at background efficiency 0.01 / 0.10 / 0.30 are ``ROCCurve::GetEffSForEffB``
  (:func:`tmva_lstm.evaluate.eff_s_at_eff_b` with ``method="roccurve"``), test (train).
* Regression (``MethodBase::TestRegression``): deviations ``d = regression - target`` with the
  event weights: bias ``<d>``, mean absolute deviation, ``RMS = sqrt(<d^2> - <d>^2)``, the
  "truncated" ``_T`` quantities over events with ``|d - bias| <= 2 RMS``, and the mutual
  information of a 150 x 100-bin histogram of (regression, target) on their common range,
  rebinned by 2 in each axis (``Tools::GetMutualInformation``, natural log). Values are
  rounded to float32 as TMVA stores them. TMVA evaluates the first target only; we give every
  target a row (the row of the first target is TMVA's).

Multiclass confusion matrices (``ResultsMulticlass::GetConfusionMatrix``, printed by the
Factory after the 1-vs-rest table): entry (row r, column c), r != c, is the signal efficiency
at background efficiency 0.01 / 0.10 / 0.30 of class r (signal) against class c (background)
alone, on the class-r probability (``ROCCurve::GetEffSForEffB``). TMVA's printing lambda takes
``(training, testing)`` but is called with ``(testing, training)``, so its cells show the
training value first under the header "test (train)"; we print the test value first, as the
header says.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import DataError
from .efficiencies import eff_s_at_eff_b
from .roc import roc_integral

__all__ = [
    "ClassMetrics",
    "MulticlassEvaluation",
    "evaluate_multiclass",
    "confusion_matrix",
    "Deviations",
    "RegressionEvaluation",
    "regression_deviations",
    "evaluate_regression",
]

EFF_B = (0.01, 0.10, 0.30)
_LOG_PREFIX = " " * 25 + ": "  # MsgLogger's kINFO prefix of the Factory's lines
_MULTI_LINE = "-" * 103
_REG_LINE = "-" * 98


def _weights(w, n: int) -> np.ndarray:
    w = np.ones(n) if w is None else np.asarray(w, dtype=np.float64).reshape(-1)
    if len(w) != n:
        raise DataError(f"{len(w)} weights for {n} events")
    return w


# --------------------------------------------------------------------------- multiclass


@dataclass(frozen=True)
class ClassMetrics:
    """One class against the rest: ROC integral and effS at effB 0.01/0.10/0.30."""

    name: str
    roc_test: float
    roc_train: float
    eff_test: tuple[float, float, float]
    eff_train: tuple[float, float, float]


def _one_vs_rest(probs: np.ndarray, y: np.ndarray, w: np.ndarray, k: int):
    labels = (y == k).astype(np.int64)
    if labels.all() or not labels.any():
        return float("nan"), (float("nan"),) * 3
    roc = roc_integral(probs[:, k], labels, w)
    effs = tuple(eff_s_at_eff_b(probs[:, k], labels, w, b, method="roccurve") for b in EFF_B)
    return roc, effs


def confusion_matrix(probs: np.ndarray, y: np.ndarray, w: np.ndarray, eff_b: float) -> np.ndarray:
    """``ResultsMulticlass::GetConfusionMatrix(effB)``: ``(K, K)``, NaN on the diagonal."""
    k = probs.shape[1]
    mat = np.full((k, k), np.nan)
    for r in range(k):
        for c in range(k):
            rows = (y == r) | (y == c)
            if r == c or not (y == r).any() or not (y == c).any():
                continue
            labels = (y[rows] == r).astype(np.int64)
            mat[r, c] = eff_s_at_eff_b(probs[rows, r], labels, w[rows], eff_b, method="roccurve")
    return mat


def _confusion_block(title: str, names, test: dict, train: dict) -> list[str]:
    """The Factory's "Confusion matrices for all methods" block for one method."""
    lines = [
        "",
        "Confusion matrices for all methods",
        _MULTI_LINE,
        "",
        "Does a binary comparison between the two classes given by a ",
        "particular row-column combination. In each case, the class ",
        "given by the row is considered signal while the class given ",
        "by the column index is considered background.",
        "",
        f"=== Showing confusion matrix for method : {title:<15}",
    ]
    for b in EFF_B:
        lines += [f"(Signal Efficiency for Background Efficiency {b:.2f}%)", "-" * 51]
        lines.append(f" {' ':<14}" + "".join(f" {n:<14}" for n in names))
        lines.append(f" {' ':<14}" + "".join(f" {' test (train)':<14}" for _ in names))
        for r, rname in enumerate(names):
            cells = [
                "-" if r == c else f"{test[b][r, c]:<5.3f} ({train[b][r, c]:<5.3f})"
                for c in range(len(names))
            ]
            lines.append(f" {rname:<14}" + "".join(f" {cell:<14}" for cell in cells))
        lines.append("")
    return [*lines, _MULTI_LINE, ""]


@dataclass(frozen=True)
class MulticlassEvaluation:
    """TMVA's multiclass figures for one method, class by class.

    ``confusion_test[eff_b]`` and ``confusion_train[eff_b]``: :func:`confusion_matrix` at
    background efficiency 0.01, 0.10, 0.30.
    """

    classes: tuple[ClassMetrics, ...]
    confusion_test: dict = field(default_factory=dict)
    confusion_train: dict = field(default_factory=dict)

    def summary(self, title: str, dataset: str = "dataset", *, log_prefix: bool = True) -> str:
        """The Factory's "1-vs-rest performance metrics per class" block."""
        head = ("Dataset", "MVA Method", "ROC AUC", "Sig eff@B=0.01", "Sig eff@B=0.10",
                "Sig eff@B=0.30")  # fmt: skip
        sub = ("Name:", "/ Class:") + ("test  (train)",) * 4
        lines = [
            "",
            "1-vs-rest performance metrics per class",
            _MULTI_LINE,
            "",
            "Considers the listed class as signal and the other classes",
            "as background, reporting the resulting binary performance.",
            "A score of 0.820 (0.850) means 0.820 was acheived on the",
            "test set and 0.850 on the training set.",
            "",
            "".join(f"{t:<15}" for t in head),
            "".join(f"{t:<15}" for t in sub),
            "",
            f"{dataset:<15}{title:<15}",
            "-" * 30,
        ]
        for c in self.classes:
            cells = [f"{c.roc_test:5.3f} ({c.roc_train:5.3f})"] + [
                f"{a:5.3f} ({b:5.3f})" for a, b in zip(c.eff_test, c.eff_train, strict=True)
            ]
            lines.append("".join(f"{t:<15}" for t in ["", c.name, *cells]))
        lines += ["", _MULTI_LINE, ""]
        if self.confusion_test:
            names = [c.name for c in self.classes]
            lines += _confusion_block(title, names, self.confusion_test, self.confusion_train)
        prefix = _LOG_PREFIX if log_prefix else ""
        return "\n".join(prefix + line for line in lines) + "\n"


def evaluate_multiclass(
    test_probs, test_y, test_w, train_probs, train_y, train_w, class_names
) -> MulticlassEvaluation:
    """``*_probs (N, K)`` class probabilities, ``*_y (N,)`` true classes, ``*_w`` weights."""
    out = []
    samples = []
    for probs, y, w in ((test_probs, test_y, test_w), (train_probs, train_y, train_w)):
        probs = np.asarray(probs, dtype=np.float64)
        y = np.asarray(y).reshape(-1)
        if probs.ndim != 2 or probs.shape != (len(y), len(class_names)):
            raise DataError(
                f"class probabilities must be (N, K) = ({len(y)}, {len(class_names)}), "
                f"got {probs.shape}"
            )
        samples.append((probs, y, _weights(w, len(y))))
    for k, name in enumerate(class_names):
        roc_test, eff_test = _one_vs_rest(*samples[0], k)
        roc_train, eff_train = _one_vs_rest(*samples[1], k)
        out.append(ClassMetrics(name, roc_test, roc_train, eff_test, eff_train))
    confusion = [{b: confusion_matrix(probs, y, w, b) for b in EFF_B} for probs, y, w in samples]
    return MulticlassEvaluation(tuple(out), *confusion)


# --------------------------------------------------------------------------- regression


@dataclass(frozen=True)
class Deviations:
    """``MethodBase::TestRegression`` for one target on one sample."""

    bias: float
    bias_t: float
    dev: float
    dev_t: float
    rms: float
    rms_t: float
    mutinf: float
    mutinf_t: float


def _mutual_information(r, t, w, lo: float, hi: float) -> float:
    """``Tools::GetMutualInformation`` of a TH2F(150, lo, hi, 100, lo, hi) of (r, t)."""
    h = np.zeros((150, 100))
    span = hi - lo
    ix = np.floor(150 * (r - lo) / span).astype(np.int64) if span > 0 else np.zeros(len(r), int)
    iy = np.floor(100 * (t - lo) / span).astype(np.int64) if span > 0 else np.zeros(len(t), int)
    inside = (ix >= 0) & (ix < 150) & (iy >= 0) & (iy < 100)  # TH1 bins are [low, up)
    np.add.at(h, (ix[inside], iy[inside]), w[inside])
    total = h.sum()  # Integral(): in-range bins only
    if total == 0:
        return -1.0
    h = h.reshape(75, 2, 50, 2).sum(axis=(1, 3))  # RebinX(2), RebinY(2)
    p_xy = h / total
    p_x = h.sum(axis=1, keepdims=True) / total
    p_y = h.sum(axis=0, keepdims=True) / total
    ok = (p_xy > 0) & (p_x > 0) & (p_y > 0)
    ratio = np.where(ok, p_xy, 1.0) / np.where(ok, p_x * p_y, 1.0)
    return float(np.sum(np.where(ok, p_xy * np.log(ratio), 0.0)))


def regression_deviations(regression, target, weights=None) -> Deviations:
    """TMVA's deviation statistics of ``regression (N,)`` against ``target (N,)``."""
    r = np.asarray(regression, dtype=np.float32).astype(np.float64).reshape(-1)
    t = np.asarray(target, dtype=np.float32).astype(np.float64).reshape(-1)
    w = _weights(weights, len(r)).astype(np.float32).astype(np.float64)
    if len(t) != len(r) or len(r) == 0:
        raise DataError(f"{len(r)} regression values for {len(t)} targets")
    d = r - t
    sumw = w.sum()
    bias = float(np.dot(w, d) / sumw)
    dev = float(np.dot(w, np.abs(d)) / sumw)
    rms = float(np.sqrt(max(np.dot(w, d * d) / sumw - bias * bias, 0.0)))
    keep = (d >= bias - 2 * rms) & (d <= bias + 2 * rms)
    sw = w[keep].sum()
    bias_t = float(np.dot(w[keep], d[keep]) / sw)
    dev_t = float(np.dot(w[keep], np.abs(d[keep])) / sw)
    rms_t = float(np.sqrt(max(np.dot(w[keep], d[keep] ** 2) / sw - bias_t * bias_t, 0.0)))
    lo, hi = float(min(t.min(), r.min())), float(max(t.max(), r.max()))
    return Deviations(
        bias, bias_t, dev, dev_t, rms, rms_t,
        _mutual_information(r, t, w, lo, hi), _mutual_information(r[keep], t[keep], w[keep], lo, hi),
    )  # fmt: skip


@dataclass(frozen=True)
class RegressionEvaluation:
    """TMVA's regression figures, one entry per target, test and training sample."""

    target_names: tuple[str, ...]
    test: tuple[Deviations, ...]
    train: tuple[Deviations, ...]

    def summary(self, title: str, dataset: str = "dataset", *, log_prefix: bool = True) -> str:
        """The Factory's two regression blocks (test sample, then training sample)."""

        def rows(devs):
            out = []
            for name, d in zip(self.target_names, devs, strict=True):
                label = title if len(self.target_names) == 1 else f"{title}:{name}"
                # "%-20s %-15s:%#9.3g%#9.3g%#9.3g%#9.3g  |  %#5.3f  %#5.3f"
                out.append(
                    f"{dataset:<20} {label:<15}:{_g(d.bias)}{_g(d.bias_t)}{_g(d.rms)}"
                    f"{_g(d.rms_t)}  |  {d.mutinf:#5.3f}  {d.mutinf_t:#5.3f}"
                )
            return out

        header = (
            "DataSet Name:         MVA Method:        <Bias>   <Bias_T>    RMS    RMS_T  |  "
            "MutInf MutInf_T"
        )
        lines = [
            "",
            "Evaluation results ranked by smallest RMS on test sample:",
            '("Bias" quotes the mean deviation of the regression from true target.',
            ' "MutInf" is the "Mutual Information" between regression and target.',
            ' Indicated by "_T" are the corresponding "truncated" quantities ob-',
            " tained when removing events deviating more than 2sigma from average.)",
            _REG_LINE,
            _REG_LINE,
            *rows(self.test),
            _REG_LINE,
            "",
            "Evaluation results ranked by smallest RMS on training sample:",
            "(overtraining check)",
            _REG_LINE,
            header,
            _REG_LINE,
            *rows(self.train),
            _REG_LINE,
            "",
        ]
        prefix = _LOG_PREFIX if log_prefix else ""
        return "\n".join(prefix + line for line in lines) + "\n"


def _g(x: float) -> str:
    """C's ``%#9.3g``."""
    return f"{x:#9.3g}"


def evaluate_regression(
    test_pred, test_t, test_w, train_pred, train_t, train_w, target_names
) -> RegressionEvaluation:
    """``*_pred``, ``*_t``: ``(N, M)`` regression values and true targets; ``*_w`` weights."""
    out = []
    for pred, t, w in ((test_pred, test_t, test_w), (train_pred, train_t, train_w)):
        pred = np.asarray(pred, dtype=np.float64).reshape(len(pred), -1)
        t = np.asarray(t, dtype=np.float64).reshape(len(t), -1)
        if pred.shape != t.shape or pred.shape[1] != len(target_names):
            raise DataError(f"regression values {pred.shape} and targets {t.shape} disagree")
        out.append(tuple(regression_deviations(pred[:, j], t[:, j], w) for j in range(t.shape[1])))
    return RegressionEvaluation(tuple(target_names), out[0], out[1])
