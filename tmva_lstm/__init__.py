"""tmva_lstm: an LSTM classifier trained by backpropagation through time in NumPy, for TMVA."""

__version__ = "0.1.0"

__all__ = ["__version__"]
