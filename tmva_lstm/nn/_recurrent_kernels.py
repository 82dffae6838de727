"""Compiled whole-sequence kernels of the RNN and GRU layers (numba), as the LSTM's.

:mod:`tmva_lstm.nn.rnn` and :mod:`tmva_lstm.nn.gru` run these when the LSTM's kernel choice
(:func:`tmva_lstm.nn.lstm.kernel_name`) is ``"numba"``. One call runs the whole recurrence of
a forward pass, an inference pass (no cache: small per-thread arrays, output written
batch-first) or a backward pass: each step's GEMM runs in compiled code (the register tiles
of :mod:`tmva_lstm.nn._tiles`, or SciPy's BLAS) and the element-wise work of a row is one
fused pass; the batch is cut into row blocks run side by side on threads
(:func:`tmva_lstm.nn._kernels._in_blocks`), with SciPy's BLAS held at one thread. What does not depend on the recurrence stays outside, as on the NumPy path: the GRU's
input projection of all steps is one GEMM before the loop, the weight gradients and ``dx``
are one GEMM each after it.

Numbers: the arithmetic is the NumPy path's, in the same order (no reassociation; multiplies
and adds may fuse, the fast-math flag ``contract``), except float32 ``tanh`` (the LSTM
kernels' vectorised rational approximation, within 5 ulp of the exact value) and the order
in which the GEMM (tiles or BLAS) sums a block of rows. Measured
against the NumPy path: float32 agrees to about 1e-6 relative, float64 to about 1e-15
(``tests/test_rnn.py`` and ``tests/test_gru.py``, ``test_numba_and_numpy_paths_agree``, hold
them to 2e-6 and 1e-13).

Layouts: those of ``rnn.py`` (``vs (T+1, N, F+1+H)`` holds ``[x_t, 1, h_{t-1}]``) and
``gru.py`` (``xp (T, N, 3H)`` the input projection in the order (n, r, z), ``acts (T, N, 4H)``
the values (n, r, z, g) with ``g = h U_n + b_hn`` (reset after) or ``r h_{t-1}`` (before));
``keep (T, N)`` marks valid steps.
"""

from __future__ import annotations

import numpy as np

from ._kernels import FMA, _in_blocks, _jit, _tanh_run, blas_threads_pinned, matmul
from ._tiles import gemm

__all__ = [
    "rnn_forward_sequence",
    "rnn_infer_sequence",
    "rnn_backward_sequence",
    "gru_forward_sequence",
    "gru_infer_sequence",
    "gru_backward_sequence",
    "matmul",
]


def _run(kernel, args: tuple, N: int, blocks: int) -> None:
    with blas_threads_pinned():
        _in_blocks(kernel, args, N, blocks)


# --------------------------------------------------------------------------- RNN


@_jit(fastmath=FMA)
def _rnn_forward_rows(vs, V, keep, lo, hi, b):  # pragma: no cover - compiled
    T = vs.shape[0] - 1
    K, H = V.shape
    F1 = K - H
    n = hi - lo
    z = np.empty((n, H), dtype=V.dtype)
    for t in range(T):
        gemm(False, n, H, K, vs[t, lo:hi], K, V, H, 0.0, z, H)  # z_t (n, H)
        _tanh_run(z.reshape(n * H), 0, n * H)
        for r in range(n):
            row = lo + r
            h, h_prev, zr = vs[t + 1, row, F1:], vs[t, row, F1:], z[r]
            if keep[t, row]:
                for j in range(H):
                    h[j] = zr[j]  # h_t = tanh(z_t)
            else:
                for j in range(H):
                    h[j] = h_prev[j]  # masked: h_t = h_{t-1}


def rnn_forward_sequence(vs, V, keep, blocks: int) -> None:
    """The recurrence in place: ``vs (T+1, N, K)`` with ``x``, the ones and ``h_0`` filled in
    gets every ``h_t``; ``V (K, H)`` is ``[W; b; U]``."""
    _run(_rnn_forward_rows, (vs, V, keep), vs.shape[1], blocks)


