"""tmva_lstm: an LSTM classifier trained by backpropagation through time in NumPy, for TMVA.

The Python API in one screen::

    import tmva_lstm as tl
    data = tl.load("data/time_data_t10_d30.root:sgn", "data/time_data_t10_d30.root:bkg",
                   layout="per-step:vars_time{t}")
    model = tl.train(data.X, data.y, data.weights, "InputLayout=10|30:Layout=LSTM|10,DENSE|64|TANH,LINEAR")
    scores = model.predict(data.X)
    model.save("weights/TMVAClassification_PyLSTM.weights.xml")

From TMVA: ``tmva_lstm.tmva.register()``, then ``factory.BookMethod(loader, "PyLSTM", title, options)``.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import TmvaLstmError  # noqa: E402
from .model import Model  # noqa: E402
from .options import MethodOptions  # noqa: E402
from .train import resume, train  # noqa: E402


def load(*args, **kwargs):
    """Read ntuples into a Dataset: see :func:`tmva_lstm.data.load`."""
    from .data import load as _load

    return _load(*args, **kwargs)


def load_model(path) -> Model:
    """Read a model file (ours or a TMVA weight file written by PyLSTM)."""
    return Model.load(path)


__all__ = [
    "__version__",
    "MethodOptions",
    "Model",
    "TmvaLstmError",
    "load",
    "load_model",
    "resume",
    "train",
]
