"""Compiled whole-sequence LSTM kernels (numba), with the GEMMs called from compiled code.

:mod:`tmva_lstm.nn.lstm` runs these unless ``TMVA_LSTM_KERNEL=numpy``. One call does the
whole forward (or backward) pass over all time steps: each step's GEMM runs in the register
tiles of :mod:`tmva_lstm.nn._tiles` (float32; float64 and large products go to SciPy's BLAS,
:mod:`tmva_lstm.nn._blas`) and the gate arithmetic runs in compiled loops, so no Python runs
per step.

Threads: the events of a batch are independent through the whole recurrence, so the batch is
cut into row blocks, one per thread (numba's thread count, ``NUMBA_NUM_THREADS``), and each
thread runs the complete sequence for its rows with a single-threaded GEMM: the kernels release
the GIL, and the blocks run on a small pool of Python threads, with no synchronisation per
step. SciPy's OpenBLAS is held at one thread during the call (and restored after), so no
second thread pool competes for the cores. Small problems run in one block on the calling
thread.

Inference (:func:`infer_sequence`, ``lstm_forward(..., keep_cache=False)``) keeps no cache:
each block holds its rows' ``[x_t, 1, h_{t-1}]``, ``c`` and one step's gates in small arrays
that stay in cache. All kernels read and write the caller's arrays batch-first (``x``, the
output, its gradient, ``dx``), so no strided NumPy copy runs around them.

Numbers: the arithmetic of the gates is the NumPy path's, in the same order (no reassociation;
the only fast-math flag is ``contract``, which lets a multiply and an add fuse into one
rounding), with two exceptions that change results at the level of float rounding:

* float32 ``tanh`` is a rational approximation (Eigen's ``generic_fast_tanh_float``, clamped
  at |x| = 7.905, exact below |x| = 4e-4, its polynomials in fused multiply-adds as Eigen's
  own) that LLVM vectorises: within 5 ulp of the exact value (4.9 measured), against
  NumPy's 1-2 ulp. float64 uses the C library's ``tanh``.
* the backward pass accumulates the weight gradient step by step and block by block, while
  its inputs are still in cache, rather than in one GEMM over all steps (measured faster
  here), and the float32 tiles sum each product in order where BLAS blocks it: a different
  summation order.

Measured against the NumPy path: float32 agrees to about 1e-6 relative, float64 to about
1e-14 (``tests/test_lstm.py::test_compiled_and_numpy_paths_agree`` holds both to 2e-6 and
1e-13; ``test_inference_without_cache_equals_the_cached_forward`` the inference kernel).

Layouts are those of ``lstm.py``: gates in the internal order (g, i, f, o), time-major arrays,
``keep (T, N)`` marks valid steps.
"""

from __future__ import annotations

import ctypes
import math
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import get_num_threads, njit

from ._blas import FMA, _gemm, _jit
from ._tiles import gemm

__all__ = [
    "pack_weights",
    "unpack_grads",
    "forward_sequence",
    "infer_sequence",
    "backward_sequence",
    "blas_threads_pinned",
    "get_num_threads",
    "matmul",
    "tanh_inplace",
]


@njit(inline="always")
def _ld(M):  # pragma: no cover - compiled
    """Elements between the rows of a 2-d array (NumPy gives a one-row array any stride)."""
    if M.shape[0] <= 1:
        return max(M.shape[1], 1)
    return M.strides[0] // M.itemsize


@_jit(fastmath=FMA)
def _matmul_part(A, ta, B, C, by_cols, lo, hi, b):  # pragma: no cover - compiled
    """Rows (or with ``by_cols`` columns) ``lo:hi`` of ``C = op(A) @ B``; 2-d arrays whose
    rows are contiguous (``op`` transposes ``A`` when ``ta``)."""
    m, n = C.shape
    k = A.shape[0] if ta else A.shape[1]
    lda, ldb, ldc = _ld(A), _ld(B), _ld(C)
    if by_cols:
        _gemm(ta, False, m, hi - lo, k, A, lda, B[:, lo:], ldb, 0.0, C[:, lo:], ldc)
    elif ta:
        _gemm(ta, False, hi - lo, n, k, A[:, lo:], lda, B, ldb, 0.0, C[lo:], ldc)
    else:
        _gemm(ta, False, hi - lo, n, k, A[lo:], lda, B, ldb, 0.0, C[lo:], ldc)


