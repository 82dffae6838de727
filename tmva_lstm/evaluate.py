"""Evaluation of a binary classifier the way TMVA's Factory evaluates it.

Two independent pieces of TMVA are reproduced, because the Factory printout uses both:

1. **The ROC integral** printed as ``ROC-integ`` comes from ``TMVA::ROCCurve``
   (``tmva/tmva/src/ROCCurve.cxx``), called by ``Factory::GetROCIntegral`` on the test
   sample with the event weights. It is unbinned:

   * the events are stored as ``(Float_t value, Float_t weight, Bool_t isSignal)`` and
     sorted ascending by value with ``std::sort``;
   * ``ComputeSpecificity``: ``TN_k = sum_{j<=k} w_j [background]``, returned as
     ``[0, TN_0/B, ..., TN_{N-1}/B, 1]`` (length ``N + 2``; all ``TN/B`` are 0 when
     ``B <= DBL_MIN``);
   * ``ComputeSensitivity``: ``TP_k = sum_{j>=k} w_j [signal]``, returned as
     ``[1, TP_0/S, ..., TP_{N-1}/S, 0]``;
   * ``GetROCIntegral``: ``sum_i 0.5 (FNR_{i+1} - FNR_i)(spec_i + spec_{i+1})`` with
     ``FNR = 1 - sensitivity``.

   Point ``k`` pairs the background weight *up to and including* event ``k`` with the signal
   weight *from* event ``k`` on, so every signal event immediately followed (in sorted
   order) by a background event adds ``0.5 w_s w_b / (S B)`` on top of the Mann-Whitney
   AUC: about ``1/(2N)`` for ``N`` events, a little less for well separated classes.
   :func:`roc_integral` reproduces this, bias included.

   **Ties.** ``std::sort`` is not stable, so for tied values TMVA's order, and with it the
   integral, is unspecified in general. We sort with a *stable* sort (tied events keep their
   input order). For ``N <= 16`` events libstdc++'s ``std::sort`` is a plain insertion sort,
   which is stable too, so small hand-made examples with ties agree exactly. Values are
   rounded to float32 first, as TMVA stores them, which can create ties.

2. **The signal efficiencies at background efficiency 0.01 / 0.10 / 0.30** printed in both
   blocks come from ``MethodBase::GetEfficiency("Efficiency:0.01", kTesting)`` and
   ``MethodBase::GetTrainingEfficiency`` (``tmva/tmva/src/MethodBase.cxx``), *not* from
   ``ROCCurve::GetEffSForEffB`` (the Factory uses that one only for multiclass). They are
   binned:

   * ``TestClassification`` takes the weighted mean and RMS of the test response per class
     (``Tools::ComputeStat``) and clips the range to ``[max(min(meanS - 10 rmsS, meanB -
     10 rmsB), xmin), min(max(meanS + 10 rmsS, meanB + 10 rmsB), xmax)]``; histograms run
     from ``fXmin`` to ``fXmax + 1e-5``; the cut orientation is ``sign(meanS - meanB)``;
   * ``MVA_S/_B`` (40 bins) and ``MVA_S_high/_B_high`` (10000 bins) are filled with the
     weights and density-normalised (``Tools::NormHist``: scaled by ``1/(sum of in-range
     weights x bin width)``);
   * ``_effS/_effB`` (10000 bins): every event adds its weight to the bins ``1..maxbin``
     (``maxbin = int((v - xmin)/(xmax - xmin) * 10000) + 1``; events above the range are
     dropped, below it they count in bin 1); the result is scaled to maximum 1;
   * both are turned into ``TSpline1`` linear interpolations through the bin *centres*
     (``TGraph(TH1*)``); for each of the 100 bins of ``_effBvsS`` a Brent root finder
     (``RootFinder``, from CERNLIB RZERO) finds the cut where the signal spline equals the
     bin centre, and the background spline at that cut is stored;
   * ``GetEfficiency`` walks ``effS = (i - 0.5)/1000`` for ``i = 1..1000`` through a spline of
     ``_effBvsS`` and stops at the first step where the background efficiency crosses the
     requested value (``(effB - ref)(effB_prev - ref) <= 0`` with ``effB_prev = 0`` at the
     start); it returns the mean of that step and the previous one, so results are
     multiples of 0.001.

   **TMVA quirk, reproduced on purpose:** ``GetTrainingEfficiency`` builds its own
   training-sample signal and background splines, but the root finder calls
   ``MethodBase::GetValueForRoot``, which always evaluates ``fSplRefS``: the *test*-sample
   signal spline. The "training" efficiency is therefore the test signal efficiency at the
   cut where the *training* background efficiency reaches the requested value. It is what
   TMVA prints in parentheses; :func:`evaluate` returns the same number. The single-sample
   :func:`eff_s_at_eff_b` uses the sample's own signal.

The overtraining check of TMVAGui (``mvas(..., kCompareType)``, ``tmva/tmvagui/src/mvas.cxx``)
compares ``MVA_<T>_S`` with ``MVA_<T>_Train_S`` (and ``_B``) with ``TH1::KolmogorovTest``.
TMVAGui passes option ``"X"`` (1000 pseudo-experiments drawn with ``gRandom``: not
reproducible); we return the analytic probability of the default option (``""``):
``z = D sqrt(n1 n2/(n1 + n2))`` with effective entries ``n = (sum w)^2 / sum w^2`` over the
in-range bins, then ``TMath::KolmogorovProb(z)``.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from .errors import DataError, NonFiniteInputError, OptionError

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

# ---- TMVA constants (file and symbol they come from) --------------------------------------
N_BINS_MVA = 40  # Config: fVariablePlotting.fNbinsMVAoutput (MVA_S/_B, _Train_S/_B)
N_BINS_HIGH = 10000  # MethodBase.cxx: NBIN_HIST_HIGH (_S_high, _effS, _trainingEffS ...)
N_BINS_ROC = 100  # Config: fVariablePlotting.fNbinsXOfROCCurve (_effBvsS, _rejBvsS ...)
N_RMS = 10.0  # MethodBase::TestClassification: "nrms", range clipped to mean +- 10 RMS
XMAX_PAD = 0.00001  # MethodBase::TestClassification: sxmax = fXmax + 0.00001
ROOT_EDGE_EPS = 1.0e-5  # MethodBase::GetValueForRoot: forced efficiency 1/0 at the edges
N_SCAN = 1000  # MethodBase::GetEfficiency: nbins_ of the effS scan
BRENT_MAX_ITER = 100  # RootFinder.h: maxIterations default
DBL_MIN = float(np.finfo(np.float64).tiny)  # std::numeric_limits<double>::min()
DBL_EPSILON = float(np.finfo(np.float64).eps)  # std::numeric_limits<double>::epsilon()

#: Background efficiencies of the Factory printout ("Efficiency:0.01|0.10|0.30").
EFF_B_POINTS: tuple[float, float, float] = (0.01, 0.10, 0.30)

#: MsgLogger prints kINFO lines as a 25-wide empty source field followed by ": ".
_LOG_PREFIX = " " * 25 + ": "
#: Factory::EvaluateAllMethods' separator line (115 dashes).
_HLINE = "-" * 115


# ---- inputs ------------------------------------------------------------------------------


def _as_sample(
    scores: object,
    labels: object,
    weights: object | None,
    what: str,
    *,
    float32_scores: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate one sample; return (values, is_signal, weights) as float64/bool arrays.

    Scores are rounded to float32 (TMVA keeps test responses in a ``std::vector<Float_t>``)
    unless ``float32_scores`` is false (TMVA recomputes training responses as doubles).
    Weights are rounded to float32 (the ``weight/F`` branch and ``Float_t`` in ROCCurve).
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels)
    if s.ndim != 1:
        raise DataError(f"{what} scores must be one-dimensional, got shape {s.shape}")
    if y.shape != s.shape:
        raise DataError(f"{what} labels have shape {y.shape}, scores have shape {s.shape}")
    if s.size == 0:
        raise DataError(f"{what} sample is empty: nothing to evaluate")
    if not np.all(np.isfinite(s)):
        bad = int(np.count_nonzero(~np.isfinite(s)))
        raise NonFiniteInputError(f"{what} scores contain {bad} NaN or infinite values")
    if y.dtype == bool:
        is_signal = y
    else:
        ok = (y == 0) | (y == 1)
        if not np.all(ok):
            found = np.unique(y[~ok])[:5].tolist()
            raise DataError(f"{what} labels must be 1 (signal) or 0 (background), found {found}")
        is_signal = y == 1
    if not is_signal.any() or is_signal.all():
        raise DataError(
            f"{what} sample needs both signal (label 1) and background (label 0) events, "
            f"got {int(is_signal.sum())} signal of {s.size}"
        )
    if weights is None:
        w = np.ones(s.shape, dtype=np.float64)
    else:
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != s.shape:
            raise DataError(f"{what} weights have shape {w.shape}, scores have shape {s.shape}")
        if not np.all(np.isfinite(w)):
            raise NonFiniteInputError(f"{what} weights contain NaN or infinite values")
        w = w.astype(np.float32).astype(np.float64)
    if float32_scores:
        s = s.astype(np.float32).astype(np.float64)
    return s, np.asarray(is_signal, dtype=bool), w


# ---- TMVA::ROCCurve ----------------------------------------------------------------------


def _roc_vectors(
    values: np.ndarray, is_signal: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """ROCCurve::ComputeSensitivity / ComputeSpecificity, both of length N + 2."""
    order = np.argsort(values, kind="stable")  # ties keep input order (see module docstring)
    sig = is_signal[order]
    ww = w[order]
    true_negatives = np.cumsum(np.where(sig, 0.0, ww))  # TN_k, accumulated front to back
    true_positives = np.cumsum(np.where(sig, ww, 0.0)[::-1])[::-1]  # TP_k, back to front
    total_b = true_negatives[-1]
    total_s = true_positives[0]
    spec = true_negatives / total_b if total_b > DBL_MIN else np.zeros_like(true_negatives)
    sens = true_positives / total_s if total_s > DBL_MIN else np.zeros_like(true_positives)
    specificity = np.concatenate(([0.0], spec, [1.0]))
    sensitivity = np.concatenate(([1.0], sens, [0.0]))
    return sensitivity, specificity


def roc_curve(
    scores: object, labels: object, weights: object | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """TMVA's unbinned ROC curve: ``(eff_s, rej_b)``, each of length ``N + 2``.

    ``eff_s`` is the signal efficiency (sensitivity) and ``rej_b`` the background rejection
    (specificity), point by point as in ``ROCCurve::GetROCCurve``; the first point is
    ``(1, 0)`` and the last ``(0, 1)``. ``labels``: 1 signal, 0 background.
    """
    v, s, w = _as_sample(scores, labels, weights, "ROC")
    return _roc_vectors(v, s, w)


def _integral_from_vectors(sensitivity: np.ndarray, specificity: np.ndarray) -> float:
    fnr = 1.0 - sensitivity
    terms = 0.5 * (fnr[1:] - fnr[:-1]) * (specificity[:-1] + specificity[1:])
    return float(np.cumsum(terms)[-1])  # sequential sum, as the C++ loop


def roc_integral(scores: object, labels: object, weights: object | None = None) -> float:
    """TMVA's ROC integral (``ROCCurve::GetROCIntegral``), the Factory's ``ROC-integ``.

    Trapezoid over the ``N + 2`` points of :func:`roc_curve`. It exceeds the Mann-Whitney
    AUC by ``0.5 w_s w_b / (S B)`` for every signal event directly followed by a background
    event in ascending order of score (about ``1/(2N)``). Ties: see the module docstring.
    """
    v, s, w = _as_sample(scores, labels, weights, "ROC")
    return _integral_from_vectors(*_roc_vectors(v, s, w))


# ---- histograms ----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Hist1D:
    """A fixed-binning 1-D histogram laid out as ROOT's TH1D.

    ``contents`` and ``sumw2`` have ``nbins + 2`` cells: underflow, the bins, overflow.
    ``sumw2`` is None where TMVA does not call ``Sumw2()``. ``stats`` are ROOT's
    ``(fTsumw, fTsumw2, fTsumwx, fTsumwx2)``.
    """

    name: str
    title: str
    xmin: float
    xmax: float
    contents: np.ndarray = field(repr=False)
    sumw2: np.ndarray | None = field(repr=False, default=None)
    entries: float = 0.0
    stats: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    x_title: str = ""
    y_title: str = ""

    @property
    def nbins(self) -> int:
        return int(self.contents.size - 2)

    @property
    def edges(self) -> np.ndarray:
        return np.linspace(self.xmin, self.xmax, self.nbins + 1)

    @property
    def values(self) -> np.ndarray:
        """In-range bin contents (bins 1..nbins)."""
        return self.contents[1:-1]

    def centers(self) -> np.ndarray:
        """Bin centres as ``TAxis::GetBinCenter`` computes them."""
        width = (self.xmax - self.xmin) / float(self.nbins)
        i = np.arange(1, self.nbins + 1, dtype=np.float64)
        return self.xmin + (i - 1.0) * width + 0.5 * width


def _find_bins(x: np.ndarray, nbins: int, xmin: float, xmax: float) -> np.ndarray:
    """``TAxis::FindBin`` for fixed bins: 0 underflow, nbins + 1 overflow."""
    inside = (x >= xmin) & (x < xmax)
    b = np.where(x < xmin, 0, nbins + 1).astype(np.int64)
    b[inside] = 1 + (nbins * (x[inside] - xmin) / (xmax - xmin)).astype(np.int64)
    return b


def _filled(
    name: str, x: np.ndarray, w: np.ndarray, nbins: int, xmin: float, xmax: float
) -> Hist1D:
    """``TH1D(name, name, nbins, xmin, xmax)`` with ``Sumw2()`` and ``Fill(x, w)`` per event."""
    b = _find_bins(x, nbins, xmin, xmax)
    contents = np.bincount(b, weights=w, minlength=nbins + 2).astype(np.float64)
    sumw2 = np.bincount(b, weights=w * w, minlength=nbins + 2).astype(np.float64)
    inr = (b >= 1) & (b <= nbins)  # only in-range fills enter the statistics
    wi, xi = w[inr], x[inr]
    stats = (
        float(wi.sum()),
        float((wi * wi).sum()),
        float((wi * xi).sum()),
        float((wi * xi * xi).sum()),
    )
    return Hist1D(name, name, xmin, xmax, contents, sumw2, float(x.size), stats)


def _scaled(h: Hist1D, c: float) -> Hist1D:
    """``TH1::Scale(c)``: contents x c, sumw2 x c^2, statistics likewise."""
    tsumw, tsumw2, tsumwx, tsumwx2 = h.stats
    return replace(
        h,
        contents=h.contents * c,
        sumw2=None if h.sumw2 is None else h.sumw2 * (c * c),
        stats=(tsumw * c, tsumw2 * c * c, tsumwx * c, tsumwx2 * c),
    )


def _norm_hist(h: Hist1D) -> Hist1D:
    """``Tools::NormHist``: scale by 1/(sum of in-range weights x bin width) when positive."""
    total = float(h.values.sum())
    if total == 0.0:
        return h
    w = total * (h.xmax - h.xmin) / h.nbins
    return _scaled(h, 1.0 / w) if w > 0 else h


def _set_bins(
    name: str, title: str, nbins: int, xmin: float, xmax: float, values: np.ndarray, **titles: str
) -> Hist1D:
    """A histogram filled by ``SetBinContent``/``AddBinContent`` (no Sumw2, no statistics)."""
    contents = np.zeros(nbins + 2)
    contents[1:-1] = values
    return Hist1D(
        name, title, xmin, xmax, contents, None, float(nbins), (0.0, 0.0, 0.0, 0.0), **titles
    )


def _cumulative_eff(
    x: np.ndarray, w: np.ndarray, sign: int, xmin: float, xmax: float, nbins: int
) -> np.ndarray:
    """Contents (bins 1..nbins) of GetEfficiency's ``_effS``/``_effB``, scaled to max 1."""
    t = (x - xmin) / (xmax - xmin) * nbins
    maxbin = np.trunc(np.clip(t, -(2.0**31), 2.0**31 - 2)).astype(np.int64) + 1  # Int_t(...)+1
    if sign > 0:  # event counts in bins 1..maxbin; dropped above the range
        keep = maxbin <= nbins
        mb = np.maximum(maxbin[keep], 1)
        counts = np.bincount(mb, weights=w[keep], minlength=nbins + 1)[1:]
        eff = np.cumsum(counts[::-1])[::-1]
    else:  # event counts in bins maxbin+1..nbins; dropped below the range
        keep = maxbin >= 1
        mb = np.minimum(maxbin[keep], nbins)
        counts = np.bincount(mb, weights=w[keep], minlength=nbins + 1)[1:]
        eff = np.concatenate(([0.0], np.cumsum(counts)[:-1]))
    return eff / max(DBL_EPSILON, float(eff.max()))


