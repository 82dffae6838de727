"""A long short-term memory layer: forward pass and exact backpropagation through time.

Axes: ``N`` events in the batch, ``T`` time steps, ``F`` input features, ``H`` state size.
Arrays are batch-first: inputs ``x (N, T, F)``, outputs ``h (N, T, H)``.

Parameters (a dict): ``W (F, 4H)``, ``U (H, 4H)``, ``b (4H,)``, the four gate blocks in the
order input, forget, candidate, output (i, f, g, o) -- the order of TMVA, PyTorch and Keras.
For each step t, with the previous state ``h_{t-1}, c_{t-1}`` (zero or ``h0, c0`` at t = 0)::

    z_t = x_t W + h_{t-1} U + b                      (N, 4H), split into z_i z_f z_g z_o
    i_t = sigmoid(z_i)   f_t = sigmoid(z_f)   g_t = tanh(z_g)   o_t = sigmoid(z_o)
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * tanh(c_t)

These are the equations of TMVA's ``TBasicLSTMLayer`` (no peepholes, one bias per gate) and
of ``torch.nn.LSTM`` with ``b = bias_ih + bias_hh``.

Masking: ``mask (N, T)`` marks valid steps. On a masked step the state is carried through
unchanged (``h_t = h_{t-1}``, ``c_t = c_{t-1}``), the output is zero (as PyTorch's
``pad_packed_sequence`` gives), and no gradient flows into the weights. With
``return_sequences=False`` the output is the state after the last step, which is the state
of the last valid step.

How it is made fast (the numbers are the same as the textbook order of operations):

* the input projection ``x W + b`` of all T steps is one GEMM before the loop;
* each step is one GEMM ``h_{t-1} U`` plus a handful of whole-block element-wise passes;
* internally the gate blocks are reordered to (g, i, f, o) so the three sigmoid gates form
  one contiguous block and the three gates scaled by ``dc`` in the backward pass form another;
* ``sigmoid(z) = 0.5 + 0.5 tanh(z / 2)``, and the 1/2 is folded into the sigmoid columns of
  W, U and b (exact: a power of two), so one ``tanh`` call activates all four gates;
* in the backward pass every factor that does not depend on the recurrence is computed for
  all steps at once, and the weight gradients are single GEMMs over all steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "LSTMCache",
    "lstm_forward",
    "lstm_backward",
    "init_lstm_params",
    "to_torch",
    "from_torch",
    "to_tmva",
    "from_tmva",
    "TMVA_XML_TAGS",
]

Params = dict[str, np.ndarray]


def _internal_order(H: int) -> np.ndarray:
    """Column permutation from the public gate order (i, f, g, o) to the internal (g, i, f, o)."""
    i, f, g, o = (np.arange(k * H, (k + 1) * H) for k in range(4))
    return np.concatenate([g, i, f, o])


@dataclass
class LSTMCache:
    """What ``lstm_backward`` needs from ``lstm_forward``. Internal gate order (g, i, f, o).

    ``xs``: inputs, time-major ``(T, N, F)``; ``acts``: activated gates ``(T, N, 4H)``;
    ``hs``/``cs``: hidden and cell state ``(T+1, N, H)`` with the initial state at index 0;
    ``tanh_c``: ``tanh`` of the new cell value at each step ``(T, N, H)``;
    ``W_t``/``U_t``: unscaled internal weights, transposed ``(4H, F)``/``(4H, H)``;
    ``mask``: time-major ``(T, N)`` booleans or None.
    """

    xs: np.ndarray
    acts: np.ndarray
    hs: np.ndarray
    cs: np.ndarray
    tanh_c: np.ndarray
    W_t: np.ndarray
    U_t: np.ndarray
    perm: np.ndarray
    mask: np.ndarray | None
    return_sequences: bool


def _check_inputs(x: np.ndarray, params: Params) -> tuple[int, int, int, int]:
    if x.ndim != 3:
        raise ValueError(f"lstm_forward: x must be (N, T, F), got shape {x.shape}")
    N, T, F = x.shape
    W, U, b = params["W"], params["U"], params["b"]
    H = U.shape[0]
    if W.shape != (F, 4 * H) or U.shape != (H, 4 * H) or b.shape != (4 * H,):
        raise ValueError(
            f"lstm_forward: parameter shapes W {W.shape}, U {U.shape}, b {b.shape} do not fit "
            f"F={F}, H={H}; expected W ({F}, {4 * H}), U ({H}, {4 * H}), b ({4 * H},)"
        )
    if T == 0:
        raise ValueError("lstm_forward: x has no time steps (T = 0)")
    return N, T, F, H


def lstm_forward(
    x: np.ndarray,
    params: Params,
    h0: np.ndarray | None = None,
    c0: np.ndarray | None = None,
    mask: np.ndarray | None = None,
    return_sequences: bool = True,
) -> tuple[np.ndarray, LSTMCache]:
    """Run the LSTM over ``x (N, T, F)``.

    Returns ``h (N, T, H)`` if ``return_sequences`` else ``h (N, H)`` (the last valid step),
    and the cache for :func:`lstm_backward`. ``h0``/``c0`` are ``(N, H)`` (zeros if None);
    ``mask`` is ``(N, T)`` booleans (valid steps). The dtype follows ``x`` (float32 or float64).
    """
    dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    x = np.asarray(x, dtype=dtype)
    N, T, F, H = _check_inputs(x, params)
    perm = _internal_order(H)

    # Internal weights: gate order (g, i, f, o); sigmoid columns halved for the tanh form.
    W = np.asarray(params["W"], dtype=dtype)[:, perm]  # (F, 4H)
    U = np.asarray(params["U"], dtype=dtype)[:, perm]  # (H, 4H)
    b = np.asarray(params["b"], dtype=dtype)[perm]  # (4H,)
    half = np.ones(4 * H, dtype=dtype)
    half[H:] = 0.5
    W_half, U_half, b_half = W * half, U * half, b * half

    xs = np.ascontiguousarray(x.transpose(1, 0, 2))  # (T, N, F)
    acts = np.matmul(xs.reshape(T * N, F), W_half).reshape(T, N, 4 * H)  # (T, N, 4H)
    acts += b_half

    hs = np.empty((T + 1, N, H), dtype=dtype)
    cs = np.empty((T + 1, N, H), dtype=dtype)
    hs[0] = 0.0 if h0 is None else h0
    cs[0] = 0.0 if c0 is None else c0
    tanh_c = np.empty((T, N, H), dtype=dtype)
    rec = np.empty((N, 4 * H), dtype=dtype)  # h_{t-1} U for one step
    ig = np.empty((N, H), dtype=dtype)
    m_t = None
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != (N, T):
            raise ValueError(f"lstm_forward: mask must be (N, T) = ({N}, {T}), got {mask.shape}")
        m_t = np.ascontiguousarray(mask.T)  # (T, N)
        skip_t = ~m_t[:, :, None]  # (T, N, 1): steps that carry the state

    for t in range(T):
        a = acts[t]  # (N, 4H): x_t W + b, becomes the activated gates in place
        np.matmul(hs[t], U_half, out=rec)  # (N, H) @ (H, 4H) -> (N, 4H)
        a += rec
        np.tanh(a, out=a)  # g = tanh(z_g); tanh(z/2) for i, f, o
        s = a[:, H:]
        s *= 0.5
        s += 0.5  # i, f, o = sigmoid(z)
        g, i, f, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
        c = cs[t + 1]
        np.multiply(f, cs[t], out=c)
        np.multiply(i, g, out=ig)
        c += ig  # c_t = f c_{t-1} + i g
        np.tanh(c, out=tanh_c[t])
        np.multiply(o, tanh_c[t], out=hs[t + 1])  # h_t = o tanh(c_t)
        if m_t is not None:
            np.copyto(c, cs[t], where=skip_t[t])
            np.copyto(hs[t + 1], hs[t], where=skip_t[t])

    if return_sequences:
        out = hs[1:]
        if m_t is not None:
            out = out * m_t[:, :, None]
        h = np.ascontiguousarray(out.transpose(1, 0, 2))  # (N, T, H)
    else:
        h = hs[T].copy()  # (N, H)

    cache = LSTMCache(
        xs=xs,
        acts=acts,
        hs=hs,
        cs=cs,
        tanh_c=tanh_c,
        W_t=np.ascontiguousarray(W.T),
        U_t=np.ascontiguousarray(U.T),
        perm=perm,
        mask=m_t,
        return_sequences=return_sequences,
    )
    return h, cache


def lstm_backward(dh: np.ndarray, cache: LSTMCache) -> tuple[np.ndarray, Params]:
    """Backpropagate ``dh`` (the shape of the forward output) through time.

    Returns ``dx (N, T, F)`` and ``grads`` with ``W (F, 4H)``, ``U (H, 4H)``, ``b (4H,)``
    (public gate order) and ``h0``, ``c0`` ``(N, H)``.
    """
    acts, hs, cs, tanh_c = cache.acts, cache.hs, cache.cs, cache.tanh_c
    T, N, H4 = acts.shape
    H = H4 // 4
    F = cache.xs.shape[2]
    dtype = acts.dtype
    dh = np.asarray(dh, dtype=dtype)
    if cache.return_sequences:
        if dh.shape != (N, T, H):
            raise ValueError(f"lstm_backward: dh must be (N, T, H) = ({N}, {T}, {H}), got {dh.shape}")
        dh_ext = dh.transpose(1, 0, 2)  # (T, N, H) view
        if cache.mask is not None:
            dh_ext = dh_ext * cache.mask[:, :, None]  # masked outputs are constant zeros
    elif dh.shape != (N, H):
        raise ValueError(f"lstm_backward: dh must be (N, H) = ({N}, {H}), got {dh.shape}")

    g, i = acts[:, :, :H], acts[:, :, H : 2 * H]
    f, o = acts[:, :, 2 * H : 3 * H], acts[:, :, 3 * H :]

    # Factors that do not depend on the recurrence, for all steps at once.
    # dc_t = dh_t * o (1 - tanh^2 c_t) + dc_{t+1} f_{t+1}
    P = tanh_c * tanh_c  # (T, N, H)
    np.subtract(1.0, P, out=P)
    P *= o
    # dz = [dc i (1 - g^2), dc g i (1 - i), dc c_{t-1} f (1 - f), dh tanh(c_t) o (1 - o)]
    Q = np.empty((T, N, 4 * H), dtype=dtype)  # (T, N, 4H), internal order (g, i, f, o)
    sig = acts[:, :, H:]
    dsig = Q[:, :, H:]
    np.subtract(1.0, sig, out=dsig)
    dsig *= sig  # s (1 - s) for i, f, o
    np.multiply(g, g, out=Q[:, :, :H])
    np.subtract(1.0, Q[:, :, :H], out=Q[:, :, :H])
    Q[:, :, :H] *= i
    Q[:, :, H : 2 * H] *= g
    Q[:, :, 2 * H : 3 * H] *= cs[:-1]
    Q[:, :, 3 * H :] *= tanh_c

    dz = np.empty((T, N, 4 * H), dtype=dtype)  # gradient of the pre-activations
    dh_carry = np.zeros((N, H), dtype=dtype)
    dc_carry = np.zeros((N, H), dtype=dtype)
    dh_t = np.empty((N, H), dtype=dtype)
    dc_t = np.empty((N, H), dtype=dtype)
    m = cache.mask
    for t in range(T - 1, -1, -1):
        if cache.return_sequences:
            np.add(dh_carry, dh_ext[t], out=dh_t)
        elif t == T - 1:
            np.add(dh_carry, dh, out=dh_t)
        else:
            dh_t[...] = dh_carry
        np.multiply(dh_t, P[t], out=dc_t)
        dc_t += dc_carry  # (N, H)
        z = dz[t]
        np.multiply(Q[t, :, : 3 * H].reshape(N, 3, H), dc_t[:, None, :], out=z[:, : 3 * H].reshape(N, 3, H))
        np.multiply(Q[t, :, 3 * H :], dh_t, out=z[:, 3 * H :])
        if m is None:
            np.multiply(dc_t, f[t], out=dc_carry)  # dc_{t-1}
            np.matmul(z, cache.U_t, out=dh_carry)  # (N, 4H) @ (4H, H) -> (N, H): dh_{t-1}
        else:
            keep = m[t][:, None]  # (N, 1)
            z *= keep  # nothing flows into the weights from a masked step
            np.multiply(dc_t, f[t], out=dc_t)
            np.copyto(dc_carry, dc_t, where=keep)
            np.matmul(z, cache.U_t, out=dh_t)  # (N, 4H) @ (4H, H) -> (N, H)
            np.copyto(dh_carry, dh_t, where=keep)  # masked: dh passes through unchanged

    dz2 = dz.reshape(T * N, 4 * H)
    dW = np.matmul(cache.xs.reshape(T * N, F).T, dz2)  # (F, TN) @ (TN, 4H) -> (F, 4H)
    dU = np.matmul(hs[:-1].reshape(T * N, H).T, dz2)  # (H, TN) @ (TN, 4H) -> (H, 4H)
    db = dz2.sum(axis=0)  # (4H,)
    dx = np.matmul(dz2, cache.W_t).reshape(T, N, F)  # (TN, 4H) @ (4H, F) -> (TN, F)

    inv = np.argsort(cache.perm)  # internal (g, i, f, o) -> public (i, f, g, o)
    grads = {
        "W": np.ascontiguousarray(dW[:, inv]),
        "U": np.ascontiguousarray(dU[:, inv]),
        "b": db[inv],
        "h0": dh_carry,
        "c0": dc_carry,
    }
    return np.ascontiguousarray(dx.transpose(1, 0, 2)), grads


def init_lstm_params(
    F: int, H: int, rng: np.random.Generator, init: str = "XAVIER", dtype=np.float32
) -> Params:
    """LSTM parameters initialised per gate matrix as TMVA does; biases zero.

    ``init`` is a TMVA ``WeightInitialization`` name; see :mod:`tmva_lstm.nn.init`.
    """
    from .init import init_matrix

    W = np.empty((F, 4 * H), dtype=dtype)
    U = np.empty((H, 4 * H), dtype=dtype)
    for k in range(4):  # TMVA initialises each (H x D) and (H x H) gate slice separately
        W[:, k * H : (k + 1) * H] = init_matrix(rng, H, F, init, dtype).T
    for k in range(4):
        U[:, k * H : (k + 1) * H] = init_matrix(rng, H, H, init, dtype).T
    return {"W": W, "U": U, "b": np.zeros(4 * H, dtype=dtype)}


# --------------------------------------------------------------------------- conversions


def to_torch(params: Params) -> dict[str, np.ndarray]:
    """PyTorch ``nn.LSTM`` layer-0 arrays: ``weight_ih_l0 (4H, F)``, ``weight_hh_l0 (4H, H)``,
    ``bias_ih_l0 (4H,)`` (our ``b``) and ``bias_hh_l0 (4H,)`` (zeros). Gate order is shared."""
    b = np.asarray(params["b"])
    return {
        "weight_ih_l0": np.ascontiguousarray(np.asarray(params["W"]).T),
        "weight_hh_l0": np.ascontiguousarray(np.asarray(params["U"]).T),
        "bias_ih_l0": b.copy(),
        "bias_hh_l0": np.zeros_like(b),
    }


def from_torch(state: dict[str, np.ndarray]) -> Params:
    """Inverse of :func:`to_torch`: ``b = bias_ih_l0 + bias_hh_l0`` (the only lossy step: a sum)."""
    return {
        "W": np.ascontiguousarray(np.asarray(state["weight_ih_l0"]).T),
        "U": np.ascontiguousarray(np.asarray(state["weight_hh_l0"]).T),
        "b": np.asarray(state["bias_ih_l0"]) + np.asarray(state["bias_hh_l0"]),
    }


# TMVA's TBasicLSTMLayer writes its twelve matrices by slice index under these XML tags
# (LSTMLayer.h, AddWeightsXMLTo). The tag names do not describe the content of every slice:
# slices 0-3 are W_i W_f W_g W_o (H x D), 4-7 are U_i U_f U_g U_o (H x H), biases b_i..b_o.
TMVA_XML_TAGS: tuple[tuple[str, str], ...] = (
    ("InputWeights", "W0"),
    ("InputStateWeights", "W1"),
    ("InputBiases", "b0"),
    ("ForgetWeights", "W2"),
    ("ForgetStateWeights", "W3"),
    ("ForgetBiases", "b1"),
    ("CandidateWeights", "W4"),
    ("CandidateStateWeights", "W5"),
    ("CandidateBiases", "b2"),
    ("OuputWeights", "W6"),  # sic: TMVA's spelling
    ("OutputStateWeights", "W7"),
    ("OutputBiases", "b3"),
)


def to_tmva(params: Params) -> dict[str, np.ndarray]:
    """TMVA ``TBasicLSTMLayer`` slices: ``W0..W3`` = W_i, W_f, W_g, W_o ``(H, D)``,
    ``W4..W7`` = U_i, U_f, U_g, U_o ``(H, H)``, ``b0..b3`` = b_i, b_f, b_g, b_o ``(H, 1)``."""
    W, U, b = (np.asarray(params[k]) for k in ("W", "U", "b"))
    H = U.shape[0]
    out: dict[str, np.ndarray] = {}
    for k in range(4):
        cols = slice(k * H, (k + 1) * H)
        out[f"W{k}"] = np.ascontiguousarray(W[:, cols].T)  # (H, D)
        out[f"W{k + 4}"] = np.ascontiguousarray(U[:, cols].T)  # (H, H)
        out[f"b{k}"] = b[cols].reshape(H, 1).copy()  # (H, 1)
    return out


def from_tmva(slices: dict[str, np.ndarray]) -> Params:
    """Inverse of :func:`to_tmva`."""
    W = np.concatenate([np.asarray(slices[f"W{k}"]).T for k in range(4)], axis=1)  # (D, 4H)
    U = np.concatenate([np.asarray(slices[f"W{k + 4}"]).T for k in range(4)], axis=1)  # (H, 4H)
    b = np.concatenate([np.asarray(slices[f"b{k}"]).reshape(-1) for k in range(4)])  # (4H,)
    return {"W": np.ascontiguousarray(W), "U": np.ascontiguousarray(U), "b": b}
