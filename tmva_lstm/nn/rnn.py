"""A plain (Elman) recurrent layer: forward pass and exact backpropagation through time.

Axes: ``N`` events in the batch, ``T`` time steps, ``F`` input features, ``H`` state size.
Arrays are batch-first: inputs ``x (N, T, F)``, outputs ``h (N, T, H)``.

Parameters (a dict): ``W (F, H)``, ``U (H, H)``, ``b (H,)``. For each step t, with the
previous state ``h_{t-1}`` (zero or ``h0`` at t = 0)::

    h_t = tanh(x_t W + h_{t-1} U + b)

These are the equations of TMVA's ``TBasicRNNLayer`` (``RNNLayer.h``, activation tanh; slices
W0 = Wᵀ, W1 = Uᵀ, b0 = b) and of ``torch.nn.RNN`` (``nonlinearity="tanh"``) with
``b = bias_ih + bias_hh``.

Masking: as :mod:`tmva_lstm.nn.lstm`. ``mask (N, T)`` marks valid steps; a masked step
carries the state (``h_t = h_{t-1}``), outputs zero and passes no gradient to the weights;
with ``return_sequences=False`` the output is the state of the last valid step.

How it is made fast (as the LSTM):

* each step is one GEMM ``z_t = [x_t, 1, h_{t-1}] [W; b; U]`` on one array
  ``vs (T+1, N, F+1+H)`` that holds every step's inputs side by side, and ``tanh`` writes
  ``h_t`` straight into the next step's inputs;
* the backward pass needs nothing but the states: ``dz_t = dh_t (1 - h_t^2)``; the weight
  gradients ``[dW; db; dU]`` are one GEMM over all steps, and so is ``dx``;
* with numba (the LSTM's kernel choice, :func:`tmva_lstm.nn.lstm.set_kernel`) the whole
  recurrence of a forward, inference or backward pass is one compiled call
  (:mod:`tmva_lstm.nn._recurrent_kernels`): per step one GEMM to SciPy's BLAS and a fused pass
  per row, the batch cut into row blocks on threads; inference (``keep_cache=False``) writes
  no per-step arrays. Results agree with the NumPy path (a Python loop of NumPy calls, the
  reference; ``1 - h_t^2`` computed for all steps at once) to float rounding: float32 about
  1e-6 relative (a vectorised ``tanh`` approximation), float64 about 1e-15.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import numpy as np

from .lstm import _blocks as _lstm_blocks
from .lstm import kernel_name

__all__ = [
    "RNNCache",
    "rnn_forward",
    "rnn_backward",
    "init_rnn_params",
    "to_torch",
    "from_torch",
    "to_tmva",
    "from_tmva",
    "TMVA_XML_TAGS",
]

Params = dict[str, np.ndarray]


def _kernels() -> ModuleType | None:
    """The fused numba kernels, or None for the NumPy path (the LSTM's choice)."""
    if kernel_name() != "numba":
        return None
    from . import _recurrent_kernels

    return _recurrent_kernels


def _blocks(N: int, T: int, K: int, G: int) -> int:
    """Row blocks (threads) for the compiled kernels: the LSTM's rule, for a step GEMM of
    ``K`` inputs and ``G`` outputs (the LSTM's ``4H``)."""
    return _lstm_blocks(N, T, K, max(1, G // 4))


def _matmul(fused, A, B, blocks: int, out=None, ta: bool = False) -> np.ndarray:
    """``A @ B`` (``A.T @ B`` with ``ta``): with the compiled kernels, SciPy's BLAS on our
    threads (:func:`tmva_lstm.nn._kernels.matmul`), else NumPy's ``matmul``."""
    if fused is None:
        return np.matmul(A.T if ta else A, B, out=out)
    if out is None:
        out = np.empty((A.shape[1] if ta else A.shape[0], B.shape[1]), dtype=B.dtype)
    fused.matmul(A, B, out, blocks, ta=ta)
    return out


def _state(s, N: int, H: int, dtype) -> np.ndarray:
    """An initial state ``(N, H)`` as a C-contiguous array of ``dtype`` (zeros for None)."""
    return np.zeros((N, H), dtype=dtype) if s is None else np.ascontiguousarray(s, dtype=dtype)


def _keep(mask, N: int, T: int) -> np.ndarray:
    """The kernels' time-major ``keep (T, N)`` from a batch-first ``mask (N, T)`` or None."""
    if mask is None:
        return np.ones((T, N), dtype=bool)
    return np.ascontiguousarray(np.asarray(mask, dtype=bool).T)


def _as_float(x) -> np.ndarray:
    x = np.asarray(x)
    dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    return x.astype(dtype, copy=False)


def check_recurrent_inputs(
    who: str, x: np.ndarray, params: Params, gates: int, h0, mask
) -> tuple[int, int, int, int]:
    """``(N, T, F, H)`` after checking ``x``, ``W (F, gH)``, ``U (H, gH)``, ``b (gH,)``,
    ``h0 (N, H)`` and ``mask (N, T)``; ValueError naming the culprit otherwise."""
    if x.ndim != 3:
        raise ValueError(f"{who}: x must be (N, T, F), got shape {x.shape}")
    N, T, F = x.shape
    W, U, b = (np.asarray(params[k]) for k in ("W", "U", "b"))
    H = U.shape[0] if U.ndim == 2 else -1
    g = "" if gates == 1 else str(gates)
    if W.shape != (F, gates * H) or U.shape != (H, gates * H) or b.shape != (gates * H,):
        raise ValueError(
            f"{who}: parameter shapes W {W.shape}, U {U.shape}, b {b.shape} do not fit "
            f"x {x.shape} (F={F}); expected W ({F}, {g}H), U (H, {g}H), b ({g}H,) "
            "with H = U.shape[0]"
        )
    if T == 0:
        raise ValueError(f"{who}: x has no time steps (T = 0)")
    if h0 is not None and np.shape(h0) != (N, H):
        raise ValueError(f"{who}: h0 must be (N, H) = ({N}, {H}), got {np.shape(h0)}")
    if mask is not None and np.shape(mask) != (N, T):
        raise ValueError(f"{who}: mask must be (N, T) = ({N}, {T}), got {np.shape(mask)}")
    return N, T, F, H


def outputs(hs: np.ndarray, mask, return_sequences: bool) -> np.ndarray:
    """The layer output from the states ``hs (T+1, N, H)``: ``(N, T, H)`` with zeros at masked
    steps, or the last state ``(N, H)``."""
    if not return_sequences:
        return hs[-1].copy()
    out = np.ascontiguousarray(hs[1:].transpose(1, 0, 2))  # (T, N, H) -> (N, T, H)
    if mask is not None:
        out[~np.asarray(mask, dtype=bool)] = 0.0  # outputs at masked steps are zeros
    return out


def time_major_grad(dh, cache_shape, m, return_sequences: bool, who: str) -> np.ndarray:
    """``dh`` of the output as a time-major ``(T, N, H)`` array (zero at masked steps), or
    the ``(N, H)`` gradient of the last state. Checks the shape."""
    T, N, H = cache_shape
    expected = (N, T, H) if return_sequences else (N, H)
    if dh.shape != expected:
        names = "(N, T, H)" if return_sequences else "(N, H)"
        raise ValueError(f"{who}: dh must be {names} = {expected}, got {dh.shape}")
    if not return_sequences:
        return dh
    if m is None:
        return np.ascontiguousarray(dh.transpose(1, 0, 2))
    return np.multiply(dh.transpose(1, 0, 2), m[:, :, None])  # masked outputs are constants


@dataclass
class RNNCache:
    """What ``rnn_backward`` needs from ``rnn_forward``.

    ``vs``: each step's GEMM inputs ``[x_t, 1, h_{t-1}]``, time-major ``(T+1, N, F+1+H)``
    (row T holds only ``h_T``); ``V_t``: ``[W; b; U]`` transposed ``(H, F+1+H)``;
    ``mask``: time-major ``(T, N)`` booleans or None.
    """

    vs: np.ndarray
    V_t: np.ndarray
    mask: np.ndarray | None
    return_sequences: bool

    @property
    def hs(self) -> np.ndarray:
        """Hidden state ``(T+1, N, H)`` with ``h0`` at index 0 (a view into ``vs``)."""
        return self.vs[:, :, -self.V_t.shape[0] :]


def rnn_forward(
    x: np.ndarray,
    params: Params,
    h0: np.ndarray | None = None,
    mask: np.ndarray | None = None,
    return_sequences: bool = True,
    keep_cache: bool = True,
) -> tuple[np.ndarray, RNNCache | None]:
    """Run the RNN over ``x (N, T, F)``.

    Returns ``h (N, T, H)`` if ``return_sequences`` else ``h (N, H)`` (the last valid step),
    and the cache for :func:`rnn_backward` (None with ``keep_cache=False``: inference, which
    the compiled path runs without per-step arrays). ``h0`` is ``(N, H)`` (zeros if None);
    ``mask`` is ``(N, T)`` booleans (valid steps). The dtype follows ``x`` (float32 or float64).
    """
    x = _as_float(x)
    dtype = x.dtype
    N, T, F, H = check_recurrent_inputs("rnn_forward", x, params, 1, h0, mask)
    K = F + 1 + H  # a step's GEMM inputs [x_t, 1, h_{t-1}]
    V = np.empty((K, H), dtype=dtype)  # [W; b; U]
    V[:F] = params["W"]
    V[F] = params["b"]
    V[F + 1 :] = params["U"]
    fused = _kernels()
    blocks = _blocks(N, T, K, H)

    if fused is not None and not keep_cache:  # inference: no cache, batch-first in and out
        out = np.empty((N, T if return_sequences else 1, H), dtype=dtype)
        fused.rnn_infer_sequence(
            np.ascontiguousarray(x), V, _state(h0, N, H, dtype), _keep(mask, N, T), out,
            return_sequences, blocks,
        )  # fmt: skip
        return (out if return_sequences else out.reshape(N, H)), None

    vs = np.empty((T + 1, N, K), dtype=dtype)
    vs[:T, :, :F] = x.transpose(1, 0, 2)  # (T, N, F)
    vs[T, :, :F] = 0.0  # there is no x_T: row T only holds h_T
    vs[:, :, F] = 1.0
    hs = vs[:, :, F + 1 :]  # (T+1, N, H) view: h_{t-1} is an input of step t
    hs[0] = 0.0 if h0 is None else h0
    m_t = None if mask is None else np.ascontiguousarray(np.asarray(mask, dtype=bool).T)

    if fused is not None:  # the whole recurrence in one compiled call
        fused.rnn_forward_sequence(vs, V, _keep(mask, N, T), blocks)
    else:
        z = np.empty((N, H), dtype=dtype)
        for t in range(T):
            np.matmul(vs[t], V, out=z)  # (N, K) @ (K, H) -> (N, H): z_t
            np.tanh(z, out=hs[t + 1])  # h_t = tanh(z_t), into the next step's inputs
            if m_t is not None:
                np.copyto(hs[t + 1], hs[t], where=~m_t[t][:, None])  # masked: h_t = h_{t-1}

    out = outputs(hs, mask, return_sequences)
    if not keep_cache:
        return out, None
    return out, RNNCache(vs, np.ascontiguousarray(V.T), m_t, return_sequences)


def rnn_backward(dh: np.ndarray, cache: RNNCache) -> tuple[np.ndarray, Params]:
    """Backpropagate ``dh`` (the shape of the forward output) through time.

    Returns ``dx (N, T, F)`` and ``grads`` with ``W (F, H)``, ``U (H, H)``, ``b (H,)`` and
    ``h0 (N, H)``.
    """
    vs, m, V_t = cache.vs, cache.mask, cache.V_t
    T1, N, K = vs.shape
    T, H = T1 - 1, V_t.shape[0]
    F = K - 1 - H
    dtype = vs.dtype
    dh = np.asarray(dh, dtype=dtype)
    dh_out = time_major_grad(dh, (T, N, H), m, cache.return_sequences, "rnn_backward")
    hs = vs[:, :, F + 1 :]

    fused = _kernels()
    dz = np.empty((T, N, H), dtype=dtype)
    dh_next = np.zeros((N, H), dtype=dtype)  # gradient of h_t from step t+1
    zeros = None
    if not cache.return_sequences:  # the output is h_T: dh enters at the last step only
        dh_next[...] = dh_out
        zeros = np.zeros((N, H), dtype=dtype)
    U_t = V_t[:, F + 1 :]  # (H, H)
    if fused is not None:  # the whole backward recurrence in one compiled call
        keep = np.ones((T, N), dtype=bool) if m is None else m
        fused.rnn_backward_sequence(
            dh_out if cache.return_sequences else dz, cache.return_sequences, hs,
            np.ascontiguousarray(U_t), keep, dz, dh_next, _blocks(N, T, K, H),
        )  # fmt: skip
    else:
        P = np.multiply(hs[1:], hs[1:])  # (T, N, H)
        np.subtract(1.0, P, out=P)  # tanh' = 1 - h_t^2, for all steps at once
        dh_t = np.empty((N, H), dtype=dtype)
        for t in range(T - 1, -1, -1):
            ext = dh_out[t] if cache.return_sequences else zeros  # from the output h_t
            np.add(dh_next, ext, out=dh_t)
            np.multiply(dh_t, P[t], out=dz[t])  # dz_t = dh_t (1 - h_t^2)
            if m is not None:
                dz[t][~m[t]] = 0.0  # masked step: nothing flows into the weights
            np.matmul(dz[t], U_t, out=dh_next)  # (N, H) @ (H, H) -> (N, H): dh_{t-1}
            if m is not None:
                np.copyto(dh_next, dh_t, where=~m[t][:, None])  # masked: h_t = h_{t-1}

    dz2 = dz.reshape(T * N, H)
    blocks = _blocks(N, T, K, H)
    # (K, TN) @ (TN, H) -> [dW; db; dU]
    dV = _matmul(fused, vs[:T].reshape(T * N, K), dz2, blocks, ta=True)
    dx = _matmul(fused, dz2, V_t[:, :F], blocks).reshape(T, N, F)  # (TN, H) @ (H, F)
    grads = {
        "W": np.ascontiguousarray(dV[:F]),
        "U": np.ascontiguousarray(dV[F + 1 :]),
        "b": dV[F].copy(),
        "h0": dh_next,
    }
    return np.ascontiguousarray(dx.transpose(1, 0, 2)), grads


def init_rnn_params(
    F: int, H: int, rng: np.random.Generator, init: str = "XAVIER", dtype=np.float32
) -> Params:
    """RNN parameters initialised per weight matrix as TMVA does (W0, then W1); bias zero."""
    from .init import init_matrix

    return {
        "W": np.ascontiguousarray(init_matrix(rng, H, F, init, dtype).T),
        "U": np.ascontiguousarray(init_matrix(rng, H, H, init, dtype).T),
        "b": np.zeros(H, dtype=dtype),
    }


# --------------------------------------------------------------------------- conversions


def to_torch(params: Params) -> dict[str, np.ndarray]:
    """PyTorch ``nn.RNN`` layer-0 arrays: ``weight_ih_l0 (H, F)``, ``weight_hh_l0 (H, H)``,
    ``bias_ih_l0 (H,)`` (our ``b``) and ``bias_hh_l0 (H,)`` (zeros)."""
    b = np.asarray(params["b"])
    return {
        "weight_ih_l0": np.ascontiguousarray(np.asarray(params["W"]).T),
        "weight_hh_l0": np.ascontiguousarray(np.asarray(params["U"]).T),
        "bias_ih_l0": b.copy(),
        "bias_hh_l0": np.zeros_like(b),
    }


def from_torch(state: dict[str, np.ndarray]) -> Params:
    """Inverse of :func:`to_torch`: ``b = bias_ih_l0 + bias_hh_l0``."""
    return {
        "W": np.ascontiguousarray(np.asarray(state["weight_ih_l0"]).T),
        "U": np.ascontiguousarray(np.asarray(state["weight_hh_l0"]).T),
        "b": np.asarray(state["bias_ih_l0"]) + np.asarray(state["bias_hh_l0"]),
    }


# TMVA's TBasicRNNLayer writes its matrices under these tags (RNNLayer.h, AddWeightsXMLTo).
TMVA_XML_TAGS: tuple[tuple[str, str], ...] = (
    ("InputWeights", "W0"),
    ("StateWeights", "W1"),
    ("Biases", "b0"),
)


def to_tmva(params: Params) -> dict[str, np.ndarray]:
    """TMVA ``TBasicRNNLayer`` slices: ``W0 = Wᵀ (H, D)``, ``W1 = Uᵀ (H, H)``, ``b0 (H, 1)``."""
    W, U, b = (np.asarray(params[k]) for k in ("W", "U", "b"))
    return {
        "W0": np.ascontiguousarray(W.T),
        "W1": np.ascontiguousarray(U.T),
        "b0": b.reshape(-1, 1).copy(),
    }


def from_tmva(slices: dict[str, np.ndarray]) -> Params:
    """Inverse of :func:`to_tmva`."""
    return {
        "W": np.ascontiguousarray(np.asarray(slices["W0"]).T),
        "U": np.ascontiguousarray(np.asarray(slices["W1"]).T),
        "b": np.asarray(slices["b0"]).reshape(-1).copy(),
    }
