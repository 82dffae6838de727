"""``CreateMVAPdfs``: the classifier's output PDFs, and the probability and rarity built on them.

With the TMVA method option ``CreateMVAPdfs`` a Factory does, after training
(``MethodBase::CreateMVAPdfs``, ``TMVA::PDF``, ``TMVA::TSpline2``):

* fills ``<Type>_tr_S`` and ``<Type>_tr_B`` (TH1F, ``Sumw2``) with the training responses and
  weights: ``N / 50`` bins (``PDF::GetHistNBins``: ``NAvEvtPerBin=50`` of the N training events,
  integer division) over ``[min, max]`` of all training responses (so the largest response
  falls in the overflow, as in TMVA), density-normalised (``Tools::NormHist``);
* builds a PDF from each with the default PDF options (``NSmooth=0``: no smoothing;
  ``PDFInterpol=Spline2``): ``<h>_original`` and ``<h>_smoothed`` are copies of the histogram;
  ``TSpline2`` interpolates quadratically (in single precision) through the bin centres;
  ``<h>_smoothed_hist_from_spline2`` (TH1F, 10000 bins over the histogram's range) holds the
  spline at each bin centre (a value <= 1e-12 is replaced by the histogram's bin content;
  everything at least 1e-12), normalised to unit integral;
* evaluates per event ``GetProba(v, f_S) = f_S p_S(v) / (f_S p_S(v) + (1 - f_S) p_B(v))``
  with ``f_S`` the training signal fraction of weights and ``p`` the linear interpolation of
  the PDF histogram between bin centres (``PDF::GetVal``), and ``GetRarity(v)``: the
  integral of the *background* PDF from its lower edge to ``v`` (``PDF::GetIntegral``,
  summed over bins with fractional first and last bins);
* in ``TestClassification`` fills ``MVA_<T>_Proba_S/_B`` and ``MVA_<T>_Rarity_S/_B`` (TH1F,
  40 bins over [0, 1], ``Sumw2``, density-normalised) with the test events' probability and
  rarity, and the trees get a ``prob_<T>`` leaf.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .histograms import Hist1D, _filled, _norm_hist, _set_bins

__all__ = ["MvaPdfs", "create_mva_pdfs"]

N_AV_EVT_PER_BIN = 50  # PDF: fHistAvgEvtPerBin default (NAvEvtPerBin)
N_BINS_PDF_HIST = 10000  # PDF::fgNbin_PdfHist
PDF_EPSILON = 1.0e-12  # PDF::fgEpsilon
N_BINS_PROBA = 40  # fNbinsMVAoutput: MVA_<T>_Proba_S/B, _Rarity_S/B


def _quadrax(x, x1, x2, x3, y1, y2, y3) -> np.ndarray:
    """``TSpline2::Quadrax``: the parabola through three points, in Float_t arithmetic."""
    f = np.float32
    x, x1, x2, x3 = (np.asarray(v, dtype=f) for v in (x, x1, x2, x3))
    y1, y2, y3 = (np.asarray(v, dtype=f) for v in (y1, y2, y3))
    a = y1 * (x2 - x3) + y2 * (x3 - x1) + y3 * (x1 - x2)
    b = y1 * (x2 * x2 - x3 * x3) + y2 * (x3 * x3 - x1 * x1) + y3 * (x1 * x1 - x2 * x2)
    c = y1 * (x2 - x3) * x2 * x3 + y2 * (x3 - x1) * x3 * x1 + y3 * (x1 - x2) * x1 * x2
    denom = (x2 - x3) * (x3 - x1) * (x1 - x2)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(denom != 0, (-a * x * x + b * x - c) / denom, f(0))
    return out.astype(np.float64)


def spline2(gx: np.ndarray, gy: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``TMVA::TSpline2::Eval`` at each ``x`` (graph abscissae ``gx`` ascending)."""
    n = gx.size
    i = np.clip(np.searchsorted(gx, x, side="right") - 1, 0, n - 1)  # last gx <= x
    if n < 3:  # TSpline2 warns and returns the value of the point at or below x
        return np.asarray(gy, dtype=np.float64)[i]
    out = np.empty(x.shape)
    first = i == 0
    last = i >= n - 2
    mid = ~first & ~last
    if first.any():
        out[first] = _quadrax(x[first], gx[0], gx[1], gx[2], gy[0], gy[1], gy[2])
    if last.any():
        out[last] = _quadrax(x[last], gx[-3], gx[-2], gx[-1], gy[-3], gy[-2], gy[-1])
    if mid.any():
        j = i[mid]
        left = _quadrax(x[mid], gx[j - 1], gx[j], gx[j + 1], gy[j - 1], gy[j], gy[j + 1])
        right = _quadrax(x[mid], gx[j], gx[j + 1], gx[j + 2], gy[j], gy[j + 1], gy[j + 2])
        out[mid] = (left + right) * 0.5
    return out