# ---- TSpline1 and RootFinder ---------------------------------------------------------------


class _Spline1:
    """``TMVA::TSpline1``: linear interpolation (and extrapolation) through a TGraph."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x = [float(v) for v in x]
        self.y = [float(v) for v in y]

    def __call__(self, x: float) -> float:
        xs, ys, n = self.x, self.y, len(self.x)
        ibin = min(max(bisect.bisect_right(xs, x) - 1, 0), n - 1)  # largest index, xs <= x
        nextbin = ibin + 1 if (x > xs[ibin] and ibin != n - 1) or ibin == 0 else ibin - 1
        dx = xs[ibin] - xs[nextbin]
        if dx == 0.0:  # repeated abscissa: TMVA would return 0/0 = NaN here
            return ys[ibin]
        dy = ys[ibin] - ys[nextbin]
        return ys[ibin] + (x - xs[ibin]) * dy / dx


def _brent_root(func, ref: float, a: float, b: float, max_iter: int = BRENT_MAX_ITER) -> float:
    """``TMVA::RootFinder::Root`` (CERNLIB RZERO), transcribed branch for branch."""
    fa = func(a) - ref
    fb = func(b) - ref
    if fb * fa > 0:
        return 1.0  # TMVA warns "initial interval w/o root" and returns 1
    ac_equal = False
    fc = fb
    c = d = e = 0.0
    for _ in range(max_iter + 1):
        if (fb < 0 and fc < 0) or (fb > 0 and fc > 0):
            ac_equal = True
            c, fc = a, fa
            d = e = b - a
        if abs(fc) < abs(fb):
            ac_equal = True
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol = 0.5 * 2.2204460492503131e-16 * abs(b)
        m = 0.5 * (c - b)
        if fb == 0 or abs(m) <= tol:  # (absolute tolerance is 0.0 by default)
            return b
        if abs(e) < tol or abs(fa) <= abs(fb):
            d = e = m
        else:
            s = fb / fa
            if ac_equal:
                p = 2 * m * s
                q = 1 - s
            else:
                q = fa / fc
                r = fb / fc
                p = s * (2 * m * q * (q - r) - (b - a) * (r - 1))
                q = (q - 1) * (r - 1) * (s - 1)
            if p > 0:
                q = -q
            else:
                p = -p
            min1 = 3 * m * q - abs(tol * q)
            min2 = abs(e * q)
            if 2 * p < min(min1, min2):
                e = d
                d = p / q
            else:
                d = e = m
        a, fa = b, fb
        b += d if abs(d) > tol else (tol if m > 0 else -tol)
        fb = func(b) - ref
    return b


# ---- MethodBase::TestClassification / GetEfficiency / GetTrainingEfficiency ---------------


@dataclass(frozen=True)
class _Range:
    """What TestClassification derives from the test sample."""

    mean_s: float
    mean_b: float
    rms_s: float
    rms_b: float
    xmin: float  # fXmin after clipping
    xmax: float  # fXmax after clipping
    sign: int  # +1: signal-like is high (kPositive), -1 otherwise


def _weighted_mean_rms(x: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """``Tools::Mean`` and ``Tools::RMS`` (a weighted standard deviation)."""
    sumw = float(w.sum())
    if sumw <= 0:
        raise DataError("the sum of event weights of one class is not positive")
    mean = float((w * x).sum()) / sumw
    rms = math.sqrt(abs(float((w * x * x).sum()) / sumw - mean * mean))
    return mean, rms


def _test_range(x: np.ndarray, sig: np.ndarray, w: np.ndarray) -> _Range:
    mean_s, rms_s = _weighted_mean_rms(x[sig], w[sig])
    mean_b, rms_b = _weighted_mean_rms(x[~sig], w[~sig])
    xmin = max(min(mean_s - N_RMS * rms_s, mean_b - N_RMS * rms_b), float(x.min()))
    xmax = min(max(mean_s + N_RMS * rms_s, mean_b + N_RMS * rms_b), float(x.max()))
    if not xmax > xmin:
        # All responses (nearly) equal. ROOT would switch the histograms to automatic
        # binning; we open a unit window so that every quantity stays defined.
        xmin, xmax = xmin - 0.5, xmin + 0.5
    return _Range(mean_s, mean_b, rms_s, rms_b, xmin, xmax, 1 if mean_s > mean_b else -1)


def _eff_b_vs_s(spl_s: _Spline1, spl_b: _Spline1, rng: _Range) -> np.ndarray:
    """The 100 contents of ``_effBvsS``: effB at the cut where the signal spline = bin centre."""

    def value_for_root(cut: float) -> float:  # MethodBase::GetValueForRoot
        if cut - rng.xmin < ROOT_EDGE_EPS:
            return 1.0 if rng.sign > 0 else 0.0
        if rng.xmax - cut < ROOT_EDGE_EPS:
            return 0.0 if rng.sign > 0 else 1.0
        return spl_s(cut)

    width = 1.0 / N_BINS_ROC
    out = np.empty(N_BINS_ROC)
    for i in range(N_BINS_ROC):
        eff_s = 0.0 + i * width + 0.5 * width  # TAxis::GetBinCenter(i + 1) on [0, 1]
        cut = _brent_root(value_for_root, eff_s, rng.xmin, rng.xmax)
        out[i] = spl_b(cut)
    return out


def _scan_eff_s(eff_b_vs_s: np.ndarray, eff_b_ref: float) -> float:
    """GetEfficiency's final scan over effS = (i - 0.5)/1000 of the effBvsS spline."""
    width = 1.0 / N_BINS_ROC
    centers = 0.0 + np.arange(N_BINS_ROC) * width + 0.5 * width
    spl = _Spline1(centers, eff_b_vs_s)
    ref = float(np.float32(eff_b_ref))  # Float_t effBref = atof(...)
    eff_s = eff_s_prev = eff_b_prev = 0.0
    for i in range(1, N_SCAN + 1):
        eff_s = (i - 0.5) / N_SCAN
        eff_b = spl(eff_s)
        if (eff_b - ref) * (eff_b_prev - ref) <= 0:
            break
        eff_s_prev, eff_b_prev = eff_s, eff_b
    return 0.5 * (eff_s + eff_s_prev)