@_jit(fastmath=FMA)
def _rnn_infer_rows(x, V, h0, keep, out, seq, lo, hi, b):  # pragma: no cover - compiled
    N, T, F = x.shape
    K, H = V.shape
    F1 = F + 1
    n = hi - lo
    v = np.empty((n, K), dtype=V.dtype)  # [x_t, 1, h_{t-1}]
    z = np.empty((n, H), dtype=V.dtype)
    for r in range(n):
        v[r, F] = 1.0
        for j in range(H):
            v[r, F1 + j] = h0[lo + r, j]
    for t in range(T):
        for r in range(n):
            xr, vr = x[lo + r, t], v[r]
            for k in range(F):
                vr[k] = xr[k]
        gemm(False, n, H, K, v, K, V, H, 0.0, z, H)
        _tanh_run(z.reshape(n * H), 0, n * H)
        for r in range(n):
            row = lo + r
            if keep[t, row]:
                zr, hr = z[r], v[r, F1:]
                for j in range(H):
                    hr[j] = zr[j]
            if seq:
                for j in range(H):
                    out[row, t, j] = v[r, F1 + j] if keep[t, row] else 0
    if not seq:
        for r in range(n):
            for j in range(H):
                out[lo + r, 0, j] = v[r, F1 + j]


def rnn_infer_sequence(x, V, h0, keep, out, seq: bool, blocks: int) -> None:
    """Inference without a cache: ``x (N, T, F)`` batch-first, ``h0 (N, H)``; out:
    ``out (N, T, H)`` (``seq``, zeros at masked steps) or ``(N, 1, H)``, the last state."""
    _run(_rnn_infer_rows, (x, V, h0, keep, out, seq), x.shape[0], blocks)


@_jit(fastmath=FMA)
def _rnn_backward_rows(dh_out, seq, hs, U_t, keep, dz, dh_next, lo, hi, b):  # pragma: no cover
    T, _, H = dz.shape
    n = hi - lo
    one = dz.dtype.type(1.0)
    dh = np.empty((n, H), dtype=dz.dtype)  # gradient of h_t
    for t in range(T - 1, -1, -1):
        for r in range(n):
            row = lo + r
            dhr, dzr, h, dhn = dh[r], dz[t, row], hs[t + 1, row], dh_next[row]
            if seq:
                dhe = dh_out[t, row]
                for j in range(H):
                    dhr[j] = dhn[j] + dhe[j]  # from step t+1 and from the output
            else:
                for j in range(H):
                    dhr[j] = dhn[j] + 0
            if keep[t, row]:
                for j in range(H):
                    dzr[j] = dhr[j] * (one - h[j] * h[j])  # h_t = tanh(z_t)
            else:
                for j in range(H):
                    dzr[j] = 0  # masked step: nothing flows into the weights
        gemm(False, n, H, H, dz[t, lo:hi], H, U_t, H, 0.0, dh_next[lo:hi], H)  # dz U^T
        for r in range(n):
            if not keep[t, lo + r]:
                for j in range(H):
                    dh_next[lo + r, j] = dh[r, j]  # masked: h_t = h_{t-1}


def rnn_backward_sequence(dh_out, seq: bool, hs, U_t, keep, dz, dh_next, blocks: int) -> None:
    """The backward recurrence: ``dh_out (T, N, H)`` time-major (``seq``; else unused),
    ``hs (T+1, N, H)``, ``U_t (H, H)`` C-contiguous; ``dh_next (N, H)`` the gradient of ``h_T``
    on entry, of ``h_0`` on exit; out: ``dz (T, N, H)``."""
    _run(_rnn_backward_rows, (dh_out, seq, hs, U_t, keep, dz, dh_next), dz.shape[1], blocks)


# --------------------------------------------------------------------------- GRU forward