def matmul(A, B, C, blocks: int, ta: bool = False) -> None:
    """``C = A @ B`` (``A.T @ B`` with ``ta``) with SciPy's BLAS on ``blocks`` threads of ours
    (the wider of C's dimensions cut into blocks), its own threads held at one: NumPy's
    OpenBLAS would leave its workers spinning on the cores the recurrence needs next. Rows of
    ``A``, ``B`` and ``C`` must be contiguous (any row stride)."""
    m, n = C.shape
    by_cols = n > m
    with blas_threads_pinned():
        _in_blocks(_matmul_part, (A, ta, B, C, by_cols), n if by_cols else m, blocks)


# --------------------------------------------------------------------------- tanh

_C = 7.90531110763549805  # beyond: tanh is 1 in float32
_TINY = 0.0004  # below: tanh(x) = x in float32
_ALPHA = (  # odd numerator, x^13 ... x^1
    -2.76076847742355e-16,
    2.00018790482477e-13,
    -8.60467152213735e-11,
    5.12229709037114e-08,
    1.48572235717979e-05,
    6.37261928875436e-04,
    4.89352455891786e-03,
)
_BETA = (1.19825839466702e-06, 1.18534705686654e-04, 2.26843463243900e-03, 4.89352518554385e-03)
_F = np.float32
_A13, _A11, _A9, _A7, _A5, _A3, _A1 = (_F(v) for v in _ALPHA)
_B6, _B4, _B2, _B0 = (_F(v) for v in _BETA)
_C32, _TINY32 = _F(_C), _F(_TINY)


@njit(inline="always", fastmath=FMA, error_model="numpy")
def _tanh32(x):  # pragma: no cover - compiled
    """float32 tanh: Eigen's rational approximation, branch-free so that loops vectorise."""
    v = x
    if v > _C32:
        v = _C32
    if v < -_C32:
        v = -_C32
    v2 = v * v
    p = ((((((_A13 * v2 + _A11) * v2 + _A9) * v2 + _A7) * v2 + _A5) * v2 + _A3) * v2 + _A1) * v
    q = ((_B6 * v2 + _B4) * v2 + _B2) * v2 + _B0
    r = p / q
    return x if abs(x) < _TINY32 else r


@njit(inline="always", fastmath=FMA, error_model="numpy")
def _tanh_run(a, lo, hi):  # pragma: no cover - compiled
    """``a[lo:hi] = tanh(a[lo:hi])`` on a 1-d array."""
    b = a[lo:hi]  # loops from 0: numba's index arithmetic then lets LLVM vectorise them
    if a.itemsize == 4:
        for j in range(b.size):
            b[j] = _tanh32(b[j])
    else:
        for j in range(b.size):
            b[j] = math.tanh(b[j])


@_jit(fastmath=FMA)
def tanh_inplace(a):  # pragma: no cover - compiled
    """``a = tanh(a)`` for a contiguous array (float32: the approximation above)."""
    flat = a.reshape(a.size)
    _tanh_run(flat, 0, flat.size)


# --------------------------------------------------------------------------- weights

_INTERNAL = (2, 0, 1, 3)  # internal gate block q (g, i, f, o) is public block _INTERNAL[q]


@_jit
def pack_weights(W, U, b, V_half, V_t):  # pragma: no cover - compiled
    """``W (F, 4H)``, ``U (H, 4H)``, ``b (4H,)`` in the public gate order (i, f, g, o) ->
    ``V_half (K, 4H)``: ``[W; b; U]`` in the internal order (g, i, f, o) with the sigmoid
    columns halved (``sigmoid(z) = 0.5 + 0.5 tanh(z / 2)``; exact, a power of two), and
    ``V_t (4H, K)``: the same unscaled, transposed. ``K = F + 1 + H``.

    The outputs come from the caller: a compiled function that returns new arrays calls back
    into Python to box them, and a Ctrl-C landing there surfaces as a ``SystemError``."""
    F, H4 = W.shape
    H = H4 // 4
    for k in range(F + 1 + H):
        src = W[k] if k < F else (b if k == F else U[k - F - 1])
        for q in range(4):
            scale = W.dtype.type(1.0 if q == 0 else 0.5)
            s = src[_INTERNAL[q] * H : _INTERNAL[q] * H + H]
            for j in range(H):
                V_t[q * H + j, k] = s[j]
                V_half[k, q * H + j] = s[j] * scale