@dataclass(frozen=True, eq=False)
class _Efficiencies:
    eff_s: np.ndarray  # _effS contents (bins 1..N_BINS_HIGH)
    eff_b: np.ndarray
    eff_b_vs_s: np.ndarray  # _effBvsS contents (bins 1..N_BINS_ROC)
    spline_s: _Spline1  # fSplRefS / fSplTrainRefS


def _efficiencies(
    x: np.ndarray, sig: np.ndarray, w: np.ndarray, rng: _Range, spline_s: _Spline1 | None
) -> _Efficiencies:
    """Cumulative efficiencies and effB-vs-effS of one sample on the test-sample range.

    ``spline_s`` is the signal spline the root finder uses; None means this sample's own.
    """
    hi_xmax = rng.xmax + XMAX_PAD
    eff_s = _cumulative_eff(x[sig], w[sig], rng.sign, rng.xmin, hi_xmax, N_BINS_HIGH)
    eff_b = _cumulative_eff(x[~sig], w[~sig], rng.sign, rng.xmin, hi_xmax, N_BINS_HIGH)
    width = (hi_xmax - rng.xmin) / float(N_BINS_HIGH)
    centers = rng.xmin + np.arange(N_BINS_HIGH) * width + 0.5 * width  # TGraph(TH1*) abscissae
    own_s = _Spline1(centers, eff_s)
    spl_b = _Spline1(centers, eff_b)
    curve = _eff_b_vs_s(own_s if spline_s is None else spline_s, spl_b, rng)
    return _Efficiencies(eff_s, eff_b, curve, own_s)


