"""Fused element-wise kernels for one LSTM step, compiled with numba (optional).

:mod:`tmva_lstm.nn.lstm` uses these when numba imports, unless ``TMVA_LSTM_KERNEL=numpy``.
Each kernel does in one call what the NumPy path does in several whole-array passes, with the
same arithmetic in the same order: results are identical, bit for bit (no fast-math, so no
reassociation and no fused multiply-adds). ``tanh`` stays with NumPy, whose SIMD loops are an
order of magnitude faster than the scalar ``tanh`` numba calls.

Layouts are the internal ones of ``lstm.py``: ``a (N, 4H)`` holds a step's gates in the order
(g, i, f, o); ``keep (N,)`` marks the rows whose step is valid (the others carry their state).
Constants are made in the arrays' dtype (``dtype.type``) so float32 stays float32.
"""

from __future__ import annotations

from numba import njit

__all__ = ["gates_forward", "hidden_forward", "step_backward"]


def _jit(fn):
    """``njit``, cached on disk where numba finds a writable place, else compiled per process."""
    try:
        return njit(cache=True, fastmath=False, nogil=True)(fn)
    except RuntimeError:  # no writable cache directory (read-only install and home)
        return njit(cache=False, fastmath=False, nogil=True)(fn)


@_jit
def gates_forward(a, c_prev, c, keep):  # pragma: no cover - compiled
    """Sigmoid gates and the new cell, in place of the ``tanh`` values in ``a``.

    On entry ``a`` holds ``tanh(z_g)`` and ``tanh(z / 2)`` for i, f, o; on exit i, f, o are
    ``sigmoid(z) = 0.5 + 0.5 tanh(z / 2)`` and ``c = f c_prev + i g`` (``c_prev`` on a
    masked row).
    """
    N, H = c.shape
    half = a.dtype.type(0.5)
    for r in range(N):
        s = a[r, H:]  # i, f, o of row r: one contiguous run
        for j in range(3 * H):
            s[j] = s[j] * half + half  # sigmoid(z) = 0.5 + 0.5 tanh(z / 2)
    for r in range(N):
        if keep[r]:
            for j in range(H):
                g, i, f = a[r, j], a[r, H + j], a[r, 2 * H + j]
                c[r, j] = f * c_prev[r, j] + i * g  # c_t = f c_{t-1} + i g
        else:
            for j in range(H):
                c[r, j] = c_prev[r, j]


@_jit
def hidden_forward(a, tanh_c, h_prev, h, keep):  # pragma: no cover - compiled
    """``h = o tanh(c)`` (``h_prev`` on a masked row)."""
    N, H = h.shape
    for r in range(N):
        if keep[r]:
            for j in range(H):
                h[r, j] = a[r, 3 * H + j] * tanh_c[r, j]  # h_t = o tanh(c_t)
        else:
            for j in range(H):
                h[r, j] = h_prev[r, j]


@_jit
def step_backward(dh_next, dh_ext, dc, a, c_prev, tanh_c, keep, dz, dh):  # pragma: no cover
    """One step back in time: ``dz (N, 4H)`` of the pre-activations, ``dc`` in place.

    ``dh = dh_next + dh_ext`` is the gradient of ``h_t`` (from step t+1 and from the output);
    ``dc`` enters as the gradient of ``c_t`` from step t+1 and leaves as that of ``c_{t-1}``.
    A masked row passes ``dh`` and ``dc`` through and gets ``dz = 0``.

    Each row is a few short loops rather than one: a loop that touches fewer arrays needs
    fewer run-time overlap checks, which is what lets LLVM vectorise it.
    """
    N, H = dh.shape
    one = a.dtype.type(1.0)
    for r in range(N):
        for j in range(H):
            dh[r, j] = dh_next[r, j] + dh_ext[r, j]
        if not keep[r]:
            for j in range(4 * H):
                dz[r, j] = 0
            continue
        # h_t = o tanh(c_t)   ->  dc_t = dh o (1 - tanh^2 c_t) + dc_{t+1} f_{t+1}
        for j in range(H):
            o, tc = a[r, 3 * H + j], tanh_c[r, j]
            dc[r, j] = dh[r, j] * ((one - tc * tc) * o) + dc[r, j]
        #                     ->  dz_o = dh tanh(c_t) o (1 - o)     (sigmoid' = (1 - s) s)
        for j in range(H):
            o, tc = a[r, 3 * H + j], tanh_c[r, j]
            dz[r, 3 * H + j] = (((one - o) * o) * tc) * dh[r, j]
        # c_t = f c_{t-1} + i g,  g = tanh(z_g)  ->  dz_g = dc i (1 - g^2)
        for j in range(H):
            g, i = a[r, j], a[r, H + j]
            dz[r, j] = ((one - g * g) * i) * dc[r, j]
        #                     ->  dz_i = dc g i (1 - i)
        for j in range(H):
            g, i = a[r, j], a[r, H + j]
            dz[r, H + j] = (((one - i) * i) * g) * dc[r, j]
        #                     ->  dz_f = dc c_{t-1} f (1 - f)
        for j in range(H):
            f = a[r, 2 * H + j]
            dz[r, 2 * H + j] = (((one - f) * f) * c_prev[r, j]) * dc[r, j]
        #                     ->  dc_{t-1} = dc_t f
        for j in range(H):
            dc[r, j] = dc[r, j] * a[r, 2 * H + j]