@_jit
def unpack_grads(dVs, dV):  # pragma: no cover - compiled
    """``dVs (B, K, 4H)``: the row blocks' gradients of ``[W; b; U]`` in the internal order
    -> ``dV (K, 4H)``: their sum (block by block, in order) in the public order."""
    B, K, H4 = dVs.shape
    H = H4 // 4
    for k in range(K):
        for q in range(4):
            dst = dV[k, _INTERNAL[q] * H : _INTERNAL[q] * H + H]
            for j in range(H):
                dst[j] = dVs[0, k, q * H + j]
            for blk in range(1, B):
                for j in range(H):
                    dst[j] += dVs[blk, k, q * H + j]


# --------------------------------------------------------------------------- forward


@_jit(fastmath=FMA)
def _forward_rows(
    x, h0, c0, vs, Vh, acts, cs, tanh_c, keep, out, seq, lo, hi, b
):  # pragma: no cover - compiled
    """The whole sequence for rows ``lo:hi``: see :func:`forward_sequence`."""
    N, T, F = x.shape
    H4 = acts.shape[2]
    H = H4 // 4
    K = vs.shape[2]
    F1 = F + 1  # columns of [x_t, 1]
    n = hi - lo
    half = acts.dtype.type(0.5)
    for row in range(lo, hi):  # the block's step inputs [x_t, 1], h_0 and c_0
        for t in range(T + 1):  # there is no x_T: row T only holds h_T
            v = vs[t, row]
            if t < T:
                xr = x[row, t]
                for k in range(F):
                    v[k] = xr[k]
            else:
                for k in range(F):
                    v[k] = 0
            v[F] = 1
        h, c = vs[0, row, F1:], cs[0, row]
        for j in range(H):
            h[j] = h0[row, j] if h0.shape[0] else 0
            c[j] = c0[row, j] if c0.shape[0] else 0
    for t in range(T):
        a = acts[t, lo:hi]  # (n, 4H)
        gemm(False, n, H4, K, vs[t, lo:hi], K, Vh, H4, 0.0, a, H4)  # z_t
        _tanh_run(a.reshape(n * H4), 0, n * H4)  # g = tanh(z_g); tanh(z / 2) for i, f, o
        for r in range(n):
            row = lo + r
            ar = a[r]
            for j in range(3 * H):
                ar[H + j] = ar[H + j] * half + half  # i, f, o = sigmoid(z) = 0.5 + 0.5 tanh(z/2)
            c_prev, c, tc = cs[t, row], cs[t + 1, row], tanh_c[t, row]
            if keep[t, row]:
                for j in range(H):
                    c[j] = ar[2 * H + j] * c_prev[j] + ar[H + j] * ar[j]  # c_t = f c_{t-1} + i g
            else:  # masked: the state is carried through
                for j in range(H):
                    c[j] = c_prev[j]
            for j in range(H):
                tc[j] = c[j]
        tcb = tanh_c[t, lo:hi]  # (n, H)
        _tanh_run(tcb.reshape(n * H), 0, n * H)  # tanh(c_t), the block's rows in one pass
        for r in range(n):
            row = lo + r
            ar, tc = a[r], tanh_c[t, row]
            h_prev, h = vs[t, row, F1:], vs[t + 1, row, F1:]
            if keep[t, row]:
                for j in range(H):
                    h[j] = ar[3 * H + j] * tc[j]  # h_t = o tanh(c_t)
            else:
                for j in range(H):
                    h[j] = h_prev[j]
            if seq:  # the output, batch-first: h_t, or zeros at a masked step
                o = out[row, t]
                if keep[t, row]:
                    for j in range(H):
                        o[j] = h[j]
                else:
                    for j in range(H):
                        o[j] = 0
    if not seq:  # the output is the state after the last step
        for row in range(lo, hi):
            o, h = out[row, 0], vs[T, row, F1:]
            for j in range(H):
                o[j] = h[j]


def forward_sequence(x, h0, c0, vs, Vh, acts, cs, tanh_c, keep, out, seq: bool, blocks: int):
    """Run the recurrence over all steps and fill the cache.

    ``x (N, T, F)`` batch-first; ``h0``, ``c0 (N, H)``, or no rows for zeros; ``Vh (K, 4H)``:
    ``[W; b; U]`` in the internal gate order with the sigmoid columns halved; ``keep (T, N)``
    valid steps. Out: ``vs (T+1, N, K)`` each step's inputs ``[x_t, 1, h_{t-1}]`` (row T:
    ``h_T``), ``acts (T, N, 4H)``, ``cs (T+1, N, H)``, ``tanh_c (T, N, H)``, and ``out
    (N, T, H)`` (``seq``, zeros at masked steps) or ``(N, 1, H)``, the last state.
    """
    args = (x, h0, c0, vs, Vh, acts, cs, tanh_c, keep, out, seq)
    with blas_threads_pinned():
        _in_blocks(_forward_rows, args, x.shape[0], blocks)