def _check_eff_b(eff_b: float) -> float:
    eff_b = float(eff_b)
    if not 0.0 < eff_b < 1.0:
        raise OptionError(f"background efficiency must lie in (0, 1), got {eff_b}")
    return eff_b


def eff_s_at_eff_b(
    scores: object,
    labels: object,
    weights: object | None,
    eff_b: float,
    *,
    method: str = "tmva",
) -> float:
    """Signal efficiency at background efficiency ``eff_b`` on one sample.

    ``method="tmva"`` (default) reproduces ``MethodBase::GetEfficiency("Efficiency:<eff_b>",
    kTesting)``, the number the Factory prints (binned, a multiple of 0.001; see the module
    docstring). ``method="roccurve"`` reproduces ``ROCCurve::GetEffSForEffB``: linear
    interpolation of the unbinned curve (the Factory uses it for multiclass only).
    """
    eff_b = _check_eff_b(eff_b)
    x, sig, w = _as_sample(scores, labels, weights, "sample")
    if method == "roccurve":
        sens, spec = _roc_vectors(x, sig, w)
        eff_b_axis = (1.0 - spec)[::-1]  # ascending, as GetEffSForEffB reverses both
        return float(_Spline1(eff_b_axis, sens[::-1])(eff_b))
    if method != "tmva":
        raise OptionError(f"unknown method {method!r}; valid: 'tmva', 'roccurve'")
    rng = _test_range(x, sig, w)
    return _scan_eff_s(_efficiencies(x, sig, w, rng, None).eff_b_vs_s, eff_b)


