"""A gated recurrent unit (GRU) layer: forward pass and exact backpropagation through time.

Axes: ``N`` events in the batch, ``T`` time steps, ``F`` input features, ``H`` state size.
Arrays are batch-first: inputs ``x (N, T, F)``, outputs ``h (N, T, H)``.

Parameters (a dict): ``W (F, 3H)``, ``U (H, 3H)``, ``b (3H,)``, the three blocks in the order
reset, update, candidate (r, z, n) -- the order of TMVA's ``TBasicGRULayer`` and PyTorch;
with ``reset_after=True`` optionally ``b_hn (H,)``, the recurrent bias of the candidate that
PyTorch, Keras and ONNX have and TMVA has not (absent means zero). For each step t::

    r_t = sigmoid(x_t W_r + h_{t-1} U_r + b_r)
    z_t = sigmoid(x_t W_z + h_{t-1} U_z + b_z)
    n_t = tanh(x_t W_n + (r_t * h_{t-1}) U_n + b_n)          reset_after=False (TMVA's default)
    n_t = tanh(x_t W_n + b_n + r_t * (h_{t-1} U_n + b_hn))   reset_after=True
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}

Where the reset gate goes, by convention:

* TMVA (``GRULayer.h``): ``resetGateAfter=false`` by default, the first form; ``true`` (forced
  on cuDNN) the second, with ``b_hn = 0``. Layout ``GRU|H|D|T|0|ret|resetGateAfter``.
* PyTorch ``nn.GRU``: always the second form, ``b_r = b_ir + b_hr``, ``b_z = b_iz + b_hz``,
  ``b_n = b_in``, ``b_hn = b_hn``.
* Keras ``GRU``: ``reset_after=True`` (the TF2 default, the cuDNN one) is the second form,
  ``reset_after=False`` the first; Keras orders the blocks (z, r, h).
* ONNX ``GRU``: ``linear_before_reset=0`` (default) is the first form, ``1`` the second;
  blocks (z, r, h), ``Rb_h`` is ``b_hn``.

The update ``h_t = (1 - z) n + z h_{t-1}`` is the same in all four.

Masking: as :mod:`tmva_lstm.nn.lstm`: a masked step carries the state, outputs zero and
passes no gradient to the weights; ``return_sequences=False`` gives the last valid state.

How it is made fast:

* the input projections ``x_t W + b`` of all steps are one GEMM before the loop (a constant
  one beside the inputs carries the bias); each step then does one GEMM ``h_{t-1} U`` for all
  three blocks (reset after), or ``h_{t-1} U_rz`` and ``(r h_{t-1}) U_n`` (reset before:
  the second product needs r, so it cannot join the first);
* ``sigmoid(z) = 0.5 + 0.5 tanh(z / 2)`` with the 1/2 folded into the r and z columns (exact),
  so NumPy's ``tanh`` activates both gates in one call;
* with numba (the LSTM's kernel choice, :func:`tmva_lstm.nn.lstm.set_kernel`) the whole
  recurrence of a forward, inference or backward pass is one compiled call
  (:mod:`tmva_lstm.nn._recurrent_kernels`): the step's GEMMs go to SciPy's BLAS and the
  element-wise work is one fused pass per row, the batch cut into row blocks on threads;
  inference (``keep_cache=False``) writes no per-step arrays. Otherwise NumPy passes run,
  with the backward factors that do not depend on the recurrence computed for all steps at
  once (the reference). Both paths agree to float rounding: float32 about 1e-6 relative (a
  vectorised ``tanh`` approximation), float64 about 1e-15;
* the weight gradients are one GEMM each over all steps, and so is ``dx``.

Internal column orders: the input projection ``xp`` is (n, r, z); the recurrent product is
(r, z, n) (the public order); the cache's ``acts (T, N, 4H)`` holds (n, r, z, g) with
``g = h U_n + b_hn`` (reset after) or ``g = r h_{t-1}`` (reset before).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .rnn import (
    _as_float,
    _blocks,
    _kernels,
    _matmul,
    _state,
    check_recurrent_inputs,
    outputs,
    time_major_grad,
)

__all__ = [
    "GRUCache",
    "gru_forward",
    "gru_backward",
    "init_gru_params",
    "to_torch",
    "from_torch",
    "to_tmva",
    "from_tmva",
    "TMVA_XML_TAGS",
]

Params = dict[str, np.ndarray]


def _input_order(H: int) -> np.ndarray:
    """Column permutation from the public (r, z, n) to the input projection's (n, r, z)."""
    return np.r_[np.arange(2 * H, 3 * H), np.arange(0, 2 * H)]


