"""Tests of tmva_lstm.nn.lstm against independent oracles.

* ``torch.nn.LSTM`` (autograd) for the forward pass and every gradient, float64 and float32,
  padded batches through ``pack_padded_sequence``;
* central finite differences over every parameter entry, the initial state and the inputs;
* TMVA's own equations written out from the per-gate slices of :func:`to_tmva`;
* the NumPy path against the compiled whole-sequence kernels (agreement to float rounding).
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from tmva_lstm.errors import DependencyError
from tmva_lstm.nn import lstm as L
from tmva_lstm.nn.lstm import (
    from_tmva,
    from_torch,
    init_lstm_params,
    lstm_backward,
    lstm_forward,
    to_tmva,
    to_torch,
)

GRAD_KEYS = ("W", "U", "b", "h0", "c0")


# --------------------------------------------------------------------------- helpers


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
            f"{ref[k]!r}\nours:\n{ours}\nreference:\n{ref}"
        )


def random_params(rng, F, H, dtype=np.float64, scale=0.5):
    return {
        "W": rng.normal(0, scale, (F, 4 * H)).astype(dtype),
        "U": rng.normal(0, scale, (H, 4 * H)).astype(dtype),
        "b": rng.normal(0, scale, 4 * H).astype(dtype),
    }


def run(x, params, dh, **kw):
    """Our forward and backward: ``(h, dx, grads)``."""
    h, cache = lstm_forward(x, params, **kw)
    dx, grads = lstm_backward(dh, cache)
    return h, dx, grads


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.fixture(params=["numpy", "numba"])
def kernel(request):
    """Run a test on each path; numba is skipped where it is not installed."""
    if request.param == "numba":
        pytest.importorskip("numba")
    before = L.kernel_name()
    L.set_kernel(request.param)
    yield request.param
    L.set_kernel(before)


def torch_lstm(torch, params_or_state, F, H, dtype):
    """An ``nn.LSTM`` holding ``params`` (our dict) or a PyTorch state dict of NumPy arrays."""
    state = params_or_state if "weight_ih_l0" in params_or_state else to_torch(params_or_state)
    lstm = torch.nn.LSTM(F, H, batch_first=True).to(dtype)
    with torch.no_grad():
        for name, value in state.items():
            getattr(lstm, name).copy_(torch.from_numpy(np.asarray(value)))
    return lstm


def torch_run(torch, lstm, x, R, h0, c0, return_sequences, lengths=None):
    """Torch's forward and gradients of ``sum(out * R)``, as NumPy, in our layouts."""
    xt = torch.from_numpy(x).requires_grad_(True)
    h0t = torch.from_numpy(h0).unsqueeze(0).requires_grad_(True)
    c0t = torch.from_numpy(c0).unsqueeze(0).requires_grad_(True)
    if lengths is None:
        out, (h_n, _) = lstm(xt, (h0t, c0t))
    else:
        pack = torch.nn.utils.rnn.pack_padded_sequence
        packed = pack(xt, torch.as_tensor(lengths), batch_first=True, enforce_sorted=False)
        out, (h_n, _) = lstm(packed, (h0t, c0t))
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(
            out, batch_first=True, total_length=x.shape[1]
        )
    y = out if return_sequences else h_n[0]
    (y * torch.from_numpy(R)).sum().backward()
    grads = {
        "W": lstm.weight_ih_l0.grad.numpy().T,
        "U": lstm.weight_hh_l0.grad.numpy().T,
        "b": lstm.bias_ih_l0.grad.numpy(),
        "h0": h0t.grad[0].numpy(),
        "c0": c0t.grad[0].numpy(),
    }
    b_hh = lstm.bias_hh_l0.grad.numpy()  # the same gradient as bias_ih, up to rounding
    assert_close(b_hh, grads["b"], rel=1e-6, what="torch's bias_hh vs bias_ih gradient")
    return y.detach().numpy(), xt.grad.numpy(), grads, out.detach().numpy()


