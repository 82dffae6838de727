"""Declaring C++ to ROOT's interpreter (cling) from Python, safely.

PyROOT (6.40) releases Python's GIL around ``TInterpreter::Declare`` so that background
threads can run while cling compiles. While it compiles, cling and ROOT's callbacks can touch
Python objects; when another Python thread runs at that moment (tqdm's monitor thread, which
training starts, or Jupyter's output threads), the process's memory is corrupted at random:
the binding's tests crashed in one run out of a few that way, in their first CI run too.
:func:`declare` keeps the GIL for the whole call.
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
