"""``TH1::KolmogorovTest`` as TMVAGui calls it: the overtraining check's K-S probabilities.

TMVAGui's ``mvas(..., kCompareType)`` (``tmva/tmvagui/src/mvas.cxx``) compares ``MVA_<T>_S`` with
``MVA_<T>_Train_S`` (and ``_B``) by ``sig->KolmogorovTest(sigOv, "X")``. The statistic is the
largest distance ``D`` between the two normalised cumulative in-range bin contents; the
effective numbers of entries are ``n = (sum w)^2 / sum w^2`` (from the bin errors). Then:

* option ``""``: ``TMath::KolmogorovProb(D sqrt(n1 n2 / (n1 + n2)))``, analytic;
* option ``"X"`` (what TMVAGui uses): 1000 pseudo-experiments. Each draws ``int(n1)`` and
  ``int(n2)`` events (``TH1::FillRandom``: a multinomial over the in-range bins) from the
  histogram with the larger effective entries, and counts how often the toys' distance
  exceeds ``D``. The result is a multiple of 0.001 and random: ROOT draws from ``gRandom``.

:func:`kolmogorov_test` with ``option="X"`` runs ROOT's own ``TH1::KolmogorovTest`` when PyROOT
imports (``method="root"``, a private ``TRandom3(4357)``, the state of ``gRandom`` in a fresh
ROOT session, so the numbers are reproducible and equal to what TMVAGui shows when it is
opened in a fresh session), and otherwise the same pseudo-experiments in NumPy
(``method="numpy"``, seed 4357): the same distribution, not the same random numbers. The
method used is returned and printed in the summary.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .._cling import declare
from ..errors import DataError, OptionError
from .histograms import Hist1D

#: TH1::KolmogorovTest: number of pseudo-experiments of option "X".
N_PSEUDO_EXPERIMENTS = 1000
#: TRandom3's default seed: the state of gRandom when a ROOT session starts.
ROOT_DEFAULT_SEED = 4357
#: Values of ``method``: who computes the "X" probability.
KS_METHODS = ("auto", "root", "numpy")


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


def _check_same_binning(h1: Hist1D, h2: Hist1D) -> None:
    if h1.nbins != h2.nbins or h1.xmin != h2.xmin or h1.xmax != h2.xmax:
        raise DataError(f"histograms {h1.name!r} and {h2.name!r} have different binning")


def _ks_inputs(h: Hist1D) -> tuple[np.ndarray, float, float]:
    """In-range contents, their sum and the sum of squared bin errors (``TH1::GetBinError``)."""
    c = np.asarray(h.values, dtype=np.float64)
    if h.sumw2 is None:  # without Sumw2 ROOT's bin error is sqrt(|content|)
        return c, float(c.sum()), float(np.abs(c).sum())
    return c, float(c.sum()), float(np.asarray(h.sumw2[1:-1], dtype=np.float64).sum())


def _max_distance(c1: np.ndarray, c2: np.ndarray) -> np.ndarray:
    """Largest distance of the normalised cumulative sums along the last axis."""
    r1 = np.cumsum(c1 / c1.sum(axis=-1, keepdims=True), axis=-1)
    r2 = np.cumsum(c2 / c2.sum(axis=-1, keepdims=True), axis=-1)
    return np.abs(r1 - r2).max(axis=-1)


def _pseudo_experiments(
    c1: np.ndarray, c2: np.ndarray, n1: float, n2: float, d: float, seed: int
) -> float:
    """Option "X" in NumPy: the fraction of toy pairs with a larger distance than ``d``."""
    parent = c1 if n1 > n2 else c2  # the histogram with the larger statistics
    p = np.clip(parent, 0.0, None)
    p = p / p.sum()
    rng = np.random.default_rng(seed)
    toys1 = rng.multinomial(int(n1), p, size=N_PSEUDO_EXPERIMENTS).astype(np.float64)
    toys2 = rng.multinomial(int(n2), p, size=N_PSEUDO_EXPERIMENTS).astype(np.float64)
    ok = (toys1.sum(axis=1) > 0) & (toys2.sum(axis=1) > 0)  # an empty toy: ROOT returns 0
    dist = np.zeros(N_PSEUDO_EXPERIMENTS)
    dist[ok] = _max_distance(toys1[ok], toys2[ok])
    return float(np.count_nonzero(dist > d)) / N_PSEUDO_EXPERIMENTS


def kolmogorov_test(
    h1: Hist1D, h2: Hist1D, option: str = "", *, seed: int = ROOT_DEFAULT_SEED
) -> float:
    """``h1->KolmogorovTest(h2, option)`` for two histograms with the same binning.

    ``option`` is ``""`` (analytic) or ``"X"`` (pseudo-experiments, drawn here with NumPy;
    see :func:`ks_probabilities` for ROOT's own). Uses the in-range bins; a histogram
    whose bins all have zero error counts as a function (ROOT's rule). Returns 0 where
    ROOT returns 0 after an error (an empty histogram, zero errors in both).
    """
    opt = option.upper()
    if opt not in ("", "X"):
        raise OptionError(f"KolmogorovTest option {option!r} is not supported; valid: '', 'X'")
    _check_same_binning(h1, h2)
    c1, sum1, w1 = _ks_inputs(h1)
    c2, sum2, w2 = _ks_inputs(h2)
    if sum1 == 0 or sum2 == 0 or (w1 <= 0 and w2 <= 0):
        return 0.0
    d = float(_max_distance(c1, c2))
    e1 = sum1 * sum1 / w1 if w1 > 0 else 0.0
    e2 = sum2 * sum2 / w2 if w2 > 0 else 0.0
    if opt == "X":
        if w1 <= 0 or w2 <= 0:
            raise DataError("option 'X' needs bin errors in both histograms")
        return _pseudo_experiments(c1, c2, e1, e2, d, seed)
    if w1 <= 0:
        z = d * math.sqrt(e2)
    elif w2 <= 0:
        z = d * math.sqrt(e1)
    else:
        z = d * math.sqrt(e1 * e2 / (e1 + e2))
    return kolmogorov_prob(z)


def to_root_th1d(h: Hist1D):
    """A PyROOT ``TH1D`` with the contents, errors and entries of ``h`` (not in any file)."""
    import ROOT

    out = ROOT.TH1D(h.name, h.title, h.nbins, float(h.xmin), float(h.xmax))
    out.SetDirectory(ROOT.nullptr)
    if h.sumw2 is not None:
        out.Sumw2()
    for i in range(h.nbins + 2):
        out.SetBinContent(i, float(h.contents[i]))
        if h.sumw2 is not None:
            out.SetBinError(i, math.sqrt(float(h.sumw2[i])))
    out.SetEntries(float(h.entries))
    return out


_ROOT_HELPER = """
#include "TH1.h"
#include "TRandom3.h"
namespace tmva_lstm_ks {
inline double KolmogorovX(TH1* h1, TH1* h2, TRandom* r) {
   TRandom* saved = gRandom;
   gRandom = r;
   double p = h1->KolmogorovTest(h2, "X");
   gRandom = saved;
   return p;
}
}
"""


def _root_ks_x(pairs: Sequence[tuple[Hist1D, Hist1D]], seed: int) -> list[float]:
    """ROOT's ``KolmogorovTest(..., "X")`` on each pair, drawing from one ``TRandom3(seed)``."""
    import ROOT

    if not hasattr(ROOT, "tmva_lstm_ks"):
        declare(_ROOT_HELPER)
    rnd = ROOT.TRandom3(seed)
    out = []
    for h1, h2 in pairs:
        r1, r2 = to_root_th1d(h1), to_root_th1d(h2)
        out.append(float(ROOT.tmva_lstm_ks.KolmogorovX(r1, r2, rnd)))
    return out


def ks_probabilities(
    pairs: Sequence[tuple[Hist1D, Hist1D]], method: str = "auto", *, seed: int = ROOT_DEFAULT_SEED
) -> tuple[list[float], str]:
    """TMVAGui's K-S probabilities (option "X") of each ``(test, train)`` pair, in order.

    ``method``: ``"root"`` (ROOT's ``TH1::KolmogorovTest``), ``"numpy"`` (the same
    pseudo-experiments here) or ``"auto"`` (ROOT when PyROOT imports, else NumPy).
    Returns the probabilities and the method used.
    """
    if method not in KS_METHODS:
        raise OptionError(f"unknown K-S method {method!r}; valid: {', '.join(KS_METHODS)}")
    for h1, h2 in pairs:
        _check_same_binning(h1, h2)
    if method in ("auto", "root"):
        try:
            return _root_ks_x(pairs, seed), "root"
        except ImportError:
            if method == "root":
                raise
    # NumPy: one generator per pair, seeded from the seed and the pair's position
    return [kolmogorov_test(a, b, "X", seed=seed + i) for i, (a, b) in enumerate(pairs)], "numpy"
