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

    python data/make_sample.py [--events N] [--seed S] [--output PATH]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

N_TIME = 10  # T: time steps, one branch each
N_DIM = 30  # F: features per time step = histogram bins
N_ENTRIES = 1000  # FillRandom entries per histogram
X_MIN, X_MAX = 0.0, 10.0  # histogram range
NOISE_SIGMA = 10.0  # Gaus(0, 10) added to every bin content
DEFAULT_EVENTS = 2000  # per class, as nTotEvts in the tutorial
DEFAULT_SEED = 20181  # any fixed value; the shipped file was made with this one
DEFAULT_OUTPUT = Path(__file__).resolve().parent / f"time_data_t{N_TIME}_d{N_DIM}.root"
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
    """Write the trees with uproot, atomically: a temporary file in the same folder, then rename."""
    import uproot

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".root.tmp", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private; give it the usual mode
    try:
        with uproot.recreate(tmp) as f:
            for name, x in data.items():
                n, ntime, ndim = x.shape
                tree = f.mktree(
                    name, {f"vars_time{j}": ("f4", (ndim,)) for j in range(ntime)}, title=name
                )
                for start in range(0, n, EVENTS_PER_BASKET):
                    part = x[start : start + EVENTS_PER_BASKET]
                    tree.extend({f"vars_time{j}": part[:, j, :] for j in range(ntime)})
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write the toy time series of TMVA's TMVA_RNN_Classification tutorial."
    )
    parser.add_argument(
        "--events", type=int, default=DEFAULT_EVENTS, help="events per class (default: 2000)"
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default: {DEFAULT_SEED})"
    )
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help="output file (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    if args.events < 1:
        parser.error("--events must be at least 1")
    if args.seed < 0:
        parser.error("--seed must be non-negative")
    path = write_time_data(args.output, make_time_data(args.events, args.seed))
    size_mb = path.stat().st_size / 1e6
    print(f"wrote {path} ({args.events} events per class, seed {args.seed}, {size_mb:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