@dataclass(frozen=True, eq=False)
class _Pdf:
    """One ``TMVA::PDF`` built from a histogram: its three written histograms."""

    original: Hist1D
    smoothed: Hist1D
    pdf_hist: Hist1D  # normalised, 10000 bins

    def value(self, v: np.ndarray) -> np.ndarray:
        """``PDF::GetVal``: linear interpolation between the PDF histogram's bin centres."""
        h = self.pdf_hist
        n = h.nbins
        c = h.centers()
        y = h.values
        width = (h.xmax - h.xmin) / n
        b = np.clip(np.floor((v - h.xmin) / width).astype(np.int64) + 1, 1, n)  # FindBin, clamped
        b = np.where(v < h.xmin, 1, np.where(v >= h.xmax, n, b))
        up = ((v > c[b - 1]) & (b != n)) | (b == 1)
        nb = np.where(up, b + 1, b - 1)
        dx = c[b - 1] - c[nb - 1]
        dy = y[b - 1] - y[nb - 1]
        return np.maximum(y[b - 1] + (v - c[b - 1]) * dy / dx, PDF_EPSILON)

    def integral_to(self, v: np.ndarray) -> np.ndarray:
        """``PDF::GetIntegral(GetXmin(), v)``: bin contents x widths (``Float_t``), the last
        bin only up to ``v`` (and beyond the upper edge for ``v`` above it, as TMVA does)."""
        h = self.pdf_hist
        n = h.nbins
        width = (h.xmax - h.xmin) / n
        low = h.xmin + np.arange(n + 1) * width  # TAxis::GetBinLowEdge(1..n+1)
        dx_full = np.full(n, np.float32(width), dtype=np.float64)
        dx_full[0] = float(np.float32(low[1] - h.xmin))  # bin imin: up to its upper edge
        cum = np.concatenate(([0.0], np.cumsum(h.values * dx_full)))  # bins 1..k
        v = np.asarray(v, dtype=np.float64)
        imax = np.where(
            v < h.xmin, 0, np.where(v >= h.xmax, n, np.floor((v - h.xmin) / width) + 1)
        ).astype(np.int64)
        imax = np.minimum(imax, n)
        last = np.maximum(imax, 1)
        dx = (v - low[last - 1]).astype(np.float32).astype(np.float64)
        dx = np.where((dx < 0) & (dx > -1.0e-8), 0.0, dx)
        partial = cum[last - 1] + h.values[last - 1] * dx
        return np.where(imax < 1, 0.0, np.where(imax == 1, cum[1], partial))


