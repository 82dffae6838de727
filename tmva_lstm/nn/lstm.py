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

How it is made fast (the numbers are those of the textbook order of operations):

* each step is one GEMM ``z_t = [x_t, 1, h_{t-1}] [W; b; U]``: the step's inputs, a constant
  one and the previous state sit side by side in one array ``vs (T+1, N, F+1+H)``, so the
  input projection and the bias cost no extra pass, and ``h_t`` is written straight into the
  next step's inputs;
* internally the gate blocks are reordered to (g, i, f, o) so the three sigmoid gates form
  one contiguous block and the three gates scaled by ``dc`` in the backward pass form another;
* ``sigmoid(z) = 0.5 + 0.5 tanh(z / 2)``, and the 1/2 is folded into the sigmoid columns of
  W, U and b (exact: a power of two), so one ``tanh`` call activates all four gates;
* the weight gradients ``[dW; db; dU]`` are one GEMM over all steps, and so is ``dx``;
* with numba (a core dependency) the whole recurrence is one compiled call
  (:mod:`tmva_lstm.nn._kernels`): each step's GEMM runs in compiled code (float32: register
  tiles written in LLVM IR, :mod:`tmva_lstm.nn._tiles`, which beat OpenBLAS's packed calls on
  these small products; else SciPy's BLAS) and the gate arithmetic runs in compiled loops,
  the batch cut into row blocks that numba's threads run side by side; the backward pass also
  accumulates ``[dW; db; dU]`` and ``dx`` step by step there, and inference
  (``keep_cache=False``) writes no per-step arrays at all. The compiled calls also move the
  data between the caller's batch-first arrays and the time-major cache, pack the weights and
  unpack their gradients: a training step runs a handful of Python operations around them (on
  the 2-core virtual machine of ``bench/``, a NumPy call after a millisecond of other work
  costs 10-70 µs, against 1-3 µs back to back). Results agree with the NumPy path to float
  rounding (float32 about 1e-6 relative: a vectorised ``tanh`` approximation and other
  summation orders; float64 about 1e-14).
  ``TMVA_LSTM_KERNEL=numpy`` selects the NumPy path, the always-available
  reference: a Python loop over the steps, whole-array ufuncs for the element-wise work, the
  backward factors that do not depend on the recurrence computed for all steps at once;
* a call's working arrays (the cache, the backward pass's scratch) are views into one block of
  memory, and blocks are used again once no view of them is alive, so a training loop does
  not pay a page fault for every 4 KiB it touches (see :class:`_Recycler`).
