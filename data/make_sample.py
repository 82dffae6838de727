"""Write the toy time series of TMVA's ``TMVA_RNN_Classification`` tutorial to ``data/``.

The generator and its description are in :mod:`tmva_lstm.sample`; this script is its
command line.

    python data/make_sample.py [--events N] [--seed S] [--output PATH]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

try:  # the generator lives in the package (the demo needs it)
    import tmva_lstm.sample  # noqa: F401
except ImportError:  # run from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tmva_lstm.sample import (  # noqa: E402, F401  (re-exported for the tests)
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