@_jit(fastmath=FMA)
def _infer_rows(x, Vh, h0, c0, keep, out, seq, lo, hi, b):  # pragma: no cover - compiled
    """Inference for rows ``lo:hi``, no cache: see :func:`infer_sequence`."""
    N, T, F = x.shape
    K, H4 = Vh.shape
    H = H4 // 4
    F1 = F + 1
    n = hi - lo
    half = Vh.dtype.type(0.5)
    v = np.empty((n, K), dtype=Vh.dtype)  # [x_t, 1, h_{t-1}] of the block's rows
    a = np.empty((n, H4), dtype=Vh.dtype)  # z_t, then the activated gates
    c = np.empty((n, H), dtype=Vh.dtype)  # c_t
    tc = np.empty((n, H), dtype=Vh.dtype)  # tanh(c_t)
    for r in range(n):
        v[r, F] = 1.0
        for j in range(H):
            v[r, F1 + j] = h0[lo + r, j] if h0.shape[0] else 0
            c[r, j] = c0[lo + r, j] if c0.shape[0] else 0
    for t in range(T):
        for r in range(n):
            xr, vr = x[lo + r, t], v[r]
            for k in range(F):
                vr[k] = xr[k]
        gemm(False, n, H4, K, v, K, Vh, H4, 0.0, a, H4)  # (n, K) @ (K, 4H): z_t
        _tanh_run(a.reshape(n * H4), 0, n * H4)  # g = tanh(z_g); tanh(z / 2) for i, f, o
        for r in range(n):
            ar, cr, tr = a[r], c[r], tc[r]
            if keep[t, lo + r]:
                for j in range(3 * H):
                    ar[H + j] = ar[H + j] * half + half  # i, f, o = sigmoid = 0.5 + 0.5 tanh(z/2)
                for j in range(H):
                    cr[j] = ar[2 * H + j] * cr[j] + ar[H + j] * ar[j]  # c_t = f c_{t-1} + i g
            for j in range(H):
                tr[j] = cr[j]
        _tanh_run(tc.reshape(n * H), 0, n * H)  # tanh(c_t) of the block's rows
        for r in range(n):
            row = lo + r
            if not keep[t, row]:  # masked: the state is carried through, the output is 0
                if seq:
                    for j in range(H):
                        out[row, t, j] = 0
                continue
            ar, tr, hr = a[r], tc[r], v[r, F1:]
            for j in range(H):
                hr[j] = ar[3 * H + j] * tr[j]  # h_t = o tanh(c_t)
            if seq:
                for j in range(H):
                    out[row, t, j] = hr[j]
    if not seq:
        for r in range(n):
            for j in range(H):
                out[lo + r, 0, j] = v[r, F1 + j]


def infer_sequence(x, Vh, h0, c0, keep, out, seq: bool, blocks: int) -> None:
    """Inference without a cache: only each block's current ``h``, ``c`` and one step's
    gates are kept, in small per-thread arrays.

    ``x (N, T, F)`` batch-first; ``Vh`` as in :func:`forward_sequence`; ``h0``, ``c0 (N, H)``
    or no rows for zeros; ``keep (T, N)``; out: ``out (N, T, H)`` (``seq``, zeros at masked steps) or ``(N, 1, H)``,
    the last state.
    """
    with blas_threads_pinned():
        _in_blocks(_infer_rows, (x, Vh, h0, c0, keep, out, seq), x.shape[0], blocks)


# --------------------------------------------------------------------------- backward