"""

from __future__ import annotations

import math
import os
import sys
import threading
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, repeat
from types import ModuleType

import numpy as np

from ..errors import DependencyError

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
    "KERNELS",
    "kernel_name",
    "set_kernel",
]

Params = dict[str, np.ndarray]

# --------------------------------------------------------------------------- kernel choice

KERNEL_ENV = "TMVA_LSTM_KERNEL"
KERNELS = ("auto", "numba", "numpy")
_UNSET = object()
_fused: ModuleType | None | object = _UNSET  # the numba kernels, None for NumPy, or not chosen


def set_kernel(name: str | None = None) -> None:
    """Choose what runs the recurrence: ``"numba"`` (the whole sequence in one compiled
    call), ``"numpy"`` (the reference: a Python loop of NumPy calls) or ``"auto"`` (numba if
    it imports, else NumPy).

    ``None`` reads the environment variable ``TMVA_LSTM_KERNEL`` (``auto`` when unset), which
    is also what happens on first use. Both paths give the same numbers to float rounding
    (see the module docstring).
    """
    global _fused
    if name is None:
        name = os.environ.get(KERNEL_ENV, "") or "auto"
    choice = name.strip().lower()
    if choice not in KERNELS:
        raise ValueError(
            f"unknown LSTM kernel {name!r} (argument or ${KERNEL_ENV}); valid: {', '.join(KERNELS)}"
        )
    if choice == "numpy":
        _fused = None
        return
    try:
        from . import _kernels
    except ImportError as err:
        if choice == "numba":
            raise DependencyError(
                f"the numba LSTM kernels need numba ({err}): pip install 'tmva-lstm[fast]'"
            ) from err
        _fused = None
    else:
        _fused = _kernels


def _fused_kernels() -> ModuleType | None:
    """The numba kernels module, or None for the NumPy path (chosen on first use)."""
    if _fused is _UNSET:
        set_kernel()
    return _fused  # type: ignore[return-value]


def kernel_name() -> str:
    """``"numba"`` or ``"numpy"``: what runs the recurrence now."""
    return "numpy" if _fused_kernels() is None else "numba"


# --------------------------------------------------------------------------- layer


@lru_cache(maxsize=32)
def _internal_order(H: int) -> np.ndarray:
    """Column permutation from the public gate order (i, f, g, o) to the internal (g, i, f, o)."""
    i, f, g, o = (np.arange(k * H, (k + 1) * H) for k in range(4))
    perm = np.concatenate([g, i, f, o])
    perm.flags.writeable = False  # shared between calls
    return perm


@lru_cache(maxsize=32)
def _public_order(H: int) -> np.ndarray:
    """The inverse permutation: internal (g, i, f, o) -> public (i, f, g, o)."""
    inv = np.argsort(_internal_order(H))
    inv.flags.writeable = False
    return inv


class _Recycler:
    """Blocks of memory handed out again once nothing refers to them any more.

    A fresh large array costs a page fault per 4 KiB on first touch, and whether the C
    allocator gives the same pages back on the next call depends on everything else the process
    allocated: on a virtual machine that is often dearer than the arithmetic. Each call of
    ``lstm_forward`` and ``lstm_backward`` carves its working arrays out of one block; a block
    goes back into service when no view of it is alive (its cache was dropped). CPython's
    reference count tells that exactly: a free block has as many references as ``probe``, an
    array held only here, counted the same way. At most ``keep`` blocks are remembered.
    """

    # Reference counts are exact in CPython with the GIL; elsewhere, always allocate afresh.
    enabled = (
        sys.implementation.name == "cpython" and getattr(sys, "_is_gil_enabled", lambda: True)()
    )

    def __init__(self, keep: int = 8):
        self.keep = keep
        self.blocks: list[np.ndarray] = []
        self.offsets: dict[int, int] = {}  # id of a block -> bytes to its first 64-byte boundary
        self.probe = [np.empty(0, dtype=np.uint8)]
        self.lock = threading.Lock()

    def take(self, nbytes: int) -> tuple[np.ndarray, int]:
        """A ``uint8`` block that nothing else refers to, with ``nbytes`` from its first 64-byte
        boundary on, and the offset of that boundary."""
        if not self.enabled:
            block = np.empty(nbytes + 64, dtype=np.uint8)
            return block, -block.ctypes.data % 64
        with self.lock:
            *refs, free_refs = [sys.getrefcount(b) for b in self.blocks + self.probe]
            free = [
                b
                for b, n in zip(self.blocks, refs, strict=True)
                if n == free_refs and b.nbytes - self.offsets[id(b)] >= nbytes
            ]
            if free:
                block = min(free, key=lambda b: b.nbytes)
                return block, self.offsets[id(block)]
            block = np.empty(nbytes + 64, dtype=np.uint8)
            self.blocks.append(block)
            self.offsets[id(block)] = -block.ctypes.data % 64
            for old in self.blocks[: -self.keep]:
                del self.offsets[id(old)]
            del self.blocks[: -self.keep]
            return block, self.offsets[id(block)]


_RECYCLER = _Recycler()


@lru_cache(maxsize=64)
def _layout(itemsize: int, shapes: tuple[tuple[int, ...], ...]) -> tuple[tuple, int]:
    """Where :func:`_carve` puts each array: ``(start, size, shape)`` in items, each start on
    a 64-byte boundary, and the items needed in all."""
    align = 64 // itemsize
    sizes = [math.prod(s) for s in shapes]
    starts = list(accumulate((-(-n // align) * align for n in sizes), initial=0))
    return tuple(zip(starts[:-1], sizes, shapes, strict=True)), starts[-1]


def _carve(dtype, *shapes: tuple[int, ...]) -> list[np.ndarray]:
    """Arrays of the given shapes, as views into one recycled block (see :class:`_Recycler`).

    Each view starts on a 64-byte boundary.
    """
    itemsize = np.dtype(dtype).itemsize
    spans, n_items = _layout(itemsize, shapes)
    block, offset = _RECYCLER.take(n_items * itemsize)
    flat = block[offset : offset + n_items * itemsize].view(dtype)
    return [flat[a : a + n].reshape(s) for a, n, s in spans]


def _blocks(N: int, T: int, K: int, H: int) -> int:
    """How many row blocks (threads) the compiled kernels cut a batch into: one per numba
    thread, at least 16 rows each, and one alone for small problems (where starting threads
    costs more than it saves)."""
    if 2.0 * N * T * K * 4 * H < 2e6:  # GEMM flops of the forward pass
        return 1
    return max(1, min(_numba_threads(), N // 16))


@lru_cache(maxsize=16)
def _all_valid(T: int, N: int) -> np.ndarray:
    """``keep (T, N)`` of a batch without a mask, shared between calls (kernels only read it)."""
    return np.ones((T, N), dtype=bool)


def _numba_threads() -> int:
    """numba's thread count (``NUMBA_NUM_THREADS``, or ``numba.set_num_threads``)."""
    compiled = _fused_kernels()
    return 1 if compiled is None else compiled.get_num_threads()