def torch_case(torch, rng, N, T, F, H, dtype):
    """Random inputs and a torch LSTM with both bias vectors random; our params from it."""
    state = {
        "weight_ih_l0": rng.normal(0, 0.5, (4 * H, F)).astype(dtype),
        "weight_hh_l0": rng.normal(0, 0.5, (4 * H, H)).astype(dtype),
        "bias_ih_l0": rng.normal(0, 0.5, 4 * H).astype(dtype),
        "bias_hh_l0": rng.normal(0, 0.5, 4 * H).astype(dtype),
    }
    tdtype = torch.float64 if dtype == np.float64 else torch.float32
    lstm = torch_lstm(torch, state, F, H, tdtype)
    x = rng.normal(size=(N, T, F)).astype(dtype)
    h0 = rng.normal(0, 0.5, (N, H)).astype(dtype)
    c0 = rng.normal(0, 0.5, (N, H)).astype(dtype)
    return from_torch(state), lstm, x, h0, c0


# --------------------------------------------------------------------------- torch parity

SHAPES = [  # (N, T, F, H)
    (3, 5, 4, 6),
    (1, 7, 3, 5),  # N = 1
    (4, 1, 3, 2),  # T = 1
    (5, 6, 1, 4),  # F = 1
    (4, 6, 3, 1),  # H = 1
    (1, 1, 1, 1),
    (6, 12, 5, 8),
]


