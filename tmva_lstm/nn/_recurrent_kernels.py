"""Fused element-wise kernels for one step of the RNN and GRU layers, compiled with numba.

:mod:`tmva_lstm.nn.rnn` and :mod:`tmva_lstm.nn.gru` use these when the LSTM's kernel choice
(:func:`tmva_lstm.nn.lstm.kernel_name`) is ``"numba"``. As for the LSTM, each kernel does the
arithmetic of its NumPy twin in the same order (no fast-math: no reassociation, no fused
multiply-adds), so both paths give the same bits; ``tanh`` stays with NumPy.

Layouts are the internal ones of ``gru.py``: ``a (N, 4H)`` holds a step's values in the order
(n, r, z, g) where ``g = h U_n + b_hn`` (reset gate after the matmul) or ``g = r h`` (before);
``keep (N,)`` marks the rows whose step is valid.
"""

from __future__ import annotations

from numba import njit

__all__ = [
    "rnn_step_backward",
    "gru_gates_after",
    "gru_gates_before",
    "gru_hidden",
    "gru_step_after",
    "gru_step_before",
    "gru_reset_before",
]


def _jit(fn):
    """``njit``, cached on disk where numba finds a writable place, else compiled per process."""
    try:
        return njit(cache=True, fastmath=False, nogil=True)(fn)
    except RuntimeError:  # no writable cache directory (read-only install and home)
        return njit(cache=False, fastmath=False, nogil=True)(fn)


# --------------------------------------------------------------------------- RNN


@_jit
def rnn_step_backward(dh_next, dh_ext, h, keep, dz, dh):  # pragma: no cover - compiled
    """``dh = dh_next + dh_ext``; ``dz = dh (1 - h_t^2)`` on a valid row, 0 on a masked one."""
    N, H = dh.shape
    one = h.dtype.type(1.0)
    for r in range(N):
        for j in range(H):
            dh[r, j] = dh_next[r, j] + dh_ext[r, j]
        if keep[r]:
            for j in range(H):
                dz[r, j] = dh[r, j] * (one - h[r, j] * h[r, j])  # h_t = tanh(z_t)
        else:
            for j in range(H):
                dz[r, j] = 0


# --------------------------------------------------------------------------- GRU forward


@_jit
def gru_gates_after(a, xp, hu, b_hn):  # pragma: no cover - compiled
    """Reset gate after the matmul. On entry ``a[:, H:3H]`` holds ``tanh(z / 2)`` of r and z;
    on exit r, z are ``sigmoid``, ``g = hu_n + b_hn`` and ``a[:, :H] = xp_n + r g``."""
    N = a.shape[0]
    H = a.shape[1] // 4
    half = a.dtype.type(0.5)
    for r in range(N):
        for j in range(2 * H):
            a[r, H + j] = a[r, H + j] * half + half  # sigmoid(z) = 0.5 + 0.5 tanh(z / 2)
        for j in range(H):
            g = hu[r, 2 * H + j] + b_hn[j]
            a[r, 3 * H + j] = g
            a[r, j] = a[r, H + j] * g + xp[r, j]  # n pre-activation: x W_n + b_n + r g


@_jit
def gru_gates_before(a, h_prev):  # pragma: no cover - compiled
    """Reset gate before the matmul: r, z to ``sigmoid``; ``a[:, 3H:] = r h_{t-1}``."""
    N = a.shape[0]
    H = a.shape[1] // 4
    half = a.dtype.type(0.5)
    for r in range(N):
        for j in range(2 * H):
            a[r, H + j] = a[r, H + j] * half + half
        for j in range(H):
            a[r, 3 * H + j] = a[r, H + j] * h_prev[r, j]


@_jit
def gru_hidden(a, h_prev, h, keep):  # pragma: no cover - compiled
    """``h = n + z (h_{t-1} - n)`` (= (1 - z) n + z h_{t-1}); ``h_prev`` on a masked row."""
    N, H = h.shape
    for r in range(N):
        if keep[r]:
            for j in range(H):
                n = a[r, j]
                h[r, j] = a[r, 2 * H + j] * (h_prev[r, j] - n) + n
        else:
            for j in range(H):
                h[r, j] = h_prev[r, j]


# --------------------------------------------------------------------------- GRU backward


@_jit
def gru_step_after(dh_next, dh_ext, a, h_prev, keep, dz, dh, direct):  # pragma: no cover
    """One step back, reset gate after the matmul: ``dz = [da_n, da_r, da_z, dg]`` and the
    direct part of ``dh_{t-1}`` (``dh z``; ``dh`` itself on a masked row)."""
    N, H = dh.shape
    one = a.dtype.type(1.0)
    for r in range(N):
        for j in range(H):
            dh[r, j] = dh_next[r, j] + dh_ext[r, j]
        if not keep[r]:
            for j in range(4 * H):
                dz[r, j] = 0
            for j in range(H):
                direct[r, j] = dh[r, j]
            continue
        for j in range(H):
            n, rr, z, g = a[r, j], a[r, H + j], a[r, 2 * H + j], a[r, 3 * H + j]
            d = dh[r, j]
            da_n = d * ((one - z) * (one - n * n))  # h = (1 - z) n + z h_{t-1}, n = tanh(.)
            dz[r, j] = da_n
            dz[r, H + j] = da_n * (g * ((one - rr) * rr))  # a_n = ... + r g
            dz[r, 2 * H + j] = d * ((h_prev[r, j] - n) * ((one - z) * z))
            dz[r, 3 * H + j] = da_n * rr
            direct[r, j] = d * z


@_jit
def gru_step_before(dh_next, dh_ext, a, h_prev, keep, dz, dh, direct):  # pragma: no cover
    """One step back, reset gate before the matmul, first half: ``da_n``, ``da_z`` and
    ``direct = dh z`` (``dh`` on a masked row, whose ``dz`` is 0)."""
    N, H = dh.shape
    one = a.dtype.type(1.0)
    for r in range(N):
        for j in range(H):
            dh[r, j] = dh_next[r, j] + dh_ext[r, j]
        if not keep[r]:
            for j in range(3 * H):
                dz[r, j] = 0
            for j in range(H):
                direct[r, j] = dh[r, j]
            continue
        for j in range(H):
            n, z = a[r, j], a[r, 2 * H + j]
            d = dh[r, j]
            dz[r, j] = d * ((one - z) * (one - n * n))
            dz[r, 2 * H + j] = d * ((h_prev[r, j] - n) * ((one - z) * z))
            direct[r, j] = d * z


@_jit
def gru_reset_before(drh, a, h_prev, keep, dz, direct):  # pragma: no cover - compiled
    """Second half, from ``drh``, the gradient of ``r h_{t-1}``: ``da_r`` and
    ``direct += drh r``."""
    N, H = drh.shape
    one = a.dtype.type(1.0)
    for r in range(N):
        for j in range(H):
            rr = a[r, H + j]
            direct[r, j] = direct[r, j] + drh[r, j] * rr
            if keep[r]:
                dz[r, H + j] = drh[r, j] * (h_prev[r, j] * ((one - rr) * rr))
            else:
                dz[r, H + j] = 0
