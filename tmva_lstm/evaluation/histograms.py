"""Fixed-binning histograms laid out as ROOT's TH1D and filled as TMVA fills them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

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
    root_class: str = "TH1D"  # or "TH1F": the class the file stores (float32 contents)

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


@dataclass(frozen=True, eq=False)
class Hist2D:
    """A fixed-binning 2-D histogram laid out as ROOT's TH2F/TH2D.

    ``contents`` (and ``sumw2``) have shape ``(ny + 2, nx + 2)`` with flow cells, indexed
    ``[biny, binx]`` (ROOT's global bin ``binx + (nx + 2) * biny``). ``stats`` are
    ``(fTsumw, fTsumw2, fTsumwx, fTsumwx2, fTsumwy, fTsumwy2, fTsumwxy)``. ``x_labels`` and
    ``y_labels`` are alphanumeric bin labels (``TAxis::SetBinLabel``) or empty.
    """

    name: str
    title: str
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    contents: np.ndarray = field(repr=False)
    sumw2: np.ndarray | None = field(repr=False, default=None)
    entries: float = 0.0
    stats: tuple[float, ...] = (0.0,) * 7
    x_title: str = ""
    y_title: str = ""
    x_labels: tuple[str, ...] = ()
    y_labels: tuple[str, ...] = ()
    minimum: float = -1111.0  # ROOT's "not set"
    maximum: float = -1111.0
    root_class: str = "TH2F"

    @property
    def nx(self) -> int:
        return int(self.contents.shape[1] - 2)

    @property
    def ny(self) -> int:
        return int(self.contents.shape[0] - 2)


@dataclass(frozen=True, eq=False)
class Profile1D:
    """A ``TProfile``: per x bin the sums of ``w y`` (``contents``), ``w y^2`` (``sumwy2``),
    ``w`` (``bin_entries``) and ``w^2`` (``bin_sumw2``, None without Sumw2); ``nbins + 2``
    cells each. ``stats``: ``(fTsumw, fTsumw2, fTsumwx, fTsumwx2, fTsumwy, fTsumwy2)``."""

    name: str
    title: str
    xmin: float
    xmax: float
    contents: np.ndarray = field(repr=False)
    sumwy2: np.ndarray = field(repr=False)
    bin_entries: np.ndarray = field(repr=False)
    bin_sumw2: np.ndarray | None = field(repr=False, default=None)
    entries: float = 0.0
    stats: tuple[float, ...] = (0.0,) * 6
    x_title: str = ""
    y_title: str = ""

    @property
    def nbins(self) -> int:
        return int(self.contents.size - 2)
