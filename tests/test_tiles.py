"""The register-tile GEMM of the compiled kernels (``tmva_lstm.nn._tiles``) against NumPy."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba")

from tmva_lstm.nn import _tiles  # noqa: E402


def test_the_tiles_compile_here():
    """On this machine the IR compiles (else every product silently falls back to BLAS)."""
    assert _tiles.TILES_AVAILABLE


@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize(
    "m, k, n",
    [
        (32, 49, 128),  # whole 6 x 16 tiles and a 2-row rest
        (7, 5, 30),  # 16 + 8 columns by tiles, 6 by BLAS
        (13, 96, 8),  # one 8-column panel
        (1, 3, 17),  # one row
        (5, 1, 16),  # k = 1
        (3, 2, 7),  # narrower than a tile: BLAS
        (100, 300, 40),  # several slabs of rows (A does not fit L1 at once)
        (300, 300, 300),  # beyond BIG: BLAS
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gemm_equals_numpy(ta, m, k, n, dtype):
    rng = np.random.default_rng(m * 1000 + k * 10 + n)
    # operands inside larger arrays: leading dimensions differ from the widths
    A_big = rng.normal(size=(k + 2, m + 3) if ta else (m + 2, k + 3)).astype(dtype)
    A = A_big[1 : 1 + k, 2 : 2 + m] if ta else A_big[1 : 1 + m, 2 : 2 + k]
    B_big = rng.normal(size=(k + 1, n + 5)).astype(dtype)
    B = B_big[1:, 3 : 3 + n]
    C_big = rng.normal(size=(m + 1, n + 4)).astype(dtype)
    C = C_big[1:, 1 : 1 + n]
    before = C.copy()
    around = C_big.copy()
    lda, ldb, ldc = (M.strides[0] // M.itemsize for M in (A, B, C))
    ref = (A.T if ta else A).astype(np.float64) @ B.astype(np.float64)
    rel = 1e-5 if dtype == np.float32 else 1e-12
    scale = np.abs(ref).max() + 1.0

    _tiles.gemm(ta, m, n, k, A, lda, B, ldb, 1.0, C, ldc)  # C += op(A) B
    np.testing.assert_allclose(C, before + ref, atol=rel * scale * 4, rtol=0)
    _tiles.gemm(ta, m, n, k, A, lda, B, ldb, 0.0, C, ldc)  # C = op(A) B
    np.testing.assert_allclose(C, ref, atol=rel * scale, rtol=0)
    # nothing outside C was written
    outside = np.ones(C_big.shape, dtype=bool)
    outside[1:, 1 : 1 + n] = False
    np.testing.assert_array_equal(C_big[outside], around[outside])
