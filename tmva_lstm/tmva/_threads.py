"""Thread settings for NumPy's BLAS and ROOT's TMVA in one process.

What the ROOT developers found (root-project/root):

* PR #15302 (2024, backported to 6.28-6.32 as #15303/#15304/#15305): TMVA's BLAS-accelerated CPU
  backend (``tmva-cpu``) links the system's OpenBLAS while a pip-installed NumPy ships its own
  OpenBLAS; "if both openblas versions are loaded, segfaults can occur if they are incompatible".
  Their remedy was to build without ``tmva-cpu`` on the affected platform.
* Issue #15309 ("[TMVA] Python module compatibility problems") lists the same clash for SOFIE,
  and notes it fixed by PR #18065 (ROOT 6.36, backported to 6.34 in #18086): ``tmva-cpu`` uses
  GSL's CBLAS only. PR #15439 notes that flexiblas (AlmaLinux 9's default BLAS) cannot be used
  together with NumPy's OpenBLAS. Issue #17860, also named in our brief, could not be found in
  the searchable issue index, so nothing here relies on it.

A symbol clash between two BLAS libraries is decided by how ROOT was built; no setting made
from Python removes it. What a process can do is keep the two libraries from running their
thread pools against each other, which is the configuration those reports do not crash in:

* ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` and ``MKL_NUM_THREADS`` are read once, when the
  BLAS library initialises, i.e. at ``import numpy``. :func:`pin_blas_threads` sets them with
  :func:`os.environ.setdefault` (a value the user exported wins) and only while NumPy is not yet
  imported; afterwards it changes nothing and says so in its return value.
* PyLSTM does not use ROOT's implicit multi-threading; TMVA's own methods (BDT, DL) do. The
  training of PyLSTM runs in the calling thread, with NumPy's threads only. Call
  ``ROOT.DisableImplicitMT()`` when ROOT's build links a BLAS other than NumPy's and TMVA methods
  trained in the same job crash.
"""

from __future__ import annotations

import os
import sys

__all__ = ["BLAS_THREAD_VARIABLES", "pin_blas_threads"]

BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def pin_blas_threads(n_threads: int = 1) -> bool:
    """Default the BLAS thread counts to ``n_threads`` if NumPy is not imported yet.

    Returns True when the variables were (or already are) in effect for this process, False when
    NumPy was imported before the call and the settings can no longer apply.
    """
    if "numpy" in sys.modules:
        return all(v in os.environ for v in BLAS_THREAD_VARIABLES)
    for variable in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(variable, str(n_threads))
    return True
