"""tmva_lstm: an LSTM classifier trained by backpropagation through time in NumPy, for TMVA.

The Python API in one screen::

    import tmva_lstm as tl
    data = tl.load("data/time_data_t10_d30.root:sgn", "data/time_data_t10_d30.root:bkg",
                   layout="per-step:vars_time{t}")
    model = tl.train(data.X, data.y, data.weights, "Layout=LSTM|10,DENSE|64|TANH,LINEAR")
    scores = model.predict(data.X)
    model.save("weights/TMVAClassification_PyLSTM.weights.xml")

From TMVA: ``tmva_lstm.tmva.register()``, then ``factory.BookMethod(loader, "PyLSTM", title, options)``.

Names are imported on first use, so ``import tmva_lstm.tmva`` does not load NumPy: that lets
``tmva_lstm.tmva.pin_blas_threads()`` set the BLAS thread variables before NumPy reads them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_LAZY = {
    "MethodOptions": "options",
    "Model": "model",
    "TmvaLstmError": "errors",
    "train": "training",
    "resume": "training",
    "apply_files": "distributed",
    "score_events": "scoring",
}

__all__ = [
    "__version__",
    "MethodOptions",
    "Model",
    "TmvaLstmError",
    "apply_files",
    "load",
    "load_model",
    "resume",
    "score_events",
    "train",
]

if TYPE_CHECKING:
    from .distributed import apply_files
    from .errors import TmvaLstmError
    from .model import Model
    from .options import MethodOptions
    from .scoring import score_events
    from .training import resume, train


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'tmva_lstm' has no attribute {name!r}")


def load(*args, **kwargs):
    """Read ntuples into a Dataset: see :func:`tmva_lstm.data.load`."""
    from .data import load as _load

    return _load(*args, **kwargs)


def load_model(path):
    """Read a model file (ours or a TMVA weight file written by PyLSTM)."""
    from .model import Model

    return Model.load(path)
