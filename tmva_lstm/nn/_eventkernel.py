"""The whole network for a few events in one compiled call: the single-event fast path.

``Model.predict`` on one event (``TMVA::Reader::EvaluateMVA`` asks for one at a time) is
dominated by Python: a dozen NumPy calls per layer and per step, each a microsecond or more.
Here one compiled function runs the input transformation, every layer and the output sigmoid
for each event; a small "program" (one row per layer) says what to run, so one compiled
function serves every architecture and nothing is compiled per model.

Program rows (int64): ``[kind, n_in, units, activation, return_sequences, a0, a1, a2]`` with
``kind`` 1 LSTM, 2 FLATTEN, 3 DENSE, ``activation`` the index in
:data:`tmva_lstm.nn.activations.ACTIVATIONS` and ``a0..a2`` the memory addresses of the
layer's parameter arrays: LSTM ``W (F, 4H)``, ``U (H, 4H)``, ``b (4H,)``; DENSE ``W (I, O)``,
``b (O,)``. The kernel reads the model's own (C-contiguous) arrays through those addresses,
so it always sees the current weights, and passing a dozen arrays costs nothing per call;
whoever holds the program keeps the arrays alive (:func:`build_program` returns them).

Numbers: the arithmetic of ``lstm.py``/``dense.py`` per event, with dot products summed in
index order (not BLAS's order) and float32 ``tanh`` from :mod:`tmva_lstm.nn._kernels`: scores
agree with the batched path to about 1e-6.
"""

from __future__ import annotations

import math

import numpy as np
from numba import carray, njit, types
from numba.extending import intrinsic

from ._kernels import _jit, _tanh32  # _jit: cached on disk, or in memory where read-only

__all__ = ["LSTM", "FLATTEN", "DENSE", "predict_events"]

LSTM, FLATTEN, DENSE = 1, 2, 3


@intrinsic
def _pointer(typingctx, address, like):
    """``address`` (int64) as a pointer to ``like``'s dtype, for ``numba.carray``."""
    ptr_type = types.CPointer(like.dtype)

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], context.get_value_type(ptr_type))

    return ptr_type(types.int64, like), codegen


@njit(inline="always", fastmath=False, error_model="numpy")
def _tanh_vec(v, n):  # pragma: no cover - compiled
    """``v[:n] = tanh(v[:n])``; float32: the vectorised approximation of ``_kernels``."""
    if v.itemsize == 4:
        for j in range(n):
            v[j] = _tanh32(v[j])
    else:
        for j in range(n):
            v[j] = math.tanh(v[j])


@njit(inline="always", fastmath=False, error_model="numpy")
def _activate(v, n, act):  # pragma: no cover - compiled
    """TMVA's dense activations (``activations.forward``) on ``v[:n]``, in place."""
    one = v.dtype.type(1.0)
    half = v.dtype.type(0.5)
    if act == 1:  # TANH
        _tanh_vec(v, n)
    elif act == 2:  # RELU
        for j in range(n):
            if v[j] < 0:
                v[j] = 0
    elif act == 3:  # SIGMOID = 0.5 + 0.5 tanh(z / 2)
        for j in range(n):
            v[j] = half * v[j]
        _tanh_vec(v, n)
        for j in range(n):
            v[j] = half + half * v[j]
    elif act == 4:  # SYMMRELU
        for j in range(n):
            v[j] = abs(v[j])
    elif act == 5:  # SOFTSIGN
        for j in range(n):
            v[j] = v[j] / (one + abs(v[j]))
    elif act == 6:  # GAUSS
        for j in range(n):
            v[j] = math.exp(-v[j] * v[j])


