"""Input checks shared by the evaluation modules, and TMVA's constants."""

from __future__ import annotations

import numpy as np

from ..errors import DataError, NonFiniteInputError

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


# ---- inputs ------------------------------------------------------------------------------


def as_sample(
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
