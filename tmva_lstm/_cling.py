"""Declaring C++ to ROOT's interpreter (cling) from Python with the GIL held.

PyROOT (6.40) releases Python's GIL around ``TInterpreter::Declare`` so that background
threads (Jupyter's output streaming) can run while cling compiles. tmva_lstm declares C++ from
inside TMVA's calls into the method (the model's response class, compiled on the first
``GetMvaValue``), where the calling C++ code does not expect other Python threads (tqdm's
monitor thread, which training starts) to run in between. :func:`declare` keeps the GIL for
the whole call.
"""

from __future__ import annotations

__all__ = ["declare"]


def declare(code: str) -> bool:
    """``gInterpreter->Declare(code)`` with the GIL held; True when cling compiled ``code``."""
    import ROOT

    method = ROOT.TInterpreter.Declare
    released = getattr(method, "__release_gil__", False)
    method.__release_gil__ = False
    try:
        return bool(ROOT.gInterpreter.Declare(code))
    finally:
        method.__release_gil__ = released