# ---- Kolmogorov-Smirnov ----------------------------------------------------------------------


def kolmogorov_prob(z: float) -> float:
    """``TMath::KolmogorovProb(z)``: P(K > z) of the Kolmogorov distribution."""
    fj = (-2.0, -8.0, -18.0, -32.0)
    w = 2.50662827
    c1, c2, c3 = -1.2337005501361698, -11.103304951225528, -30.842513753404244
    u = abs(z)
    if u < 0.2:
        return 1.0
    if u < 0.755:
        v = 1.0 / (u * u)
        return 1.0 - w * (math.exp(c1 * v) + math.exp(c2 * v) + math.exp(c3 * v)) / u
    if u < 6.8116:
        r = [0.0, 0.0, 0.0, 0.0]
        v = u * u
        maxj = max(1, int(round(3.0 / u)))  # TMath::Nint
        for j in range(maxj):
            r[j] = math.exp(fj[j] * v)
        return 2.0 * (r[0] - r[1] + r[2] - r[3])
    return 0.0


def kolmogorov_test(h1: Hist1D, h2: Hist1D) -> float:
    """``TH1::KolmogorovTest(h2, "")`` for two histograms with the same binning.

    Uses the in-range bins; the effective numbers of entries are ``(sum w)^2 / sum w^2`` from
    ``sumw2`` (a histogram without ``sumw2`` has zero errors and counts as a function).
    Returns 0 where ROOT returns 0 after an error (an empty histogram, zero errors in both).
    """
    if h1.nbins != h2.nbins or h1.xmin != h2.xmin or h1.xmax != h2.xmax:
        raise DataError(f"histograms {h1.name!r} and {h2.name!r} have different binning")
    c1, c2 = h1.values, h2.values
    sum1, sum2 = float(c1.sum()), float(c2.sum())
    if sum1 == 0 or sum2 == 0:
        return 0.0
    w1 = 0.0 if h1.sumw2 is None else float(h1.sumw2[1:-1].sum())
    w2 = 0.0 if h2.sumw2 is None else float(h2.sumw2[1:-1].sum())
    if w1 <= 0 and w2 <= 0:
        return 0.0
    d = float(np.max(np.abs(np.cumsum(c1 / sum1) - np.cumsum(c2 / sum2))))
    if w1 <= 0:
        z = d * math.sqrt(sum2 * sum2 / w2)
    elif w2 <= 0:
        z = d * math.sqrt(sum1 * sum1 / w1)
    else:
        e1, e2 = sum1 * sum1 / w1, sum2 * sum2 / w2
        z = d * math.sqrt(e1 * e2 / (e1 + e2))
    return kolmogorov_prob(z)