@pytest.mark.parametrize("return_sequences", [True, False], ids=["seq", "last"])
@pytest.mark.parametrize("with_state", [True, False], ids=["h0c0", "zero-state"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "N{}-T{}-F{}-H{}".format(*s))
def test_torch_parity_float64(torch, kernel, shape, with_state, return_sequences):
    N, T, F, H = shape
    rng = np.random.default_rng(sum(shape))
    params, lstm, x, h0, c0 = torch_case(torch, rng, N, T, F, H, np.float64)
    if not with_state:
        h0, c0 = np.zeros_like(h0), np.zeros_like(c0)
    R = rng.normal(size=(N, T, H) if return_sequences else (N, H))
    ref_h, ref_dx, ref_g, _ = torch_run(torch, lstm, x, R, h0, c0, return_sequences)

    state = {"h0": h0, "c0": c0} if with_state else {}
    h, dx, grads = run(x, params, R, return_sequences=return_sequences, **state)
    assert_close(h, ref_h, atol=1e-10, what="h")
    assert_close(dx, ref_dx, atol=1e-10, what="dx")
    for k in GRAD_KEYS:
        assert_close(grads[k], ref_g[k], atol=1e-10, what=f"d{k}")


@pytest.mark.parametrize("shape", [(16, 20, 8, 12), (1, 3, 1, 1), (32, 10, 30, 10)])
def test_torch_parity_float32(torch, kernel, shape):
    N, T, F, H = shape
    rng = np.random.default_rng(7)
    params, lstm, x, h0, c0 = torch_case(torch, rng, N, T, F, H, np.float32)
    R = rng.normal(size=(N, T, H)).astype(np.float32)
    ref_h, ref_dx, ref_g, _ = torch_run(torch, lstm, x, R, h0, c0, True)

    h, dx, grads = run(x, params, R, h0=h0, c0=c0)
    for name, ours, ref in [("h", h, ref_h), ("dx", dx, ref_dx)] + [
        (f"d{k}", grads[k], ref_g[k]) for k in GRAD_KEYS
    ]:
        assert ours.dtype == np.float32, f"{name}: dtype {ours.dtype}, expected float32"
        assert_close(ours, ref, rel=1e-5, what=name)


# --------------------------------------------------------------------------- masking


@pytest.mark.parametrize("return_sequences", [True, False], ids=["seq", "last"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_mask_matches_packed_sequences(torch, kernel, dtype, return_sequences):
    N, T, F, H = 6, 7, 3, 4
    rng = np.random.default_rng(11)
    params, lstm, x, h0, c0 = torch_case(torch, rng, N, T, F, H, dtype)
    lengths = np.array([3, 1, 7, 5, 1, 7])  # length 1 and full length in the same batch
    mask = np.arange(T)[None, :] < lengths[:, None]  # (N, T), valid steps first
    x[~mask] = rng.normal(size=(int((~mask).sum()), F))  # padding holds junk, not zeros
    R = rng.normal(size=(N, T, H) if return_sequences else (N, H)).astype(dtype)
    ref_h, ref_dx, ref_g, ref_seq = torch_run(torch, lstm, x, R, h0, c0, return_sequences, lengths)

    h, cache = lstm_forward(x, params, h0, c0, mask=mask, return_sequences=return_sequences)
    dx, grads = lstm_backward(R, cache)
    tol = {"atol": 1e-10} if dtype == np.float64 else {"rel": 1e-5}
    assert_close(h, ref_h, **tol, what="h")
    assert_close(dx, ref_dx, **tol, what="dx")
    for k in GRAD_KEYS:
        assert_close(grads[k], ref_g[k], **tol, what=f"d{k}")
    assert not dx[~mask].any(), "dx at padded steps must be zero"
    if return_sequences:
        assert not h[~mask].any(), "outputs at padded steps must be zero"
        assert not ref_seq[~mask].any()
    else:  # the last state is h_n of the packed run and the last valid output
        seq, _ = lstm_forward(x, params, h0, c0, mask=mask)
        assert_close(h, seq[np.arange(N), lengths - 1], atol=0.0, what="h_T vs last valid h_t")


def test_masked_step_is_a_deleted_step(kernel):
    """A hole in the mask carries the state: as if the step were not in the sequence."""
    rng = np.random.default_rng(3)
    N, T, F, H = 3, 6, 2, 3
    params = random_params(rng, F, H)
    x = rng.normal(size=(N, T, F))
    mask = np.ones((N, T), dtype=bool)
    mask[:, 2] = False
    last, _ = lstm_forward(x, params, mask=mask, return_sequences=False)
    ref, _ = lstm_forward(np.delete(x, 2, axis=1), params, return_sequences=False)
    assert_close(last, ref, atol=1e-15, what="h_T with step 2 masked vs deleted")


def test_all_true_mask_changes_nothing(kernel):
    rng = np.random.default_rng(4)
    params = random_params(rng, 3, 4)
    x = rng.normal(size=(5, 6, 3))
    R = rng.normal(size=(5, 6, 4))
    plain = run(x, params, R)
    masked = run(x, params, R, mask=np.ones((5, 6), dtype=bool))
    assert np.array_equal(plain[0], masked[0]) and np.array_equal(plain[1], masked[1])
    for k in GRAD_KEYS:
        assert np.array_equal(plain[2][k], masked[2][k]), k


# --------------------------------------------------------------------------- finite differences


@pytest.mark.parametrize("case", ["plain", "masked-last"])
def test_finite_differences_every_entry(kernel, case):
    """Central differences of sum(h * R) for every entry of W, U, b, h0, c0 and x."""
    rng = np.random.default_rng(5)
    N, T, F, H = 2, 3, 2, 2
    params = random_params(rng, F, H)
    inputs = {
        "x": rng.normal(size=(N, T, F)),
        "h0": rng.normal(0, 0.5, (N, H)),
        "c0": rng.normal(0, 0.5, (N, H)),
    }
    kw = {}
    if case == "masked-last":
        kw = {
            "mask": np.array([[True, True, False], [True, False, True]]),
            "return_sequences": False,
        }
    R = rng.normal(size=(N, T, H) if kw.get("return_sequences", True) else (N, H))

    def loss() -> float:
        h, _ = lstm_forward(inputs["x"], params, inputs["h0"], inputs["c0"], **kw)
        return float(np.sum(h * R))

    h, cache = lstm_forward(inputs["x"], params, inputs["h0"], inputs["c0"], **kw)
    dx, grads = lstm_backward(R, cache)
    analytic = {**{k: grads[k] for k in GRAD_KEYS}, "x": dx}
    eps = 1e-6
    for name in ("W", "U", "b", "h0", "c0", "x"):
        arr = params[name] if name in params else inputs[name]
        numeric = np.empty_like(arr)
        for idx in np.ndindex(arr.shape):
            keep = arr[idx]
            arr[idx] = keep + eps
            up = loss()
            arr[idx] = keep - eps
            down = loss()
            arr[idx] = keep
            numeric[idx] = (up - down) / (2 * eps)
        assert_close(analytic[name], numeric, rel=1e-7, what=f"d{name} vs finite differences")


# --------------------------------------------------------------------------- conversions


def test_torch_conversion_round_trip(rng):
    params = random_params(rng, 3, 4)
    back = from_torch(to_torch(params))
    for k in ("W", "U", "b"):
        assert np.array_equal(back[k], params[k]), k
    state = to_torch(params)
    assert state["weight_ih_l0"].shape == (16, 3) and state["weight_hh_l0"].shape == (16, 4)
    again = to_torch(from_torch(state))
    for k, v in state.items():
        assert np.array_equal(again[k], v), k


def test_converted_model_runs_the_same_in_torch(torch, rng):
    N, T, F, H = 4, 5, 3, 6
    params = random_params(rng, F, H)
    x = rng.normal(size=(N, T, F))
    lstm = torch_lstm(torch, params, F, H, torch.float64)
    with torch.no_grad():
        ref, (h_n, _) = lstm(torch.from_numpy(x))
    ours, _ = lstm_forward(x, params)
    assert_close(ours, ref.numpy(), atol=1e-12, what="ours vs torch on to_torch(params)")
    last, _ = lstm_forward(x, params, return_sequences=False)
    assert_close(last, h_n[0].numpy(), atol=1e-12, what="last state vs h_n")


def test_tmva_conversion_round_trip_and_layout(rng):
    F, H = 3, 4
    params = random_params(rng, F, H)
    slices = to_tmva(params)
    assert sorted(slices) == sorted([f"W{k}" for k in range(8)] + [f"b{k}" for k in range(4)])
    W, U, b = params["W"], params["U"], params["b"]
    for k, gate in enumerate("ifgo"):  # TMVA's slice k is gate k of (i, f, g, o)
        cols = slice(k * H, (k + 1) * H)
        assert slices[f"W{k}"].shape == (H, F), f"W{k} ({gate})"
        assert slices[f"W{k + 4}"].shape == (H, H), f"W{k + 4} ({gate})"
        assert slices[f"b{k}"].shape == (H, 1), f"b{k} ({gate})"
        assert np.array_equal(slices[f"W{k}"], W[:, cols].T), f"W{k} = W_{gate}"
        assert np.array_equal(slices[f"W{k + 4}"], U[:, cols].T), f"W{k + 4} = U_{gate}"
        assert np.array_equal(slices[f"b{k}"][:, 0], b[cols]), f"b{k} = b_{gate}"
    back = from_tmva(slices)
    for k in ("W", "U", "b"):
        assert np.array_equal(back[k], params[k]), k
    again = to_tmva(back)
    for k, v in slices.items():
        assert np.array_equal(again[k], v), k
    # every slice name appears once among TMVA's XML tags
    assert sorted(s for _, s in L.TMVA_XML_TAGS) == sorted(slices)


def test_tmva_equations_from_slices(rng):
    """TMVA's forward pass (LSTMLayer.h), written from the slices: proves the slice mapping."""
    N, T, F, H = 3, 4, 2, 5
    params = random_params(rng, F, H)
    x = rng.normal(size=(N, T, F))
    s = to_tmva(params)

    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))

    h, c = np.zeros((N, H)), np.zeros((N, H))
    ref = []
    for t in range(T):
        xt = x[:, t]
        i = sigmoid(xt @ s["W0"].T + h @ s["W4"].T + s["b0"].T)  # input gate
        f = sigmoid(xt @ s["W1"].T + h @ s["W5"].T + s["b1"].T)  # forget gate
        g = np.tanh(xt @ s["W2"].T + h @ s["W6"].T + s["b2"].T)  # candidate
        o = sigmoid(xt @ s["W3"].T + h @ s["W7"].T + s["b3"].T)  # output gate
        c = f * c + i * g
        h = o * np.tanh(c)
        ref.append(h)
    ours, _ = lstm_forward(x, params)
    assert_close(ours, np.stack(ref, axis=1), atol=1e-14, what="ours vs TMVA's equations")


# --------------------------------------------------------------------------- dtypes and errors


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_follows_the_inputs(kernel, dtype):
    rng = np.random.default_rng(6)
    params = random_params(rng, 3, 4, dtype=np.float64)  # params are cast to x's dtype
    x = rng.normal(size=(2, 5, 3)).astype(dtype)
    h, cache = lstm_forward(x, params)
    dx, grads = lstm_backward(np.ones_like(h), cache)
    assert h.dtype == dtype and dx.dtype == dtype
    for k in GRAD_KEYS:
        assert grads[k].dtype == dtype, k
    last, _ = lstm_forward(x, params, return_sequences=False)
    assert last.dtype == dtype
    h_int, _ = lstm_forward(np.ones((2, 5, 3), dtype=int), params)
    assert h_int.dtype == np.float64


def test_output_shapes(rng):
    params = random_params(rng, 3, 4)
    x = rng.normal(size=(2, 5, 3))
    h, cache = lstm_forward(x, params)
    dx, grads = lstm_backward(np.ones_like(h), cache)
    assert h.shape == (2, 5, 4) and dx.shape == x.shape
    assert {k: v.shape for k, v in grads.items()} == {
        "W": (3, 16),
        "U": (4, 16),
        "b": (16,),
        "h0": (2, 4),
        "c0": (2, 4),
    }
    last, _ = lstm_forward(x, params, return_sequences=False)
    assert last.shape == (2, 4)


@pytest.mark.parametrize(
    "change, match",
    [
        ({"x": np.zeros((2, 5))}, r"x must be \(N, T, F\), got shape \(2, 5\)"),
        ({"x": np.zeros((2, 0, 3))}, r"no time steps"),
        ({"W": np.zeros((4, 16))}, r"W \(4, 16\).*expected W \(3, 4H\)"),
        ({"U": np.zeros((4, 12))}, r"U \(4, 12\)"),
        ({"b": np.zeros(15)}, r"b \(15,\)"),
        ({"h0": np.zeros((2, 3))}, r"h0 must be \(N, H\) = \(2, 4\), got \(2, 3\)"),
        ({"c0": np.zeros(4)}, r"c0 must be \(N, H\) = \(2, 4\), got \(4,\)"),
        ({"mask": np.ones((5, 2), dtype=bool)}, r"mask must be \(N, T\) = \(2, 5\), got \(5, 2\)"),
    ],
)
def test_bad_shapes_raise_value_error(rng, change, match):
    params = random_params(rng, 3, 4)
    args = {"x": rng.normal(size=(2, 5, 3)), "h0": None, "c0": None, "mask": None}
    for k, v in change.items():
        (params if k in params else args)[k] = v
    with pytest.raises(ValueError, match=match):
        lstm_forward(args["x"], params, args["h0"], args["c0"], mask=args["mask"])


@pytest.mark.parametrize("return_sequences", [True, False])
def test_backward_checks_dh_shape(rng, return_sequences):
    params = random_params(rng, 3, 4)
    h, cache = lstm_forward(rng.normal(size=(2, 5, 3)), params, return_sequences=return_sequences)
    expected = r"\(N, T, H\) = \(2, 5, 4\)" if return_sequences else r"\(N, H\) = \(2, 4\)"
    with pytest.raises(ValueError, match=rf"dh must be {expected}, got \(2, 4, 5\)"):
        lstm_backward(np.zeros((2, 4, 5)), cache)


# --------------------------------------------------------------------------- initialisation


@pytest.mark.parametrize("init", ["XAVIER", "XAVIERUNIFORM", "GAUSS", "UNIFORM"])
def test_init_lstm_params(init):
    F, H = 7, 5
    p = init_lstm_params(F, H, np.random.default_rng(1), init)
    assert p["W"].shape == (F, 4 * H) and p["U"].shape == (H, 4 * H) and p["b"].shape == (4 * H,)
    assert all(v.dtype == np.float32 for v in p.values())
    assert not p["b"].any(), "biases start at zero, as in TMVA"
    assert p["W"].std() > 0 and p["U"].std() > 0
    again = init_lstm_params(F, H, np.random.default_rng(1), init)
    other = init_lstm_params(F, H, np.random.default_rng(2), init)
    for k in ("W", "U", "b"):
        assert np.array_equal(p[k], again[k]), f"{k}: same seed, same weights"
    assert not np.array_equal(p["W"], other["W"])
    p64 = init_lstm_params(F, H, np.random.default_rng(1), init, dtype=np.float64)
    assert all(v.dtype == np.float64 for v in p64.values())


# --------------------------------------------------------------------------- kernels


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "variant", ["plain", "state", "mask-seq", "mask-last", "holes", "threads", "threads-holes"]
)
def test_compiled_and_numpy_paths_agree(dtype, variant):
    """The compiled kernels give the NumPy path's numbers to float rounding (the tolerances
    documented in ``_kernels``: float32 tanh approximation, GEMM summation order)."""
    pytest.importorskip("numba")
    rng = np.random.default_rng(8)
    # "threads": large enough for the compiled kernels to cut the batch into row blocks
    N, T, F, H = (64, 8, 16, 32) if variant.startswith("threads") else (9, 6, 4, 5)
    if variant.startswith("threads"):
        assert L._blocks(N, T, F + 1 + H, H) > 1 or L._numba_threads() == 1
    params = random_params(rng, F, H, dtype)
    x = rng.normal(size=(N, T, F)).astype(dtype)
    kw: dict = {}
    if variant == "state":
        kw = {"h0": rng.normal(size=(N, H)), "c0": rng.normal(size=(N, H))}
    elif variant.startswith("mask"):
        lengths = rng.integers(1, T + 1, N)
        kw = {"mask": np.arange(T)[None, :] < lengths[:, None]}
        kw["return_sequences"] = variant == "mask-seq"
    elif variant.endswith("holes"):
        kw = {"mask": rng.random((N, T)) < 0.7}
    R = rng.normal(size=(N, T, H) if kw.get("return_sequences", True) else (N, H))
    before = L.kernel_name()
    try:
        results = {}
        for name in ("numpy", "numba"):
            L.set_kernel(name)
            results[name] = run(x, params, R.astype(dtype), **kw)
    finally:
        L.set_kernel(before)
    (h_np, dx_np, g_np), (h_nb, dx_nb, g_nb) = results["numpy"], results["numba"]
    rel = 2e-6 if dtype == np.float32 else 1e-13
    assert_close(h_nb, h_np, rel=rel, what="h")
    assert_close(dx_nb, dx_np, rel=rel, what="dx")
    for k in GRAD_KEYS:
        assert_close(g_nb[k], g_np[k], rel=rel, what=f"d{k}")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("variant", ["plain", "state-last", "holes", "threads-holes"])
