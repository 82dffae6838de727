"""Write the toy time series of TMVA's ``TMVA_RNN_Classification`` tutorial.

This reproduces ``MakeTimeData(n, ntime, ndim)`` of the tutorial's C++ version
(``tutorials/machine_learning/TMVA_RNN_Classification.C``), with all ``ndim`` features
filled; the Python version of the tutorial loops ``for k in range(ntime)`` and leaves
features 10-29 at zero. The generator is NumPy's, seeded, so the file is reproducible
(the tutorial seeds ``gRandom`` with the time).

Per time step j = 0 ... T-1 the two classes draw from Gaussians whose mean and width move with j:

    background (tree ``bkg``): mean 5 + 0.2 sin(pi j / T),  sigma 4 + 0.3 sin(pi j / T)
    signal     (tree ``sgn``): mean 5 + 0.2 cos(pi j / T),  sigma 4 + 0.3 cos(pi j / T)

For every event and step, a 30-bin histogram on [0, 10] is filled with ``TH1::FillRandom``
and 1000 entries. FillRandom integrates the function over each bin and draws bins with
those probabilities, so the histogram is a multinomial draw of 1000 with bin probabilities
proportional to the Gaussian's integral over each bin (the Gaussian restricted to [0, 10]).
Feature k is then the content of bin k+1 plus Gaus(0, 10) noise.

Output: trees ``sgn`` and ``bkg`` (TTrees, not RNTuples), each with branches
``vars_time0`` ... ``vars_time{T-1}``, each a fixed-size ``float[F]`` array.

``python data/make_sample.py`` writes the repository's copy; :func:`sample_file` gives the
demo's sample wherever the package is installed.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

N_TIME = 10  # T: time steps, one branch each
N_DIM = 30  # F: features per time step = histogram bins
N_ENTRIES = 1000  # FillRandom entries per histogram
X_MIN, X_MAX = 0.0, 10.0  # histogram range
NOISE_SIGMA = 10.0  # Gaus(0, 10) added to every bin content
DEFAULT_EVENTS = 2000  # per class, as nTotEvts in the tutorial
DEFAULT_SEED = 20181  # any fixed value; the shipped file was made with this one
FILE_NAME = f"time_data_t{N_TIME}_d{N_DIM}.root"
EVENTS_PER_BASKET = 1000  # uproot writes one basket per branch per extend() call


def gaussian_parameters(signal: bool, ntime: int = N_TIME) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sigma per time step, shapes ``(T,)``: cos for signal, sin for background."""
    phase = np.pi * np.arange(ntime) / ntime
    wave = np.cos(phase) if signal else np.sin(phase)
    return 5.0 + 0.2 * wave, 4.0 + 0.3 * wave


def bin_probabilities(mean: float, sigma: float, ndim: int = N_DIM) -> np.ndarray:
    """FillRandom's bin probabilities: the Gaussian's integral per bin, normalised on [0, 10]."""
    edges = np.linspace(X_MIN, X_MAX, ndim + 1)
    cdf = np.array([0.5 * (1.0 + math.erf((x - mean) / (sigma * math.sqrt(2.0)))) for x in edges])
    p = np.diff(cdf)  # (F,)
    return p / p.sum()


def make_class(
    rng: np.random.Generator, n_events: int, signal: bool, ntime: int = N_TIME, ndim: int = N_DIM
) -> np.ndarray:
    """One class's events, ``(N, T, F)`` float32."""
    means, sigmas = gaussian_parameters(signal, ntime)
    counts = np.empty((n_events, ntime, ndim), dtype=np.float64)
    for j in range(ntime):
        p = bin_probabilities(means[j], sigmas[j], ndim)
        counts[:, j, :] = rng.multinomial(N_ENTRIES, p, size=n_events)  # (N, F)
    noise = rng.normal(0.0, NOISE_SIGMA, size=(n_events, ntime, ndim))  # (N, T, F)
    return (counts + noise).astype(np.float32)


def make_time_data(
    n_events: int = DEFAULT_EVENTS, seed: int = DEFAULT_SEED, ntime: int = N_TIME, ndim: int = N_DIM
) -> dict[str, np.ndarray]:
    """``{"sgn": (N, T, F), "bkg": (N, T, F)}``; each class has its own stream of the seed."""
    sgn_seq, bkg_seq = np.random.SeedSequence(seed).spawn(2)
    return {
        "sgn": make_class(np.random.default_rng(sgn_seq), n_events, True, ntime, ndim),
        "bkg": make_class(np.random.default_rng(bkg_seq), n_events, False, ntime, ndim),
    }


def write_time_data(path: str | os.PathLike, data: dict[str, np.ndarray]) -> Path:
    """Write the trees with uproot, atomically (tmva_lstm.atomic): the old file or the new one."""
    import uproot

    from .atomic import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp, uproot.recreate(tmp) as f:
        for name, x in data.items():
            n, ntime, ndim = x.shape
            tree = f.mktree(
                name, {f"vars_time{j}": ("f4", (ndim,)) for j in range(ntime)}, title=name
            )
            for start in range(0, n, EVENTS_PER_BASKET):
                part = x[start : start + EVENTS_PER_BASKET]
                tree.extend({f"vars_time{j}": part[:, j, :] for j in range(ntime)})
    return path


def sample_file() -> Path:
    """The demo's sample: the repository's ``data/`` copy where there is one, otherwise made
    once (2000 events per class, the default seed: the same numbers) in the user's cache
    folder, so an installed wheel runs the demo anywhere."""
    here = Path(__file__).resolve().parent.parent / "data" / FILE_NAME
    for candidate in (Path.cwd() / "data" / FILE_NAME, here):
        if candidate.is_file():
            return candidate
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tmva_lstm"
    target = cache / FILE_NAME
    if not target.is_file():
        write_time_data(target, make_time_data())
    return target