@_jit(inline="always", fastmath=FMA)
def _gru_step(xp_t, h_prev, a, hu, hn, U_half, U_n, b_hn, after, n):  # pragma: no cover
    """One step for ``n`` rows: ``a (n, 4H)`` gets (n, r, z, g); scratch ``hu (n, 3H)`` (after)
    or ``(n, 2H)`` (before), ``hn (n, H)``."""
    H = h_prev.shape[1]
    half = a.dtype.type(0.5)
    if after:
        gemm(False, n, 3 * H, H, h_prev, H, U_half, 3 * H, 0.0, hu, 3 * H)  # h U
    else:
        gemm(False, n, 2 * H, H, h_prev, H, U_half, 2 * H, 0.0, hu, 2 * H)  # h U_rz
    for r in range(n):
        ar, xr, hur = a[r], xp_t[r], hu[r]
        for j in range(2 * H):
            ar[H + j] = xr[H + j] + hur[j]
        _tanh_run(ar, H, 3 * H)
        for j in range(2 * H):
            ar[H + j] = ar[H + j] * half + half  # r, z = sigmoid = 0.5 + 0.5 tanh(z / 2)
        if after:
            for j in range(H):
                g = hur[2 * H + j] + b_hn[j]  # g = h U_n + b_hn
                ar[3 * H + j] = g
                ar[j] = ar[H + j] * g + xr[j]  # n pre-activation: x W_n + b_n + r g
        else:
            hp = h_prev[r]
            for j in range(H):
                ar[3 * H + j] = ar[H + j] * hp[j]  # g = r h_{t-1}
    if not after:
        gemm(False, n, H, H, a[:, 3 * H :], 4 * H, U_n, H, 0.0, hn, H)  # (r h) U_n
        for r in range(n):
            ar, xr, hnr = a[r], xp_t[r], hn[r]
            for j in range(H):
                ar[j] = xr[j] + hnr[j]
    for r in range(n):
        _tanh_run(a[r], 0, H)  # n_t


@_jit(fastmath=FMA)
def _gru_forward_rows(xp, hs, acts, U_half, U_n, b_hn, after, keep, lo, hi, b):  # pragma: no cover
    T, _, H4 = acts.shape
    H = H4 // 4
    n = hi - lo
    hu = np.empty((n, 3 * H if after else 2 * H), dtype=acts.dtype)  # h U
    hn = np.empty((n, H), dtype=acts.dtype)
    for t in range(T):
        a, h_prev = acts[t, lo:hi], hs[t, lo:hi]
        _gru_step(xp[t, lo:hi], h_prev, a, hu, hn, U_half, U_n, b_hn, after, n)
        for r in range(n):
            h, hp, ar = hs[t + 1, lo + r], h_prev[r], a[r]
            if keep[t, lo + r]:
                for j in range(H):
                    nj = ar[j]
                    h[j] = ar[2 * H + j] * (hp[j] - nj) + nj  # h = (1 - z) n + z h_{t-1}
            else:
                for j in range(H):
                    h[j] = hp[j]  # masked: h_t = h_{t-1}


def gru_forward_sequence(xp, hs, acts, U_half, U_n, b_hn, after: bool, keep, blocks: int):
    """The recurrence in place: ``hs (T+1, N, H)`` (``h_0`` filled in) and ``acts``.
    ``U_half``: ``U (H, 3H)`` with r, z halved (after) or its ``(H, 2H)`` r, z part (before);
    ``U_n (H, H)`` (before; unused after); ``b_hn (H,)`` (after)."""
    args = (xp, hs, acts, U_half, U_n, b_hn, after, keep)
    _run(_gru_forward_rows, args, hs.shape[1], blocks)


@_jit(fastmath=FMA)
def _gru_infer_rows(
    xp, h0, U_half, U_n, b_hn, after, keep, out, seq, lo, hi, b
):  # pragma: no cover
    T, _, H3 = xp.shape
    H = H3 // 3
    n = hi - lo
    a = np.empty((n, 4 * H), dtype=xp.dtype)
    hu = np.empty((n, 3 * H if after else 2 * H), dtype=xp.dtype)  # h U
    hn = np.empty((n, H), dtype=xp.dtype)
    h = np.empty((n, H), dtype=xp.dtype)
    for r in range(n):
        for j in range(H):
            h[r, j] = h0[lo + r, j]
    for t in range(T):
        _gru_step(xp[t, lo:hi], h, a, hu, hn, U_half, U_n, b_hn, after, n)
        for r in range(n):
            row, ar, hr = lo + r, a[r], h[r]
            if keep[t, row]:
                for j in range(H):
                    nj = ar[j]
                    hr[j] = ar[2 * H + j] * (hr[j] - nj) + nj
            if seq:
                for j in range(H):
                    out[row, t, j] = hr[j] if keep[t, row] else 0
    if not seq:
        for r in range(n):
            for j in range(H):
                out[lo + r, 0, j] = h[r, j]


def gru_infer_sequence(xp, h0, U_half, U_n, b_hn, after: bool, keep, out, seq: bool, blocks):
    """Inference without a cache (arguments as :func:`gru_forward_sequence`); out:
    ``out (N, T, H)`` (``seq``, zeros at masked steps) or ``(N, 1, H)``, the last state."""
    args = (xp, h0, U_half, U_n, b_hn, after, keep, out, seq)
    _run(_gru_infer_rows, args, h0.shape[0], blocks)