def test_inference_without_cache_equals_the_cached_forward(kernel, dtype, variant):
    """``keep_cache=False`` (inference: the compiled path writes no per-step arrays) gives the
    cached forward's output exactly: the same GEMM operands and gate arithmetic per row."""
    rng = np.random.default_rng(11)
    N, T, F, H = (64, 8, 16, 32) if variant.startswith("threads") else (9, 6, 4, 5)
    params = random_params(rng, F, H, dtype)
    x = rng.normal(size=(N, T, F)).astype(dtype)
    kw: dict = {}
    if variant == "state-last":
        kw = {"h0": rng.normal(size=(N, H)), "c0": rng.normal(size=(N, H))}
        kw["return_sequences"] = False
    elif variant.endswith("holes"):
        kw = {"mask": rng.random((N, T)) < 0.7}
    ref, cache = lstm_forward(x, params, **kw)
    out, none = lstm_forward(x, params, keep_cache=False, **kw)
    assert none is None and cache is not None
    assert out.dtype == ref.dtype == dtype
    assert np.array_equal(out, ref), f"max |inference - cached| {np.abs(out - ref).max()}"


def test_kernel_choice_from_environment(monkeypatch):
    before = L.kernel_name()
    try:
        monkeypatch.setenv(L.KERNEL_ENV, "numpy")
        L.set_kernel()
        assert L.kernel_name() == "numpy"
        monkeypatch.setenv(L.KERNEL_ENV, "fortran")
        with pytest.raises(ValueError, match="unknown LSTM kernel 'fortran'.*auto, numba, numpy"):
            L.set_kernel()
        with pytest.raises(ValueError, match="valid: auto, numba, numpy"):
            L.set_kernel("cuda")
    finally:
        L.set_kernel(before)