# ---- the evaluation ----------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Evaluation:
    """TMVA's numbers for one classifier; see the module docstring for their definitions."""

    roc_integral: float  # ROCCurve on the test sample: the Factory's "ROC-integ"
    roc_integral_train: float  # the same on the training sample (not printed by TMVA)
    eff_at_b: dict[float, float]  # GetEfficiency on the test sample, keys EFF_B_POINTS
    eff_at_b_train: dict[float, float]  # GetTrainingEfficiency (TMVA's quirk included)
    ks_signal: float  # KolmogorovTest(MVA_S, MVA_Train_S), option ""
    ks_background: float  # KolmogorovTest(MVA_B, MVA_Train_B), option ""
    cut_orientation: int  # +1: signal has the higher response (TMVA's kPositive)
    xmin: float  # histogram range [xmin, xmax + 1e-5] after TMVA's 10-RMS clipping
    xmax: float
    histograms: tuple[Hist1D, ...] = field(repr=False, default=())

    def tmva_histograms(self, title: str) -> list[Hist1D]:
        """The method-directory histograms named as TMVA names them (``MVA_<title>_...``)."""
        testvar = "MVA_" + title
        return [replace(h, name=testvar + h.name, title=testvar + h.title) for h in self.histograms]

    def summary(self, title: str, dataset: str = "dataset", *, log_prefix: bool = True) -> str:
        """The two blocks ``Factory::EvaluateAllMethods`` prints, plus TMVAGui's K-S line.

        ``log_prefix`` adds MsgLogger's kINFO prefix (25 blanks and ``": "``) to every line.
        """
        e, t = self.eff_at_b, self.eff_at_b_train
        lines = [
            "Evaluation results ranked by best signal efficiency and purity (area)",
            _HLINE,
            "DataSet       MVA                       ",
            "Name:         Method:          ROC-integ",
            f"{dataset:<13} {title:<15}: {self.roc_integral:#1.3f}",  # "%-13s %-15s: %#1.3f"
            _HLINE,
            "",
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
            "",
            "Kolmogorov-Smirnov test: signal (background) probability = "
            f"{self.ks_signal:5.3g} ({self.ks_background:5.3g})",  # TMVAGui's "%5.3g (%5.3g)"
        ]
        prefix = _LOG_PREFIX if log_prefix else ""
        return "\n".join(prefix + line for line in lines) + "\n"


