"""The array module and the one dtype setting of the numeric core.

``xp`` is the array module every ``nn`` function uses (NumPy; CuPy would drop in here).
``default_dtype()`` is float32 unless changed with ``set_default_dtype`` (float64 is used
for gradient checks). Functions that receive arrays follow the dtype of their inputs.
"""

from __future__ import annotations

import numpy as np

xp = np

_DEFAULT_DTYPE: np.dtype = np.dtype(np.float32)


def default_dtype() -> np.dtype:
    """The dtype new parameters and arrays are created with."""
    return _DEFAULT_DTYPE


def set_default_dtype(dtype: str | type | np.dtype) -> None:
    """Set the dtype new parameters are created with: float32 or float64."""
    global _DEFAULT_DTYPE
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, not {dt}")
    _DEFAULT_DTYPE = dt