def test_works_without_numba(monkeypatch, rng):
    """With numba absent, ``auto`` falls back to NumPy and ``numba`` says how to install it."""
    before = L.kernel_name()
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba -> ImportError
    monkeypatch.setitem(sys.modules, "tmva_lstm.nn._kernels", None)
    monkeypatch.delattr(sys.modules["tmva_lstm.nn"], "_kernels", raising=False)
    try:
        L.set_kernel("auto")
        assert L.kernel_name() == "numpy"
        params = random_params(rng, 2, 3)
        h, cache = lstm_forward(rng.normal(size=(2, 4, 2)), params)
        lstm_backward(np.ones_like(h), cache)
        with pytest.raises(DependencyError, match=r"pip install 'tmva-lstm\[fast\]'"):
            L.set_kernel("numba")
    finally:
        monkeypatch.undo()
        L.set_kernel(before)


def test_kernels_compile_without_a_writable_cache(monkeypatch):
    """numba refuses ``cache=True`` when it finds no writable directory: compile in memory."""
    numba = pytest.importorskip("numba")
    from tmva_lstm.nn import _kernels

    def njit(**options):
        if options.get("cache"):
            raise RuntimeError("cannot cache function 'f': no locator available for file 'f.py'")
        return numba.njit(**options)

    monkeypatch.setattr(_kernels, "njit", njit)

    def add_one(a):  # pragma: no cover - compiled
        return a + 1

    assert _kernels._jit(add_one)(1.5) == 2.5