@dataclass
class LSTMCache:
    """What ``lstm_backward`` needs from ``lstm_forward``. Internal gate order (g, i, f, o).

    ``vs``: each step's GEMM inputs ``[x_t, 1, h_{t-1}]``, time-major ``(T+1, N, F+1+H)``
    (row T holds only ``h_T``); ``acts``: activated gates ``(T, N, 4H)``; ``cs``: cell state
    ``(T+1, N, H)`` with ``c0`` at index 0; ``tanh_c``: ``tanh(c_t)`` ``(T, N, H)``;
    ``V_t``: unscaled internal ``[W; b; U]`` transposed ``(4H, F+1+H)``;
    ``mask``: time-major ``(T, N)`` booleans or None.
    """

    vs: np.ndarray
    acts: np.ndarray
    cs: np.ndarray
    tanh_c: np.ndarray
    V_t: np.ndarray
    mask: np.ndarray | None
    return_sequences: bool
    blocks: int = 1  # row blocks (threads) of the compiled kernels

    @property
    def hs(self) -> np.ndarray:
        """Hidden state ``(T+1, N, H)`` with ``h0`` at index 0 (a view into ``vs``)."""
        H = self.cs.shape[2]
        return self.vs[:, :, -H:]


def _check_inputs(x, params, h0, c0, mask) -> tuple[int, int, int, int]:
    if x.ndim != 3:
        raise ValueError(f"lstm_forward: x must be (N, T, F), got shape {x.shape}")
    N, T, F = x.shape
    W, U, b = (np.asarray(params[k]) for k in ("W", "U", "b"))
    H = U.shape[0] if U.ndim == 2 else -1
    if W.shape != (F, 4 * H) or U.shape != (H, 4 * H) or b.shape != (4 * H,):
        raise ValueError(
            f"lstm_forward: parameter shapes W {W.shape}, U {U.shape}, b {b.shape} do not fit "
            f"x {x.shape} (F={F}); expected W ({F}, 4H), U (H, 4H), b (4H,) with H = U.shape[0]"
        )
    if T == 0:
        raise ValueError("lstm_forward: x has no time steps (T = 0)")
    for name, state in (("h0", h0), ("c0", c0)):
        if state is not None and np.shape(state) != (N, H):
            raise ValueError(
                f"lstm_forward: {name} must be (N, H) = ({N}, {H}), got {np.shape(state)}"
            )
    if mask is not None and np.shape(mask) != (N, T):
        raise ValueError(f"lstm_forward: mask must be (N, T) = ({N}, {T}), got {np.shape(mask)}")
    return N, T, F, H