@dataclass
class GRUCache:
    """What ``gru_backward`` needs from ``gru_forward``.

    ``xs``: ``[x_t, 1]`` time-major ``(T, N, F+1)``; ``hs``: states ``(T+1, N, H)`` with ``h0``
    at index 0; ``acts``: ``(T, N, 4H)`` = (n, r, z, g) per step; ``Wx_t``: ``[W; b]`` in the
    order (n, r, z), transposed ``(3H, F+1)``; ``U``: ``(H, 3H)`` public order;
    ``mask``: time-major ``(T, N)`` or None.
    """

    xs: np.ndarray
    hs: np.ndarray
    acts: np.ndarray
    Wx_t: np.ndarray
    U: np.ndarray
    mask: np.ndarray | None
    return_sequences: bool
    reset_after: bool
    has_b_hn: bool


def _check_b_hn(params: Params, H: int, reset_after: bool) -> np.ndarray | None:
    b_hn = params.get("b_hn")
    if b_hn is None:
        return None
    if not reset_after:
        raise ValueError(
            "gru_forward: params has b_hn, the recurrent candidate bias that exists only with "
            "the reset gate after the matmul; pass reset_after=True (PyTorch's convention) "
            "or drop b_hn"
        )
    if np.shape(b_hn) != (H,):
        raise ValueError(f"gru_forward: b_hn must be (H,) = ({H},), got {np.shape(b_hn)}")
    return np.asarray(b_hn)


# --------------------------------------------------------------------------- NumPy path, one step


def _gates_after(a, xp, hu, b_hn) -> None:
    """Reset gate after the matmul: r, z to sigmoid; ``g = hu_n + b_hn``; ``a_n = xp_n + r g``."""
    H = a.shape[1] // 4
    rz = a[:, H : 3 * H]
    rz *= 0.5
    rz += 0.5  # r, z = sigmoid = 0.5 + 0.5 tanh(z / 2)
    g = a[:, 3 * H :]
    np.add(hu[:, 2 * H :], b_hn, out=g)  # g = h U_n + b_hn
    an = a[:, :H]
    np.multiply(a[:, H : 2 * H], g, out=an)
    an += xp[:, :H]  # n pre-activation: x W_n + b_n + r g


def _gates_before(a, h_prev) -> None:
    """Reset gate before the matmul: r, z to sigmoid; ``g = r h_{t-1}``."""
    H = a.shape[1] // 4
    rz = a[:, H : 3 * H]
    rz *= 0.5
    rz += 0.5
    np.multiply(a[:, H : 2 * H], h_prev, out=a[:, 3 * H :])  # r h_{t-1}


def _hidden(a, h_prev, h, keep) -> None:
    """``h = z (h_{t-1} - n) + n``; ``h_{t-1}`` on a masked row."""
    H = h.shape[1]
    n = a[:, :H]
    np.subtract(h_prev, n, out=h)
    h *= a[:, 2 * H : 3 * H]
    h += n
    if keep is not None:
        np.copyto(h, h_prev, where=~keep[:, None])  # masked: h_t = h_{t-1}


# --------------------------------------------------------------------------- forward