# --------------------------------------------------------------------------- recycled memory


def test_cache_survives_later_calls(kernel):
    """Working memory is recycled only once nothing refers to it: a cache kept across later
    forward and backward calls still gives its own gradients."""
    rng = np.random.default_rng(9)
    params = random_params(rng, 3, 4)
    x1, x2 = rng.normal(size=(5, 6, 3)), rng.normal(size=(5, 6, 3))
    R = rng.normal(size=(5, 6, 4))
    ref = run(x1, params, R)
    h1, cache1 = lstm_forward(x1, params)
    for _ in range(3):  # other calls in between, of the same and of other sizes
        run(x2, params, R)
        run(rng.normal(size=(2, 3, 3)), params, rng.normal(size=(2, 3, 4)))
    dx1, grads1 = lstm_backward(R, cache1)
    assert np.array_equal(h1, ref[0]) and np.array_equal(dx1, ref[1])
    for k in GRAD_KEYS:
        assert np.array_equal(grads1[k], ref[2][k]), k


@pytest.mark.parametrize("which", ["acts", "cs[2]"])
def test_views_of_a_dropped_cache_keep_their_memory(kernel, which):
    """One view of a cache's arrays, kept after the cache is gone, keeps its block busy."""
    rng = np.random.default_rng(10)
    params = random_params(rng, 3, 4)
    x = rng.normal(size=(5, 6, 3))
    _, cache = lstm_forward(x, params)
    view = cache.acts if which == "acts" else cache.cs[2]
    before = view.copy()
    del cache
    for _ in range(3):
        run(rng.normal(size=x.shape), params, rng.normal(size=(5, 6, 4)))
    assert np.array_equal(view, before), "a later call overwrote memory still in use"


def test_memory_is_recycled():
    if not L._RECYCLER.enabled:
        pytest.skip("recycling needs CPython's exact reference counts")
    rng = np.random.default_rng(11)
    params = random_params(rng, 3, 4)
    x, R = rng.normal(size=(5, 6, 3)), rng.normal(size=(5, 6, 4))
    run(x, params, R)
    blocks = [id(b) for b in L._RECYCLER.blocks]
    for _ in range(10):
        run(x, params, R)
    assert [id(b) for b in L._RECYCLER.blocks] == blocks, "a training loop reuses its blocks"
