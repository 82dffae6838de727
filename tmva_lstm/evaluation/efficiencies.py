"""The signal efficiencies at background efficiency 0.01 / 0.10 / 0.30 printed in both
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
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np

from ..errors import DataError, OptionError
from .roc import roc_vectors
from .sample import (
    BRENT_MAX_ITER,
    DBL_EPSILON,
    N_BINS_HIGH,
    N_BINS_ROC,
    N_RMS,
    N_SCAN,
    ROOT_EDGE_EPS,
    XMAX_PAD,
    as_sample,
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
    x, sig, w = as_sample(scores, labels, weights, "sample")
    if method == "roccurve":
        sens, spec = roc_vectors(x, sig, w)
        eff_b_axis = (1.0 - spec)[::-1]  # ascending, as GetEffSForEffB reverses both
        return float(_Spline1(eff_b_axis, sens[::-1])(eff_b))
    if method != "tmva":
        raise OptionError(f"unknown method {method!r}; valid: 'tmva', 'roccurve'")
    rng = _test_range(x, sig, w)
    return _scan_eff_s(_efficiencies(x, sig, w, rng, None).eff_b_vs_s, eff_b)