def gru_forward(
    x: np.ndarray,
    params: Params,
    h0: np.ndarray | None = None,
    mask: np.ndarray | None = None,
    return_sequences: bool = True,
    reset_after: bool = False,
    keep_cache: bool = True,
) -> tuple[np.ndarray, GRUCache | None]:
    """Run the GRU over ``x (N, T, F)``.

    Returns ``h (N, T, H)`` if ``return_sequences`` else ``h (N, H)`` (the last valid step),
    and the cache for :func:`gru_backward` (None with ``keep_cache=False``: inference, which
    the compiled path runs without per-step arrays). ``h0`` is ``(N, H)`` (zeros if None);
    ``mask`` is ``(N, T)`` booleans (valid steps); ``reset_after`` places the reset gate
    (module docstring; False is TMVA's default, True PyTorch's). The dtype follows ``x``
    (float32 or float64).
    """
    x = _as_float(x)
    dtype = x.dtype
    N, T, F, H = check_recurrent_inputs("gru_forward", x, params, 3, h0, mask)
    b_hn = _check_b_hn(params, H, reset_after)
    perm = _input_order(H)

    # [W; b] in the order (n, r, z); the r and z columns halved for the tanh form of sigmoid
    Wx = np.empty((F + 1, 3 * H), dtype=dtype)
    Wx[:F] = np.asarray(params["W"])[:, perm]
    Wx[F] = np.asarray(params["b"])[perm]
    Wx_half = Wx.copy()
    Wx_half[:, H:] *= 0.5
    U = np.array(params["U"], dtype=dtype)  # a copy: the cache must not see later updates
    U_half = U.copy()
    U_half[:, : 2 * H] *= 0.5  # public (r, z, n): r and z halved
    bias = np.zeros(H, dtype=dtype) if b_hn is None else b_hn.astype(dtype)
    U_rz, U_n = np.ascontiguousarray(U_half[:, : 2 * H]), np.ascontiguousarray(U[:, 2 * H :])

    xs = np.empty((T, N, F + 1), dtype=dtype)
    xs[:, :, :F] = x.transpose(1, 0, 2)
    xs[:, :, F] = 1.0
    m_t = None if mask is None else np.ascontiguousarray(np.asarray(mask, dtype=bool).T)
    fused = _kernels()
    blocks = _blocks(N, T, H, 3 * H)
    # every step's x_t W + b: (TN, F+1) @ (F+1, 3H)
    xp = _matmul(fused, xs.reshape(T * N, F + 1), Wx_half, blocks).reshape(T, N, 3 * H)
    if fused is not None:
        keep = np.ones((T, N), dtype=bool) if m_t is None else m_t
        U_step = U_half if reset_after else U_rz  # the GEMM of every step with h_{t-1}
    if fused is not None and not keep_cache:  # inference: no cache, batch-first output
        out = np.empty((N, T if return_sequences else 1, H), dtype=dtype)
        fused.gru_infer_sequence(
            xp, _state(h0, N, H, dtype), U_step, U_n, bias, reset_after, keep, out,
            return_sequences, blocks,
        )  # fmt: skip
        return (out if return_sequences else out.reshape(N, H)), None

    hs = np.empty((T + 1, N, H), dtype=dtype)
    hs[0] = 0.0 if h0 is None else h0
    acts = np.empty((T, N, 4 * H), dtype=dtype)
    if fused is not None:  # the whole recurrence in one compiled call
        fused.gru_forward_sequence(xp, hs, acts, U_step, U_n, bias, reset_after, keep, blocks)
    else:
        _recurrence(xp, hs, acts, U_half, U_rz, U_n, bias, reset_after, m_t)

    out = outputs(hs, mask, return_sequences)
    if not keep_cache:
        return out, None
    cache = GRUCache(
        xs=xs,
        hs=hs,
        acts=acts,
        Wx_t=np.ascontiguousarray(Wx.T),
        U=U,
        mask=m_t,
        return_sequences=return_sequences,
        reset_after=reset_after,
        has_b_hn=b_hn is not None,
    )
    return out, cache


def _recurrence(xp, hs, acts, U_half, U_rz, U_n, bias, reset_after: bool, m_t) -> None:
    """NumPy path of the forward recurrence: ``hs[1:]`` and ``acts`` in place."""
    T, N, H4 = acts.shape
    H = H4 // 4
    dtype = acts.dtype
    hu = np.empty((N, 3 * H if reset_after else 2 * H), dtype=dtype)
    hn = np.empty((N, H), dtype=dtype)
    for t in range(T):
        a, h_prev, x_t = acts[t], hs[t], xp[t]
        rz = a[:, H : 3 * H]
        if reset_after:
            np.matmul(h_prev, U_half, out=hu)  # (N, H) @ (H, 3H): r, z (halved) and n
            np.add(x_t[:, H:], hu[:, : 2 * H], out=rz)
            np.tanh(rz, out=rz)
            _gates_after(a, x_t, hu, bias)  # r, z; g = h U_n + b_hn; x W_n + b_n + r g
        else:
            np.matmul(h_prev, U_rz, out=hu)  # (N, H) @ (H, 2H): r, z (halved)
            np.add(x_t[:, H:], hu, out=rz)
            np.tanh(rz, out=rz)
            _gates_before(a, h_prev)  # r, z; g = r h_{t-1}
            np.matmul(a[:, 3 * H :], U_n, out=hn)  # (N, H) @ (H, H): (r h) U_n
            np.add(x_t[:, :H], hn, out=a[:, :H])
        np.tanh(a[:, :H], out=a[:, :H])  # n_t
        _hidden(a, h_prev, hs[t + 1], None if m_t is None else m_t[t])  # h_t


