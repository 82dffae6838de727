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
import sys
from pathlib import Path

try:
    from tmva_lstm.sample import (  # the generator lives in the package (the demo needs it)
        DEFAULT_EVENTS,
        DEFAULT_SEED,
        EVENTS_PER_BASKET,
        FILE_NAME,
        N_DIM,
        N_ENTRIES,
        N_TIME,
        NOISE_SIGMA,
        X_MAX,
        X_MIN,
        bin_probabilities,
        gaussian_parameters,
        make_class,
        make_time_data,
        write_time_data,
    )
except ImportError:  # run from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tmva_lstm.sample import (  # noqa: F401
        DEFAULT_EVENTS,
        DEFAULT_SEED,
        EVENTS_PER_BASKET,
        FILE_NAME,
        N_DIM,
        N_ENTRIES,
        N_TIME,
        NOISE_SIGMA,
        X_MAX,
        X_MIN,
        bin_probabilities,
        gaussian_parameters,
        make_class,
        make_time_data,
        write_time_data,
    )

DEFAULT_OUTPUT = Path(__file__).resolve().parent / FILE_NAME


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