def evaluate(
    test_scores: object,
    test_labels: object,
    test_weights: object | None,
    train_scores: object,
    train_labels: object,
    train_weights: object | None,
    *,
    eff_b_points: Sequence[float] = EFF_B_POINTS,
) -> Evaluation:
    """Evaluate test and training responses as ``Factory::EvaluateAllMethods`` does.

    Labels: 1 signal, 0 background. Weights may be None (all 1). Test scores are rounded to
    float32 (TMVA stores them so); training scores are used as given (TMVA recomputes them
    in double precision). The returned :class:`Evaluation` also carries every histogram
    TMVA writes to ``<dataset>/Method_<Type>/<Title>/`` (see :meth:`Evaluation.tmva_histograms`).
    """
    points = tuple(_check_eff_b(p) for p in eff_b_points)
    x, sig, w = _as_sample(test_scores, test_labels, test_weights, "test")
    xt, sigt, wt = _as_sample(
        train_scores, train_labels, train_weights, "training", float32_scores=False
    )
    rng = _test_range(x, sig, w)
    hi = rng.xmax + XMAX_PAD

    # TestClassification: response distributions, density-normalised
    mva_s = _norm_hist(_filled("_S", x[sig], w[sig], N_BINS_MVA, rng.xmin, hi))
    mva_b = _norm_hist(_filled("_B", x[~sig], w[~sig], N_BINS_MVA, rng.xmin, hi))
    high_s = _norm_hist(_filled("_S_high", x[sig], w[sig], N_BINS_HIGH, rng.xmin, hi))
    high_b = _norm_hist(_filled("_B_high", x[~sig], w[~sig], N_BINS_HIGH, rng.xmin, hi))

    # GetEfficiency (test) and GetTrainingEfficiency (root finder on the TEST signal spline)
    test_eff = _efficiencies(x, sig, w, rng, None)
    train_eff = _efficiencies(xt, sigt, wt, rng, test_eff.spline_s)
    eff_at_b = {p: _scan_eff_s(test_eff.eff_b_vs_s, p) for p in points}
    eff_at_b_train = {p: _scan_eff_s(train_eff.eff_b_vs_s, p) for p in points}

    # GetTrainingEfficiency: training response distributions on the test binning
    train_s = _norm_hist(_filled("_Train_S", xt[sigt], wt[sigt], N_BINS_MVA, rng.xmin, hi))
    train_b = _norm_hist(_filled("_Train_B", xt[~sigt], wt[~sigt], N_BINS_MVA, rng.xmin, hi))

    curve = test_eff.eff_b_vs_s
    inv = np.where(curve > DBL_EPSILON, 1.0 / np.where(curve > DBL_EPSILON, curve, 1.0), 0.0)
    eff_titles = {"x_title": "Signal eff"}
    histograms = (
        mva_s,
        mva_b,
        high_s,
        high_b,
        _set_bins("_effS", " (signal)", N_BINS_HIGH, rng.xmin, hi, test_eff.eff_s),
        _set_bins("_effB", " (background)", N_BINS_HIGH, rng.xmin, hi, test_eff.eff_b),
        _set_bins("_effBvsS", "", N_BINS_ROC, 0.0, 1.0, curve, **eff_titles, y_title="Backgr eff"),
        _set_bins(
            "_rejBvsS",
            "",
            N_BINS_ROC,
            0.0,
            1.0,
            1.0 - curve,
            **eff_titles,
            y_title="Backgr rejection (1-eff)",
        ),
        _set_bins(
            "_invBeffvsSeff",
            "",
            N_BINS_ROC,
            0.0,
            1.0,
            inv,
            **eff_titles,
            y_title="Inverse backgr. eff (1/eff)",
        ),
        train_s,
        train_b,
        _set_bins("_trainingEffS", " (signal)", N_BINS_HIGH, rng.xmin, hi, train_eff.eff_s),
        _set_bins("_trainingEffB", " (background)", N_BINS_HIGH, rng.xmin, hi, train_eff.eff_b),
        _set_bins("_trainingEffBvsS", "", N_BINS_ROC, 0.0, 1.0, train_eff.eff_b_vs_s),
        _set_bins("_trainingRejBvsS", "", N_BINS_ROC, 0.0, 1.0, 1.0 - train_eff.eff_b_vs_s),
    )
    return Evaluation(
        roc_integral=_integral_from_vectors(*_roc_vectors(x, sig, w)),
        roc_integral_train=_integral_from_vectors(*_roc_vectors(xt, sigt, wt)),
        eff_at_b=eff_at_b,
        eff_at_b_train=eff_at_b_train,
        ks_signal=kolmogorov_test(mva_s, train_s),
        ks_background=kolmogorov_test(mva_b, train_b),
        cut_orientation=rng.sign,
        xmin=rng.xmin,
        xmax=rng.xmax,
        histograms=histograms,
    )