def _gates_forward(a, c_prev, c, keep) -> None:
    """NumPy path, one step: sigmoid gates in place, new cell ``c``."""
    H = c.shape[1]
    s = a[:, H:]
    s *= 0.5
    s += 0.5  # i, f, o = sigmoid(z) = 0.5 + 0.5 tanh(z / 2)
    g, i, f = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H]
    np.multiply(f, c_prev, out=c)
    c += i * g  # c_t = f c_{t-1} + i g
    if keep is not None:
        np.copyto(c, c_prev, where=~keep[:, None])  # masked: c_t = c_{t-1}


def _hidden_forward(a, tanh_c, h_prev, h, keep) -> None:
    """NumPy path, one step: ``h = o tanh(c)``."""
    H = h.shape[1]
    np.multiply(a[:, 3 * H :], tanh_c, out=h)  # h_t = o tanh(c_t)
    if keep is not None:
        np.copyto(h, h_prev, where=~keep[:, None])  # masked: h_t = h_{t-1}


def lstm_forward(
    x: np.ndarray,
    params: Params,
    h0: np.ndarray | None = None,
    c0: np.ndarray | None = None,
    mask: np.ndarray | None = None,
    return_sequences: bool = True,
    keep_cache: bool = True,
) -> tuple[np.ndarray, LSTMCache | None]:
    """Run the LSTM over ``x (N, T, F)``.

    Returns ``h (N, T, H)`` if ``return_sequences`` else ``h (N, H)`` (the last valid step),
    and the cache for :func:`lstm_backward` (None with ``keep_cache=False``: inference, which
    the compiled path then runs without writing any per-step arrays). ``h0``/``c0`` are
    ``(N, H)`` (zeros if None); ``mask`` is ``(N, T)`` booleans (valid steps). The dtype
    follows ``x`` (float32 or float64).
    """
    x = np.asarray(x)
    dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    x = x.astype(dtype, copy=False)
    N, T, F, H = _check_inputs(x, params, h0, c0, mask)
    K = F + 1 + H  # a step's GEMM inputs [x_t, 1, h_{t-1}]
    compiled = _fused_kernels()
    if compiled is not None:
        # V = [W; b; U] in the internal gate order (g, i, f, o), the sigmoid columns halved,
        # and V_t the same unscaled and transposed, for the backward pass
        weights = (np.ascontiguousarray(params[k], dtype=dtype) for k in ("W", "U", "b"))
        V_half, V_t = np.empty((K, 4 * H), dtype=dtype), np.empty((4 * H, K), dtype=dtype)
        compiled.pack_weights(*weights, V_half, V_t)
    else:
        V_half, V_t = _pack_weights(params, dtype)
    if compiled is not None and not keep_cache:  # inference: no cache, batch-first in and out
        return _infer(compiled, x, V_half, h0, c0, mask, return_sequences), None

    # what the backward pass needs: step inputs, activated gates, cell states, tanh of those
    vs, acts, cs, tanh_c = _carve(dtype, (T + 1, N, K), (T, N, 4 * H), (T + 1, N, H), (T, N, H))
    m_t = None if mask is None else np.ascontiguousarray(np.asarray(mask, dtype=bool).T)  # (T, N)
    blocks = 1
    if compiled is not None:  # the whole recurrence in one compiled call, layouts included
        keep = _all_valid(T, N) if m_t is None else m_t
        out = np.empty((N, T if return_sequences else 1, H), dtype=dtype)
        blocks = _blocks(N, T, K, H)
        compiled.forward_sequence(
            np.ascontiguousarray(x), _state(h0, dtype), _state(c0, dtype), vs, V_half, acts,
            cs, tanh_c, keep, out, return_sequences, blocks,
        )  # fmt: skip
        if not return_sequences:
            out = out.reshape(N, H)
    else:
        out = _forward_numpy(x, V_half, h0, c0, m_t, vs, acts, cs, tanh_c, return_sequences)

    if not keep_cache:
        return out, None
    cache = LSTMCache(vs, acts, cs, tanh_c, V_t, m_t, return_sequences, blocks)
    return out, cache


