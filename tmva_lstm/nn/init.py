"""Weight initialisation with TMVA's definitions (``WeightInitialization=...``).

For a weight matrix of ``m`` rows (outputs) and ``n`` columns (inputs), as TMVA's CPU
backend (``Cpu/Initialization.hxx``) defines them:

* ``XAVIER`` (Glorot normal, TMVA's default): Gaussian with sigma = sqrt(6 / (m + n)),
  values beyond 2 sigma redrawn. (TMVA uses 6, not the textbook 2.)
* ``XAVIERUNIFORM`` (Glorot uniform): uniform on [-r, r], r = sqrt(6 / (m + n)).
* ``GAUSS``: Gaussian with sigma = sqrt(2 / n).
* ``UNIFORM``: uniform on [-r, r], r = sqrt(2 / n).
* ``IDENTITY``: ones on the diagonal; ``ZERO``: zeros.

TMVA draws from ROOT's ``TRandom3``; we draw from the ``numpy.random.Generator`` passed in,
so the distributions are TMVA's and the numbers are reproducible from our seed.
Biases always start at zero, as in TMVA.
"""

from __future__ import annotations

import numpy as np

__all__ = ["INITIALIZATIONS", "init_matrix"]

INITIALIZATIONS = ("XAVIER", "XAVIERUNIFORM", "GAUSS", "UNIFORM", "IDENTITY", "ZERO")


def init_matrix(
    rng: np.random.Generator, m: int, n: int, method: str = "XAVIER", dtype=np.float32
) -> np.ndarray:
    """An ``(m, n)`` matrix (m outputs, n inputs) initialised by TMVA's ``method``."""
    method = method.upper()
    if method == "XAVIER":
        sigma = np.sqrt(6.0 / (m + n))
        values = rng.normal(0.0, sigma, size=(m, n))
        bad = np.abs(values) > 2 * sigma
        while bad.any():  # truncated normal: redraw what lies beyond 2 sigma
            values[bad] = rng.normal(0.0, sigma, size=int(bad.sum()))
            bad = np.abs(values) > 2 * sigma
    elif method == "XAVIERUNIFORM":
        r = np.sqrt(6.0 / (m + n))
        values = rng.uniform(-r, r, size=(m, n))
    elif method == "GAUSS":
        values = rng.normal(0.0, np.sqrt(2.0 / n), size=(m, n))
    elif method == "UNIFORM":
        r = np.sqrt(2.0 / n)
        values = rng.uniform(-r, r, size=(m, n))
    elif method == "IDENTITY":
        values = np.eye(m, n)
    elif method == "ZERO":
        values = np.zeros((m, n))
    else:
        raise ValueError(
            f"unknown WeightInitialization {method!r}; valid: {', '.join(INITIALIZATIONS)}"
        )
    return values.astype(dtype)
