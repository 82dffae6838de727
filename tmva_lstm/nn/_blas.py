"""SciPy's BLAS GEMM called from numba's compiled code, and the options of every kernel.

``scipy.linalg.cython_blas`` exports ``sgemm``/``dgemm``; their addresses are registered with
LLVM under names of ours, so compiled functions refer to them by symbol, not by an address
baked into the code, and numba can cache those functions on disk.
"""

from __future__ import annotations

import numpy as np
from llvmlite import binding as llvm_binding
from numba import njit, types
from numba.extending import get_cython_function_address

__all__ = ["FMA", "_jit", "_gemm"]


FMA = {"contract"}  # fast-math flag of the kernels: only fused multiply-adds, no reassociation


def _jit(fn=None, **options):
    """``njit``, cached on disk where numba finds a writable place, else compiled per process."""

    def wrap(f):
        opts = {"fastmath": False, "nogil": True, "error_model": "numpy", **options}
        try:
            return njit(cache=True, **opts)(f)
        except RuntimeError:  # no writable cache directory (read-only install and home)
            return njit(cache=False, **opts)(f)

    return wrap if fn is None else wrap(fn)


for _name in ("sgemm", "dgemm"):
    llvm_binding.add_symbol(
        f"tmva_lstm_{_name}", get_cython_function_address("scipy.linalg.cython_blas", _name)
    )
_GEMM_SIG = types.void(*([types.voidptr] * 13))
_sgemm = types.ExternalFunction("tmva_lstm_sgemm", _GEMM_SIG)
_dgemm = types.ExternalFunction("tmva_lstm_dgemm", _GEMM_SIG)
_N, _T = 78, 84  # ord("N"), ord("T")


@_jit(fastmath=FMA)
def _gemm(ta, tb, m, n, k, A, lda, B, ldb, beta, C, ldc):  # pragma: no cover - compiled
    """Row-major ``C (m, n) = op(A) (m, k) @ op(B) (k, n) + beta C``; ``op`` transposes when
    ``ta``/``tb`` is True. ``A``, ``B``, ``C`` are views starting at the first element, rows
    ``lda``/``ldb``/``ldc`` elements apart.

    BLAS is column-major: a row-major matrix is its transpose there, so this asks BLAS for
    ``C^T = op(B)^T op(A)^T``, i.e. swaps the operands and keeps the flags.
    """
    ints = np.empty(8, dtype=np.int32)
    ints[0] = _T if tb else _N
    ints[1] = _T if ta else _N
    ints[2], ints[3], ints[4] = n, m, k
    ints[5], ints[6], ints[7] = ldb, lda, ldc
    scal = np.empty(2, dtype=C.dtype)
    scal[0], scal[1] = 1.0, beta
    args = (
        ints[0:1].ctypes,
        ints[1:2].ctypes,
        ints[2:3].ctypes,
        ints[3:4].ctypes,
        ints[4:5].ctypes,
        scal[0:1].ctypes,
        B.ctypes,
        ints[5:6].ctypes,
        A.ctypes,
        ints[6:7].ctypes,
        scal[1:2].ctypes,
        C.ctypes,
        ints[7:8].ctypes,
    )
    if C.itemsize == 4:
        _sgemm(*args)
    else:
        _dgemm(*args)
