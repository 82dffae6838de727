"""Helpers shared by tests/test_rnn.py and tests/test_gru.py (not a test module)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from tmva_lstm.nn import lstm as L


def assert_close(ours, ref, atol=0.0, rel=None, what=""):
    """Max |ours - ref| <= atol, or <= rel * max|ref|; prints ours vs reference on failure."""
    ours, ref = np.asarray(ours), np.asarray(ref)
    assert ours.shape == ref.shape, f"{what}: shape ours {ours.shape} vs reference {ref.shape}"
    err = float(np.max(np.abs(ours - ref))) if ours.size else 0.0
    scale = float(np.max(np.abs(ref))) if ref.size else 0.0
    bound = atol if rel is None else rel * max(scale, np.finfo(np.float64).tiny)
    if err > bound:
        k = np.unravel_index(np.argmax(np.abs(ours - ref)), ours.shape)
        pytest.fail(
            f"{what}: max |ours - reference| = {err:.3g} > {bound:.3g} (max |reference| "
            f"{scale:.3g}); at {tuple(int(i) for i in k)}: ours {ours[k]!r} vs reference "
            f"{ref[k]!r}"
        )


def use_kernel(name: str):
    """Generator for a fixture: run a test on one kernel path, then restore the choice."""
    if name == "numba":
        pytest.importorskip("numba")
    before = L.kernel_name()
    L.set_kernel(name)
    try:
        yield name
    finally:
        L.set_kernel(before)


def finite_differences(loss: Callable[[], float], arr: np.ndarray, eps: float = 1e-6):
    """Central differences of ``loss()`` with respect to every entry of ``arr`` (in place)."""
    numeric = np.empty_like(arr)
    for idx in np.ndindex(arr.shape):
        keep = arr[idx]
        arr[idx] = keep + eps
        up = loss()
        arr[idx] = keep - eps
        down = loss()
        arr[idx] = keep
        numeric[idx] = (up - down) / (2 * eps)
    return numeric


def prefix_mask(lengths: np.ndarray, T: int) -> np.ndarray:
    """``(N, T)`` booleans: the first ``lengths[i]`` steps of event i are valid."""
    return np.arange(T)[None, :] < np.asarray(lengths)[:, None]


def torch_module_run(torch, module, x, R, h0, return_sequences, lengths=None):
    """A torch ``nn.RNN`` / ``nn.GRU`` forward and the gradients of ``sum(out * R)``:
    ``(y, dx, {name: grad}, dh0, full output)`` as NumPy, batch-first."""
    xt = torch.from_numpy(x).requires_grad_(True)
    h0t = torch.from_numpy(h0).unsqueeze(0).requires_grad_(True)
    if lengths is None:
        out, h_n = module(xt, h0t)
    else:
        pack = torch.nn.utils.rnn.pack_padded_sequence
        packed = pack(xt, torch.as_tensor(lengths), batch_first=True, enforce_sorted=False)
        out, h_n = module(packed, h0t)
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(
            out, batch_first=True, total_length=x.shape[1]
        )
    y = out if return_sequences else h_n[0]
    module.zero_grad()
    (y * torch.from_numpy(R)).sum().backward()
    grads = {name: p.grad.numpy().copy() for name, p in module.named_parameters()}
    return y.detach().numpy(), xt.grad.numpy(), grads, h0t.grad[0].numpy(), out.detach().numpy()