def _build_pdf(hist: Hist1D) -> _Pdf:
    """``PDF::BuildPDF`` with the default options (no smoothing, Spline2)."""
    original = replace(hist, name=hist.name + "_original", title=hist.name + "_original")
    smoothed = replace(hist, name=hist.name + "_smoothed", title=hist.name + "_smoothed")
    gx, gy = smoothed.centers(), smoothed.values.astype(np.float64)  # TGraph(TH1*)
    lo, hi = smoothed.xmin, smoothed.xmax
    width = (hi - lo) / N_BINS_PDF_HIST
    x = lo + (np.arange(N_BINS_PDF_HIST) + 0.5) * width
    y = spline2(gx, gy, x)
    small = y <= PDF_EPSILON
    if small.any():  # the histogram's content at that x instead
        b = np.clip(
            ((x[small] - lo) / ((hi - lo) / smoothed.nbins)).astype(np.int64), 0, smoothed.nbins - 1
        )
        y[small] = gy[b]
    y = np.maximum(y, PDF_EPSILON).astype(np.float32).astype(np.float64)  # TH1F contents
    integral = float(y.sum()) * width
    if integral > 0:
        y = y / integral
    name = smoothed.name + "_hist_from_spline2"
    pdf_hist = _set_bins(name, smoothed.title + "_hist from_spline2", N_BINS_PDF_HIST, lo, hi, y)
    return _Pdf(original, smoothed, replace(pdf_hist, root_class="TH1F"))


@dataclass(frozen=True, eq=False)
class MvaPdfs:
    """What ``CreateMVAPdfs`` adds: histograms by name, and per-event probabilities."""

    method_histograms: tuple[Hist1D, ...]  # <Type>_tr_S/B (+ _original, _smoothed, PDF hists)
    test_histograms: tuple[Hist1D, ...]  # _Proba_S/B, _Rarity_S/B (name suffixes; add MVA_<T>)
    test_proba: np.ndarray
    train_proba: np.ndarray


def _as_th1f(h: Hist1D) -> Hist1D:
    return replace(h, contents=h.contents.astype(np.float32).astype(np.float64), root_class="TH1F")


def create_mva_pdfs(
    method_type: str,
    train_scores: np.ndarray,
    train_signal: np.ndarray,
    train_weights: np.ndarray,
    test_scores: np.ndarray,
    test_signal: np.ndarray,
    test_weights: np.ndarray,
) -> MvaPdfs:
    """``MethodBase::CreateMVAPdfs`` and the probability/rarity part of ``TestClassification``.

    Scores are rounded to float32 (TMVA's result vectors); ``*_signal`` are booleans.
    """
    xt = np.asarray(train_scores, dtype=np.float32).astype(np.float64)
    st = np.asarray(train_signal, dtype=bool)
    wt = np.asarray(train_weights, dtype=np.float64)
    nbins = max(1, xt.size // N_AV_EVT_PER_BIN)
    lo, hi = float(xt.min()), float(xt.max())
    if not hi > lo:
        lo, hi = lo - 0.5, lo + 0.5
    pdfs = []
    method_hists: list[Hist1D] = []
    for suffix, sel in (("_tr_S", st), ("_tr_B", ~st)):
        h = _as_th1f(_norm_hist(_filled(method_type + suffix, xt[sel], wt[sel], nbins, lo, hi)))
        pdf = _build_pdf(h)
        pdfs.append(pdf)
        method_hists += [h, pdf.original, pdf.smoothed, pdf.pdf_hist]
    pdf_s, pdf_b = pdfs
    f_s = float(wt[st].sum()) / float(wt.sum())

    def proba(v: np.ndarray) -> np.ndarray:
        ps, pb = pdf_s.value(v), pdf_b.value(v)
        denom = ps * f_s + pb * (1.0 - f_s)
        return np.where(denom > 0, ps * f_s / np.where(denom > 0, denom, 1.0), -1.0)

    x = np.asarray(test_scores, dtype=np.float32).astype(np.float64)
    s = np.asarray(test_signal, dtype=bool)
    w = np.asarray(test_weights, dtype=np.float64)
    p_test = proba(x).astype(np.float32).astype(np.float64)
    rarity = pdf_b.integral_to(x)
    test_hists = []
    for name, values in (("_Proba", p_test), ("_Rarity", rarity)):
        for cls, sel in (("_S", s), ("_B", ~s)):
            h = _norm_hist(_filled(name + cls, values[sel], w[sel], N_BINS_PROBA, 0.0, 1.0))
            test_hists.append(_as_th1f(h))
    return MvaPdfs(tuple(method_hists), tuple(test_hists), p_test, proba(xt))