def _pack_weights(params: Params, dtype) -> tuple[np.ndarray, np.ndarray]:
    """NumPy path: ``V_half (K, 4H)``, ``[W; b; U]`` in the internal gate order with the
    sigmoid columns halved (``sigmoid(z) = 0.5 + 0.5 tanh(z / 2)``, exact: a power of two),
    and ``V_t (4H, K)``, the same unscaled and transposed."""
    F, H = np.shape(params["W"])[0], np.shape(params["U"])[0]
    perm = _internal_order(H)
    V = np.empty((F + 1 + H, 4 * H), dtype=dtype)
    V[:F] = np.asarray(params["W"])[:, perm]
    V[F] = np.asarray(params["b"])[perm]
    V[F + 1 :] = np.asarray(params["U"])[:, perm]
    half = np.full(4 * H, 0.5, dtype=dtype)
    half[:H] = 1.0
    return V * half, np.ascontiguousarray(V.T)


def _forward_numpy(x, V_half, h0, c0, m_t, vs, acts, cs, tanh_c, return_sequences: bool):
    """The NumPy path of the forward pass: fills the cache; returns ``h (N, T, H)`` (zeros at
    masked steps) or ``(N, H)``, the last state."""
    N, T, F = x.shape
    vs[:T, :, :F] = x.transpose(1, 0, 2)  # (T, N, F)
    vs[T, :, :F] = 0.0  # there is no x_T: row T only holds h_T
    vs[:, :, F] = 1.0
    hs = vs[:, :, F + 1 :]  # (T+1, N, H) view: h_{t-1} is an input of step t
    hs[0] = 0.0 if h0 is None else h0
    cs[0] = 0.0 if c0 is None else c0
    rows = repeat(None, T) if m_t is None else m_t  # (N,) valid rows of each step
    steps = zip(vs[:T], acts, cs[:-1], cs[1:], tanh_c, hs[:-1], hs[1:], rows, strict=True)
    for v, a, c_prev, c, tc, h_prev, h, k in steps:  # v = [x_t, 1, h_{t-1}], a = acts[t]
        np.matmul(v, V_half, out=a)  # (N, K) @ (K, 4H) -> (N, 4H): z_t
        np.tanh(a, out=a)  # g = tanh(z_g); tanh(z / 2) for i, f, o
        _gates_forward(a, c_prev, c, k)  # i, f, o = sigmoid(z); c_t = f c_{t-1} + i g
        np.tanh(c, out=tc)
        _hidden_forward(a, tc, h_prev, h, k)  # h_t = o tanh(c_t), into the next step's v
    if not return_sequences:
        return hs[T].copy()  # (N, H)
    out = np.ascontiguousarray(hs[1:].transpose(1, 0, 2))  # (T, N, H) -> (N, T, H)
    if m_t is not None:
        out[~m_t.T] = 0.0  # outputs at masked steps are zeros
    return out


_NO_STATE = {np.dtype(t): np.zeros((0, 0), dtype=t) for t in (np.float32, np.float64)}


def _state(s: np.ndarray | None, dtype) -> np.ndarray:
    """An initial state for the compiled kernels: ``(N, H)``, or no rows for zeros."""
    return _NO_STATE[np.dtype(dtype)] if s is None else np.ascontiguousarray(s, dtype=dtype)


def _infer(compiled, x, V_half, h0, c0, mask, return_sequences: bool) -> np.ndarray:
    """The compiled inference kernel: ``h (N, T, H)`` or ``(N, H)``, no cache."""
    N, T, _ = x.shape
    H = V_half.shape[1] // 4
    dtype = V_half.dtype
    keep = _all_valid(T, N) if mask is None else np.asarray(mask, dtype=bool).T
    out = np.empty((N, T if return_sequences else 1, H), dtype=dtype)
    blocks = _blocks(N, T, V_half.shape[0], H)
    compiled.infer_sequence(
        np.ascontiguousarray(x), V_half, _state(h0, dtype), _state(c0, dtype),
        np.ascontiguousarray(keep), out, return_sequences, blocks,
    )  # fmt: skip
    return out if return_sequences else out.reshape(N, H)