# --------------------------------------------------------------------------- backward


def _factors(acts, hs, reset_after: bool):
    """For the NumPy path, the factors that do not depend on the recurrence, all steps at once
    (same expressions as the kernels): ``Pn = (1 - z)(1 - n^2)``,
    ``Pz = (h_{t-1} - n)((1 - z) z)``, ``Pr = g ((1 - r) r)`` (after) or
    ``h_{t-1} ((1 - r) r)`` (before)."""
    H = acts.shape[2] // 4
    n, r, z, g = (acts[:, :, k * H : (k + 1) * H] for k in range(4))
    h_prev = hs[:-1]
    Pn = np.subtract(1.0, z)
    Pn *= np.subtract(1.0, np.multiply(n, n))
    dsig_z = np.subtract(1.0, z)
    dsig_z *= z
    Pz = np.subtract(h_prev, n)
    Pz *= dsig_z
    dsig_r = np.subtract(1.0, r)
    dsig_r *= r
    Pr = np.multiply(g if reset_after else h_prev, dsig_r)
    return Pn, Pz, Pr


def _backward_recurrence(dh_out, seq: bool, acts, hs, U_t, after: bool, m, dz, dh_next) -> None:
    """NumPy path of the backward recurrence: ``dz`` and ``dh_next`` (then ``dh_0``) in place."""
    T, N, H4 = acts.shape
    H = H4 // 4
    dtype = acts.dtype
    Pn, Pz, Pr = _factors(acts, hs, after)
    zeros = None if seq else np.zeros((N, H), dtype=dtype)
    dh_t = np.empty((N, H), dtype=dtype)
    direct = np.empty((N, H), dtype=dtype)  # the part of dh_{t-1} that skips the matmuls
    U_rz_t, U_n_t = U_t[: 2 * H], U_t[2 * H :]
    drh = np.empty((N, H), dtype=dtype)
    tmp = np.empty((N, H), dtype=dtype)
    for t in range(T - 1, -1, -1):
        ext = dh_out[t] if seq else zeros
        a, d = acts[t], dz[t]
        np.add(dh_next, ext, out=dh_t)
        np.multiply(dh_t, Pn[t], out=d[:, :H])  # da_n
        np.multiply(dh_t, Pz[t], out=d[:, 2 * H : 3 * H])  # da_z
        np.multiply(dh_t, a[:, 2 * H : 3 * H], out=direct)  # dh z
        if after:
            np.multiply(d[:, :H], Pr[t], out=d[:, H : 2 * H])  # da_r = da_n g r(1-r)
            np.multiply(d[:, :H], a[:, H : 2 * H], out=d[:, 3 * H :])  # dg = da_n r
        if m is not None:
            d[~m[t]] = 0.0  # masked step: nothing flows into the weights
            np.copyto(direct, dh_t, where=~m[t][:, None])  # masked: h_t = h_{t-1}
        if after:
            np.matmul(d[:, H:], U_t, out=dh_next)  # (N, 3H) @ (3H, H): [da_r, da_z, dg] U^T
        else:
            np.matmul(d[:, :H], U_n_t, out=drh)  # (N, H) @ (H, H): gradient of r h_{t-1}
            np.multiply(drh, a[:, H : 2 * H], out=tmp)
            direct += tmp  # + drh r
            np.multiply(drh, Pr[t], out=d[:, H : 2 * H])  # da_r = drh h r(1-r)
            if m is not None:
                d[:, H : 2 * H][~m[t]] = 0.0
            np.matmul(d[:, H:], U_rz_t, out=dh_next)  # (N, 2H) @ (2H, H)
        dh_next += direct