@_jit(fastmath=FMA)
def _backward_rows(
    dh, seq, acts, cs, tanh_c, vs, V_t, keep, dz, dx, dV, dh_next, dc, lo, hi
):  # pragma: no cover - compiled
    """The whole backward sequence for rows ``lo:hi``: see :func:`backward_sequence`."""
    T, _, H4 = acts.shape
    H = H4 // 4
    K = vs.shape[2]
    F = K - 1 - H
    n = hi - lo
    one = acts.dtype.type(1.0)
    for row in range(lo, hi):  # the gradients of h_T and c_T
        for j in range(H):
            dh_next[row, j] = 0 if seq else dh[row, 0, j]
            dc[row, j] = 0
    dhb = np.empty((n, H), dtype=acts.dtype)  # gradient of h_t
    # float32 dx through a scratch as wide as the next multiple of 8: the GEMM then runs in
    # register tiles only (the extra columns read V_t's bias and U columns and are dropped)
    F8 = F + (-F) % 8
    pad = acts.itemsize == 4 and F8 != F and F8 <= K
    dxs = np.empty((n if pad else 1, F8), dtype=acts.dtype)
    for t in range(T - 1, -1, -1):
        for r in range(n):
            row = lo + r
            a, dzr, dcr, dhr = acts[t, row], dz[t, row], dc[row], dhb[r]
            c_prev, tc, dhn = cs[t, row], tanh_c[t, row], dh_next[row]
            if seq and keep[t, row]:
                dhe = dh[row, t]
                for j in range(H):
                    dhr[j] = dhn[j] + dhe[j]  # from step t+1 and from the output
            else:  # the output is h_T only, or a constant zero at a masked step
                for j in range(H):
                    dhr[j] = dhn[j]
            if not keep[t, row]:
                for j in range(H4):
                    dzr[j] = 0  # masked step: nothing flows into the weights
                continue
            # h_t = o tanh(c_t)   ->  dc_t = dh o (1 - tanh^2 c_t) + dc_{t+1} f_{t+1}
            for j in range(H):
                dcr[j] = dhr[j] * ((one - tc[j] * tc[j]) * a[3 * H + j]) + dcr[j]
            #                     ->  dz_o = dh tanh(c_t) o (1 - o)   (sigmoid' = (1 - s) s)
            for j in range(H):
                o = a[3 * H + j]
                dzr[3 * H + j] = (((one - o) * o) * tc[j]) * dhr[j]
            # c_t = f c_{t-1} + i g,  g = tanh(z_g)  ->  dz_g = dc i (1 - g^2)
            for j in range(H):
                g = a[j]
                dzr[j] = ((one - g * g) * a[H + j]) * dcr[j]
            #                     ->  dz_i = dc g i (1 - i)
            for j in range(H):
                i = a[H + j]
                dzr[H + j] = (((one - i) * i) * a[j]) * dcr[j]
            #                     ->  dz_f = dc c_{t-1} f (1 - f)
            for j in range(H):
                f = a[2 * H + j]
                dzr[2 * H + j] = (((one - f) * f) * c_prev[j]) * dcr[j]
            #                     ->  dc_{t-1} = dc_t f
            for j in range(H):
                dcr[j] = dcr[j] * a[2 * H + j]
        dzt = dz[t, lo:hi]  # (n, 4H)
        # z_t = [x_t, 1, h_{t-1}] V  ->  dh_{t-1} = dz U^T, dx_t = dz W^T, dV += v^T dz
        gemm(False, n, H, H4, dzt, H4, V_t[:, F + 1 :], K, 0.0, dh_next[lo:hi], H)
        for r in range(n):
            if not keep[t, lo + r]:
                for j in range(H):
                    dh_next[lo + r, j] = dhb[r, j]  # masked: h_t = h_{t-1}
        if pad:
            gemm(False, n, F8, H4, dzt, H4, V_t, K, 0.0, dxs, F8)
            for r in range(n):
                dxr, dsr = dx[lo + r, t], dxs[r]
                for j in range(F):
                    dxr[j] = dsr[j]
        else:  # dx (N, T, F) batch-first: the rows of a step are T F apart
            gemm(False, n, F, H4, dzt, H4, V_t, K, 0.0, dx[lo:hi, t], dx.shape[1] * F)
        beta = 0.0 if t == T - 1 else 1.0
        gemm(True, K, H4, n, vs[t, lo:hi], K, dzt, H4, beta, dV, H4)


def backward_sequence(dh, seq, acts, cs, tanh_c, vs, V_t, keep, dz, dx, dh_next, dc, blocks):
    """Backpropagate through all steps; returns ``dVs (B, K, 4H)``, the gradient of
    ``[W; b; U]`` (internal order) of each of the B row blocks (:func:`unpack_grads` adds them).

    ``dh``: the output gradient, batch-first, ``(N, T, H)`` (``seq``) or ``(N, 1, H)`` (the
    last state); ``V_t (4H, K)`` is the unscaled ``[W; b; U]`` transposed. Out: ``dz
    (T, N, 4H)``, ``dx (N, T, F)`` batch-first, ``dh_next``, ``dc (N, H)`` the gradients of
    ``h_0``, ``c_0``.
    """
    N, K, H4 = vs.shape[1], vs.shape[2], acts.shape[2]
    blocks = _usable(blocks, N)
    dVs = np.empty((blocks, K, H4), dtype=acts.dtype)  # each block's own sum over its rows
    args = (dh, seq, acts, cs, tanh_c, vs, V_t, keep, dz, dx, dVs, dh_next, dc)
    with blas_threads_pinned():
        _in_blocks(_backward_block, args, N, blocks)
    return dVs


