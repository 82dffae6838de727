"""The numeric core: pure NumPy functions, parameters and gradients as dicts with the same keys."""

from .backend import default_dtype, set_default_dtype
from .lstm import lstm_backward, lstm_forward

__all__ = ["lstm_forward", "lstm_backward", "default_dtype", "set_default_dtype"]