def gru_backward(dh: np.ndarray, cache: GRUCache) -> tuple[np.ndarray, Params]:
    """Backpropagate ``dh`` (the shape of the forward output) through time.

    Returns ``dx (N, T, F)`` and ``grads`` with ``W (F, 3H)``, ``U (H, 3H)``, ``b (3H,)``
    (public order), ``b_hn (H,)`` if the parameters had it, and ``h0 (N, H)``.
    """
    acts, hs, xs, m = cache.acts, cache.hs, cache.xs, cache.mask
    T, N, H4 = acts.shape
    H = H4 // 4
    F = xs.shape[2] - 1
    dtype = acts.dtype
    dh = np.asarray(dh, dtype=dtype)
    dh_out = time_major_grad(dh, (T, N, H), m, cache.return_sequences, "gru_backward")
    after = cache.reset_after

    fused = _kernels()
    dz = np.empty((T, N, 4 * H if after else 3 * H), dtype=dtype)  # (n, r, z[, g])
    dh_next = np.zeros((N, H), dtype=dtype)
    if not cache.return_sequences:
        dh_next[...] = dh_out
    U_t = np.ascontiguousarray(cache.U.T)  # (3H, H): rows (r, z, n)
    if fused is not None:  # the whole backward recurrence in one compiled call
        keep = np.ones((T, N), dtype=bool) if m is None else m
        fused.gru_backward_sequence(
            dh_out if cache.return_sequences else dz, cache.return_sequences, acts, hs, U_t,
            after, keep, dz, dh_next, _blocks(N, T, H, 3 * H),
        )  # fmt: skip
    else:
        _backward_recurrence(dh_out, cache.return_sequences, acts, hs, U_t, after, m, dz, dh_next)

    dz2 = dz.reshape(T * N, dz.shape[2])
    blocks = _blocks(N, T, H, 3 * H)
    # (F+1, TN) @ (TN, 3H): (n, r, z)
    dWx = _matmul(fused, xs.reshape(T * N, F + 1), dz2[:, : 3 * H], blocks, ta=True)
    # (TN, 3H) @ (3H, F)
    dx = _matmul(fused, dz2[:, : 3 * H], cache.Wx_t[:, :F], blocks).reshape(T, N, F)
    hs2 = hs[:T].reshape(T * N, H)
    if after:
        dU = _matmul(fused, hs2, dz2[:, H:], blocks, ta=True)  # (H, TN) @ (TN, 3H): (r, z, n)
    else:
        dU = np.empty((H, 3 * H), dtype=dtype)
        _matmul(fused, hs2, dz2[:, H : 3 * H], blocks, out=dU[:, : 2 * H], ta=True)  # r, z
        rh = acts[:, :, 3 * H :].reshape(T * N, H)
        _matmul(fused, rh, dz2[:, :H], blocks, out=dU[:, 2 * H :], ta=True)  # n: (r h)^T da_n
    inv = np.argsort(_input_order(H))  # (n, r, z) -> (r, z, n)
    grads = {
        "W": np.ascontiguousarray(dWx[:F, inv]),
        "U": np.ascontiguousarray(dU),
        "b": dWx[F, inv],
        "h0": dh_next,
    }
    if cache.has_b_hn:
        grads["b_hn"] = dz2[:, 3 * H :].sum(axis=0)
    return np.ascontiguousarray(dx.transpose(1, 0, 2)), grads


def init_gru_params(
    F: int, H: int, rng: np.random.Generator, init: str = "XAVIER", dtype=np.float32
) -> Params:
    """GRU parameters initialised per gate matrix as TMVA does (W_r, W_z, W_n, then U_r, U_z,
    U_n: TMVA's slices 0..5); biases zero. No ``b_hn``: TMVA's GRU has none."""
    from .init import init_matrix

    W = np.empty((F, 3 * H), dtype=dtype)
    U = np.empty((H, 3 * H), dtype=dtype)
    for k in range(3):
        W[:, k * H : (k + 1) * H] = init_matrix(rng, H, F, init, dtype).T
    for k in range(3):
        U[:, k * H : (k + 1) * H] = init_matrix(rng, H, H, init, dtype).T
    return {"W": W, "U": U, "b": np.zeros(3 * H, dtype=dtype)}


# --------------------------------------------------------------------------- conversions