@_jit(fastmath=FMA)
def _backward_block(
    dh, seq, acts, cs, tanh_c, vs, V_t, keep, dz, dx, dVs, dh_next, dc, lo, hi, b
):  # pragma: no cover - compiled
    _backward_rows(dh, seq, acts, cs, tanh_c, vs, V_t, keep, dz, dx, dVs[b], dh_next, dc, lo, hi)


def _usable(blocks: int, N: int) -> int:
    """Blocks to use: one where SciPy's BLAS threads cannot be pinned (see _PinnedThreads)."""
    return max(1, min(blocks, N)) if _PINNED.available else 1


def _in_blocks(kernel, args: tuple, N: int, blocks: int) -> None:
    """``kernel(*args, lo, hi, b)`` for ``blocks`` near-equal row blocks ``[lo, hi)`` of ``N``
    rows, side by side: block 0 on the calling thread, the others on a pool's threads (the
    kernels release the GIL)."""
    blocks = _usable(blocks, N)
    if blocks == 1:
        kernel(*args, 0, N, 0)
        return
    bounds = [round(N * b / blocks) for b in range(blocks + 1)]
    pool = _pool(blocks - 1)
    futures = [pool.submit(kernel, *args, bounds[b], bounds[b + 1], b) for b in range(1, blocks)]
    try:
        kernel(*args, bounds[0], bounds[1], 0)
    finally:
        for future in futures:
            future.result()


_POOL: list = []  # [ThreadPoolExecutor], created on first use
_POOL_LOCK = threading.Lock()


def _pool(workers: int) -> ThreadPoolExecutor:
    with _POOL_LOCK:
        if not _POOL or _POOL[0]._max_workers < workers:
            if _POOL:
                _POOL.pop().shutdown(wait=False)
            _POOL.append(ThreadPoolExecutor(workers, thread_name_prefix="tmva_lstm"))
        return _POOL[0]


# --------------------------------------------------------------------------- BLAS threads


class _PinnedThreads:
    """Context manager: SciPy's OpenBLAS on one thread inside, its setting restored after.

    Our threads call GEMM concurrently, each for its own rows; a multi-threaded OpenBLAS
    would start its own workers on the same cores. Where SciPy's BLAS is not an OpenBLAS whose
    thread count can be set, nothing is changed (``available`` is False) and the callers
    keep to one block.
    """

    def __init__(self):
        self.get = self.set = None
        self.lock, self.depth, self.before = threading.Lock(), 0, 0
        import scipy.linalg.cython_blas  # noqa: F401  (loads SciPy's BLAS)

        try:
            with open("/proc/self/maps") as maps:
                paths = sorted({ln.split()[-1] for ln in maps if "openblas" in ln.lower()})
        except OSError:
            paths = []
        for path in paths:
            if "64_" in path.rsplit("/", 1)[-1]:
                continue  # NumPy's 64-bit-integer OpenBLAS, not the one SciPy's bindings call
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            for prefix in ("scipy_openblas", "openblas"):
                get = getattr(lib, f"{prefix}_get_num_threads", None)
                set_ = getattr(lib, f"{prefix}_set_num_threads", None)
                if get is not None and set_ is not None:
                    self.get, self.set = get, set_
                    return

    @property
    def available(self) -> bool:
        return self.set is not None

    def __enter__(self):
        with self.lock:  # nested or concurrent uses: the outermost one sets and restores
            if self.depth == 0 and self.set is not None:
                self.before = int(self.get())
                if self.before > 1:
                    self.set(1)
            self.depth += 1
        return self

    def __exit__(self, *exc):
        with self.lock:
            self.depth -= 1
            if self.depth == 0 and self.set is not None and self.before > 1:
                self.set(self.before)


_PINNED = _PinnedThreads()


def blas_threads_pinned() -> _PinnedThreads:
    """SciPy's OpenBLAS held at one thread for the duration of a ``with`` block."""
    return _PINNED