def _backward_factors(acts, cs, tanh_c, P, Q) -> None:
    """For the NumPy path: the factors of a step's gradients that do not depend on the
    recurrence, for all steps at once (the expressions of ``_kernels._backward_rows``).

    ``P (T, N, H)`` with ``dc_t = dh_t P + dc_{t+1} f_{t+1}``, and ``Q (T, N, 4H)`` with
    ``dz = Q * [dc, dc, dc, dh]`` in the internal gate order (g, i, f, o).
    """
    H = P.shape[2]
    g, i = acts[:, :, :H], acts[:, :, H : 2 * H]
    # h_t = o tanh(c_t) -> dc_t gets dh o (1 - tanh^2 c_t)
    np.multiply(tanh_c, tanh_c, out=P)
    np.subtract(1.0, P, out=P)
    P *= acts[:, :, 3 * H :]
    # c_t = f c_{t-1} + i g -> dz_g = dc i (1 - g^2), dz_i = dc g s_i', dz_f = dc c_{t-1} s_f'
    np.multiply(g, g, out=Q[:, :, :H])
    np.subtract(1.0, Q[:, :, :H], out=Q[:, :, :H])
    Q[:, :, :H] *= i
    sig = acts[:, :, H:]
    dsig = Q[:, :, H:]
    np.subtract(1.0, sig, out=dsig)
    dsig *= sig  # sigmoid' = (1 - s) s for i, f, o
    Q[:, :, H : 2 * H] *= g
    Q[:, :, 2 * H : 3 * H] *= cs[:-1]
    Q[:, :, 3 * H :] *= tanh_c  # h_t = o tanh(c_t) -> dz_o = dh tanh(c_t) s_o'


def _step_backward(dh_next, dh_ext, dc, f, P, Q, keep, dz, dh) -> None:
    """NumPy path, one step back in time, from the factors ``P[t]``, ``Q[t]``."""
    N, H = dh.shape
    np.add(dh_next, dh_ext, out=dh)  # gradient of h_t: from step t+1 and from the output
    dc_t = dh * P
    dc_t += dc  # (N, H)
    np.multiply(
        Q[:, : 3 * H].reshape(N, 3, H), dc_t[:, None, :], out=dz[:, : 3 * H].reshape(N, 3, H)
    )
    np.multiply(Q[:, 3 * H :], dh, out=dz[:, 3 * H :])
    if keep is None:
        np.multiply(dc_t, f, out=dc)  # dc_{t-1}
    else:
        dz[~keep] = 0.0  # masked step: nothing flows into the weights
        np.multiply(dc_t, f, out=dc_t)
        np.copyto(dc, dc_t, where=keep[:, None])  # masked: c_t = c_{t-1}, dc passes through


def lstm_backward(dh: np.ndarray, cache: LSTMCache) -> tuple[np.ndarray, Params]:
    """Backpropagate ``dh`` (the shape of the forward output) through time.

    Returns ``dx (N, T, F)`` and ``grads`` with ``W (F, 4H)``, ``U (H, 4H)``, ``b (4H,)``
    (public gate order) and ``h0``, ``c0`` ``(N, H)``.
    """
    acts, cs, tanh_c, vs, m = cache.acts, cache.cs, cache.tanh_c, cache.vs, cache.mask
    T, N, H4 = acts.shape
    H = H4 // 4
    K = vs.shape[2]
    F = K - 1 - H
    dtype = acts.dtype
    dh = np.asarray(dh, dtype=dtype)
    expected = (N, T, H) if cache.return_sequences else (N, H)
    if dh.shape != expected:
        names = "(N, T, H)" if cache.return_sequences else "(N, H)"
        raise ValueError(f"lstm_backward: dh must be {names} = {expected}, got {dh.shape}")

    compiled = _fused_kernels()
    if compiled is None:
        dV, dx, dh_next, dc = _backward_numpy(dh, cache)
        inv = _public_order(H)  # internal (g, i, f, o) -> public (i, f, g, o)
        W, U, b = (np.ascontiguousarray(dV[rows, inv]) for rows in (slice(F), slice(F + 1, K), F))
        return dx, {"W": W, "U": U, "b": b, "h0": dh_next, "c0": dc}

    # the whole backward recurrence and all GEMMs in one compiled call, layouts included
    dz, dx = _carve(dtype, (T, N, 4 * H), (N, T, F))  # dx batch-first
    dh_next, dc = np.empty((N, H), dtype=dtype), np.empty((N, H), dtype=dtype)
    keep = _all_valid(T, N) if m is None else m
    dVs = compiled.backward_sequence(
        np.ascontiguousarray(dh.reshape(N, -1, H)), cache.return_sequences, acts, cs, tanh_c,
        vs, cache.V_t, keep, dz, dx, dh_next, dc, cache.blocks,
    )  # fmt: skip
    dV = np.empty((K, 4 * H), dtype=dtype)
    compiled.unpack_grads(dVs, dV)  # the blocks' sums added, public gate order
    return dx, {"W": dV[:F], "U": dV[F + 1 :], "b": dV[F], "h0": dh_next, "c0": dc}