@_jit
def predict_events(x, mask, use_mask, prog, offset, scale, use_transform, width, out):
    """Scores of ``x (N, T, F)`` into ``out (N,)`` float64: the sigmoid of the first output
    (NaN becomes -999, as ``Model.predict``). ``mask (N, T)`` is read when ``use_mask``;
    ``offset``/``scale (T, F)`` when ``use_transform``; ``width`` bounds every layer's
    output size (``T`` times the widest sequence)."""  # pragma: no cover - compiled
    N, T, F = x.shape
    dt = x.dtype
    a = np.zeros(width, dtype=dt)  # the current layer's input, flat
    o = np.zeros(width, dtype=dt)  # its output
    hmax = 1
    for li in range(prog.shape[0]):
        if prog[li, 0] == LSTM:
            hmax = max(hmax, prog[li, 2])
    h = np.zeros(hmax, dtype=dt)
    c = np.zeros(hmax, dtype=dt)
    z = np.zeros(4 * hmax, dtype=dt)
    half = dt.type(0.5)
    for n in range(N):
        for t in range(T):  # input transformation: x' = (x - offset) scale, padding zero
            valid = mask[n, t] or not use_mask
            for k in range(F):
                v = x[n, t, k]
                if use_transform:
                    v = (v - offset[t, k]) * scale[t, k]
                    if not valid:
                        v = 0
                a[t * F + k] = v
        seq, w = True, F  # the current tensor: (T, w) if seq else (w,)
        for li in range(prog.shape[0]):
            kind, n_in, units = prog[li, 0], prog[li, 1], prog[li, 2]
            act, ret_seq = prog[li, 3], prog[li, 4]
            if kind == LSTM:
                H = units
                W = carray(_pointer(prog[li, 5], x), (n_in, 4 * H))
                U = carray(_pointer(prog[li, 6], x), (H, 4 * H))
                b = carray(_pointer(prog[li, 7], x), (4 * H,))
                for j in range(H):
                    h[j] = 0
                    c[j] = 0
                for t in range(T):
                    if use_mask and not mask[n, t]:
                        if ret_seq:  # masked: state carried, output zero
                            for j in range(H):
                                o[t * H + j] = 0
                        continue
                    for j in range(4 * H):  # z = x_t W + h U + b, summed in index order
                        z[j] = 0
                    for k in range(n_in):
                        xk = a[t * n_in + k]
                        for j in range(4 * H):
                            z[j] += xk * W[k, j]
                    for k in range(H):
                        hk = h[k]
                        for j in range(4 * H):
                            z[j] += hk * U[k, j]
                    for j in range(4 * H):
                        z[j] += b[j]
                    for j in range(H):  # sigmoid(z) = 0.5 + 0.5 tanh(z / 2) for i, f, o
                        z[j] = half * z[j]
                        z[H + j] = half * z[H + j]
                        z[3 * H + j] = half * z[3 * H + j]
                    _tanh_vec(z, 4 * H)
                    for j in range(H):
                        ig = half + half * z[j]
                        fg = half + half * z[H + j]
                        og = half + half * z[3 * H + j]
                        c[j] = fg * c[j] + ig * z[2 * H + j]  # c_t = f c_{t-1} + i g
                        z[j] = og  # keep o while tanh(c) is computed
                    for j in range(H):
                        h[j] = c[j]
                    _tanh_vec(h, H)
                    for j in range(H):
                        h[j] = z[j] * h[j]  # h_t = o tanh(c_t)
                    if ret_seq:
                        for j in range(H):
                            o[t * H + j] = h[j]
                if not ret_seq:
                    for j in range(H):
                        o[j] = h[j]
                seq, w = ret_seq != 0, H
            elif kind == FLATTEN:
                if seq:
                    seq, w = False, T * w
                continue  # same memory: (T, w) row-major is the flat step-major vector
            else:
                W = carray(_pointer(prog[li, 5], x), (n_in, units))
                b = carray(_pointer(prog[li, 6], x), (units,))
                for j in range(units):
                    o[j] = 0
                for k in range(n_in):
                    xk = a[k]
                    for j in range(units):
                        o[j] += xk * W[k, j]
                for j in range(units):
                    o[j] += b[j]
                _activate(o, units, act)
                seq, w = False, units
            a, o = o, a
        logit = np.float64(a[0])
        score = 0.5 + 0.5 * math.tanh(0.5 * logit)
        out[n] = -999.0 if score != score else score


def build_program(network, params, dtype) -> tuple[np.ndarray, list, int] | None:
    """``(prog, arrays, width)`` for :func:`predict_events`, or None when the network has a
    layer this kernel does not run, or parameters that are not C-contiguous ``dtype`` arrays
    (then the batched path serves every call). ``arrays`` must be kept alive with ``prog``.
    """
    from .activations import ACTIVATIONS

    T = network.time_steps
    rows, arrays = [], []
    width, seq, w = T * network.features, True, network.features
    for layer in network.layers:
        p = params.get(layer.name, {})
        if layer.kind == "LSTM":
            mats = [p["W"], p["U"], p["b"]]
            rows.append([LSTM, layer.n_in, layer.units, 0, int(layer.return_sequences)])
            seq, w = layer.return_sequences, layer.units
        elif layer.kind == "FLATTEN":
            mats = []
            rows.append([FLATTEN, 0, 0, 0, 0])
            if seq:
                seq, w = False, T * w
        elif layer.kind == "DENSE" and layer.activation in ACTIVATIONS:
            mats = [p["W"], p["b"]]
            rows.append([DENSE, layer.n_in, layer.units, ACTIVATIONS.index(layer.activation), 0])
            seq, w = False, layer.units
        else:
            return None
        width = max(width, T * w if seq else w)
        for m in mats:
            if not (isinstance(m, np.ndarray) and m.dtype == dtype and m.flags.c_contiguous):
                return None
        rows[-1] += [m.ctypes.data for m in mats] + [0] * (3 - len(mats))
        arrays += mats
    return np.array(rows, dtype=np.int64).reshape(-1, 8), arrays, width