def to_torch(params: Params) -> dict[str, np.ndarray]:
    """PyTorch ``nn.GRU`` layer-0 arrays (PyTorch resets after the matmul): ``weight_ih_l0
    (3H, F)``, ``weight_hh_l0 (3H, H)``, ``bias_ih_l0 = b``, ``bias_hh_l0 = [0, 0, b_hn]``.
    Block order (r, z, n) is shared. Equal to our layer with ``reset_after=True``."""
    b = np.asarray(params["b"])
    H = b.shape[0] // 3
    b_hh = np.zeros_like(b)
    if params.get("b_hn") is not None:
        b_hh[2 * H :] = params["b_hn"]
    return {
        "weight_ih_l0": np.ascontiguousarray(np.asarray(params["W"]).T),
        "weight_hh_l0": np.ascontiguousarray(np.asarray(params["U"]).T),
        "bias_ih_l0": b.copy(),
        "bias_hh_l0": b_hh,
    }


def from_torch(state: dict[str, np.ndarray]) -> Params:
    """Inverse of :func:`to_torch`, for ``reset_after=True``: ``b_r``, ``b_z`` are the sums of
    PyTorch's two biases, ``b_n = b_in`` and ``b_hn`` is kept (it sits inside the reset gate)."""
    b_ih, b_hh = np.asarray(state["bias_ih_l0"]), np.asarray(state["bias_hh_l0"])
    H = b_ih.shape[0] // 3
    b = b_ih.copy()
    b[: 2 * H] += b_hh[: 2 * H]
    return {
        "W": np.ascontiguousarray(np.asarray(state["weight_ih_l0"]).T),
        "U": np.ascontiguousarray(np.asarray(state["weight_hh_l0"]).T),
        "b": b,
        "b_hn": b_hh[2 * H :].copy(),
    }


# TMVA's TBasicGRULayer writes its matrices by slice index under these XML tags (GRULayer.h,
# AddWeightsXMLTo); as for the LSTM the names do not describe every slice: slices 0-2 are
# W_r W_z W_n (H x D), 3-5 are U_r U_z U_n (H x H), biases b_r b_z b_n.
TMVA_XML_TAGS: tuple[tuple[str, str], ...] = (
    ("ResetWeights", "W0"),
    ("ResetStateWeights", "W1"),
    ("ResetBiases", "b0"),
    ("UpdateWeights", "W2"),
    ("UpdateStateWeights", "W3"),
    ("UpdateBiases", "b1"),
    ("CandidateWeights", "W4"),
    ("CandidateStateWeights", "W5"),
    ("CandidateBiases", "b2"),
)


def to_tmva(params: Params) -> dict[str, np.ndarray]:
    """TMVA ``TBasicGRULayer`` slices: ``W0..W2`` = W_r, W_z, W_n ``(H, D)``, ``W3..W5`` =
    U_r, U_z, U_n ``(H, H)``, ``b0..b2`` ``(H, 1)``. Refuses a non-zero ``b_hn``, which TMVA's
    GRU cannot hold (it would be dropped without a word)."""
    W, U, b = (np.asarray(params[k]) for k in ("W", "U", "b"))
    b_hn = params.get("b_hn")
    if b_hn is not None and np.any(np.asarray(b_hn) != 0):
        raise ValueError(
            "to_tmva: this GRU has a non-zero recurrent candidate bias b_hn (PyTorch's b_hn), "
            "which TMVA's TBasicGRULayer does not have; it cannot be converted exactly"
        )
    H = U.shape[0]
    out: dict[str, np.ndarray] = {}
    for k in range(3):
        cols = slice(k * H, (k + 1) * H)
        out[f"W{k}"] = np.ascontiguousarray(W[:, cols].T)  # (H, D)
        out[f"W{k + 3}"] = np.ascontiguousarray(U[:, cols].T)  # (H, H)
        out[f"b{k}"] = b[cols].reshape(H, 1).copy()
    return out


def from_tmva(slices: dict[str, np.ndarray]) -> Params:
    """Inverse of :func:`to_tmva`."""
    W = np.concatenate([np.asarray(slices[f"W{k}"]).T for k in range(3)], axis=1)  # (D, 3H)
    U = np.concatenate([np.asarray(slices[f"W{k + 3}"]).T for k in range(3)], axis=1)
    b = np.concatenate([np.asarray(slices[f"b{k}"]).reshape(-1) for k in range(3)])
    return {"W": np.ascontiguousarray(W), "U": np.ascontiguousarray(U), "b": b}