# --------------------------------------------------------------------------- GRU backward


@_jit(fastmath=FMA)
def _gru_backward_rows(
    dh_out, seq, acts, hs, U_t, after, keep, dz, dh_next, lo, hi, b
):  # pragma: no cover - compiled
    T, _, H4 = acts.shape
    H = H4 // 4
    D = dz.shape[2]  # 4H (after: n, r, z, g) or 3H (before: n, r, z)
    n = hi - lo
    one = acts.dtype.type(1.0)
    dh = np.empty((n, H), dtype=acts.dtype)  # gradient of h_t
    direct = np.empty((n, H), dtype=acts.dtype)  # the part of dh_{t-1} that skips the matmuls
    drh = np.empty((n, H), dtype=acts.dtype)  # before: gradient of r h_{t-1}
    for t in range(T - 1, -1, -1):
        for r in range(n):
            row = lo + r
            a, h_prev, dzr, dhr, dir_ = acts[t, row], hs[t, row], dz[t, row], dh[r], direct[r]
            dhn = dh_next[row]
            if seq:
                dhe = dh_out[t, row]
                for j in range(H):
                    dhr[j] = dhn[j] + dhe[j]
            else:
                for j in range(H):
                    dhr[j] = dhn[j] + 0
            if not keep[t, row]:
                for j in range(D):
                    dzr[j] = 0  # masked step: nothing flows into the weights
                for j in range(H):
                    dir_[j] = dhr[j]  # masked: h_t = h_{t-1}
                continue
            for j in range(H):
                nn, z = a[j], a[2 * H + j]
                d = dhr[j]
                da_n = d * ((one - z) * (one - nn * nn))  # h = (1 - z) n + z h_{t-1}
                dzr[j] = da_n
                dzr[2 * H + j] = d * ((h_prev[j] - nn) * ((one - z) * z))
                dir_[j] = d * z
                if after:
                    rr, g = a[H + j], a[3 * H + j]
                    dzr[H + j] = da_n * (g * ((one - rr) * rr))  # a_n = ... + r g
                    dzr[3 * H + j] = da_n * rr
        if after:
            # (n, 3H) @ (3H, H): [da_r, da_z, dg] U^T
            gemm(False, n, H, 3 * H, dz[t, lo:hi, H:], D, U_t, H, 0.0, dh_next[lo:hi], H)
        else:
            # (n, H) @ (H, H): the gradient of r h_{t-1}
            gemm(False, n, H, H, dz[t, lo:hi], D, U_t[2 * H :], H, 0.0, drh, H)
            for r in range(n):
                row = lo + r
                a, h_prev, dzr, dir_, d = acts[t, row], hs[t, row], dz[t, row], direct[r], drh[r]
                for j in range(H):
                    rr = a[H + j]
                    dir_[j] = dir_[j] + d[j] * rr  # + drh r
                    if keep[t, row]:
                        dzr[H + j] = d[j] * (h_prev[j] * ((one - rr) * rr))
                    else:
                        dzr[H + j] = 0
            # (n, 2H) @ (2H, H): [da_r, da_z] U_rz^T
            gemm(False, n, H, 2 * H, dz[t, lo:hi, H:], D, U_t, H, 0.0, dh_next[lo:hi], H)
        for r in range(n):
            dhn, dir_ = dh_next[lo + r], direct[r]
            for j in range(H):
                dhn[j] = dhn[j] + dir_[j]


def gru_backward_sequence(dh_out, seq: bool, acts, hs, U_t, after: bool, keep, dz, dh_next, blocks):
    """The backward recurrence: ``dh_out (T, N, H)`` time-major (``seq``; else unused),
    ``U_t (3H, H)`` the unscaled ``U`` transposed, C-contiguous, rows (r, z, n); ``dh_next
    (N, H)`` the gradient of ``h_T`` on entry, of ``h_0`` on exit; out: ``dz (T, N, 4H)``
    (after) or ``(T, N, 3H)`` (before)."""
    args = (dh_out, seq, acts, hs, U_t, after, keep, dz, dh_next)
    _run(_gru_backward_rows, args, dz.shape[1], blocks)