def _backward_numpy(dh: np.ndarray, cache: LSTMCache):
    """The NumPy path of the backward pass: ``dV (K, 4H)`` (internal order), ``dx (N, T, F)``
    and the gradients of ``h0``, ``c0``."""
    acts, cs, tanh_c, vs, m = cache.acts, cache.cs, cache.tanh_c, cache.vs, cache.mask
    T, N, H4 = acts.shape
    H = H4 // 4
    K = vs.shape[2]
    F = K - 1 - H
    T_out = T if cache.return_sequences else 1
    # dz, dx and the output gradient time-major; the factors P, Q of _backward_factors
    shapes = [(T, N, 4 * H), (T, N, F), (T_out, N, H), (T, N, H), (T, N, 4 * H)]
    dz, dx, dh_out, P, Q = _carve(acts.dtype, *shapes)
    dh_next = np.zeros((N, H), dtype=acts.dtype)  # gradient of h_t from step t+1
    if cache.return_sequences:
        # time-major and contiguous: a step's rows then lie side by side, not T*H apart
        if m is None:
            np.copyto(dh_out, dh.transpose(1, 0, 2))
        else:  # masked outputs are constant zeros: their gradient goes nowhere
            np.multiply(dh.transpose(1, 0, 2), m[:, :, None], out=dh_out)
    else:  # the output is h_T: dh enters at the last step and nowhere else
        dh_next[...] = dh
        dh_out[...] = 0.0  # one block of zeros, used at every step
    dc = np.zeros((N, H), dtype=acts.dtype)  # gradient of c_t from step t+1

    _backward_factors(acts, cs, tanh_c, P, Q)
    f = acts[:, :, 2 * H : 3 * H]
    U_t = cache.V_t[:, F + 1 :]  # (4H, H)
    dh_t = np.empty((N, H), dtype=acts.dtype)  # gradient of h_t
    for t in range(T - 1, -1, -1):
        k = None if m is None else m[t]
        ext = dh_out[t] if cache.return_sequences else dh_out[0]  # from the output h_t
        _step_backward(dh_next, ext, dc, f[t], P[t], Q[t], k, dz[t], dh_t)
        np.matmul(dz[t], U_t, out=dh_next)  # (N, 4H) @ (4H, H) -> (N, H): dh_{t-1}
        if m is not None:
            np.copyto(dh_next, dh_t, where=~m[t][:, None])  # masked: h_t = h_{t-1}
    dz2 = dz.reshape(T * N, 4 * H)
    # (K, TN) @ (TN, 4H) -> (K, 4H): [dW; db; dU]
    dV = np.matmul(vs[:T].reshape(T * N, K).T, dz2)
    np.matmul(dz2, cache.V_t[:, :F], out=dx.reshape(T * N, F))  # (TN, 4H) @ (4H, F)
    return dV, np.ascontiguousarray(dx.transpose(1, 0, 2)), dh_next, dc


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
