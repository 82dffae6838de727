"""Tests of tmva_lstm.nn.rnn against independent oracles.

* ``torch.nn.RNN`` (autograd) for the forward pass and every gradient, float64 and float32,
  with and without ``h0``, both return modes, padded batches through ``pack_padded_sequence``;
* central finite differences over every parameter entry, the initial state and the inputs;
* TMVA's ``TBasicRNNLayer`` equations written out from the slices of :func:`to_tmva`;
* the NumPy path against the compiled whole-sequence kernels (agreement to float rounding).
"""

from __future__ import annotations

import numpy as np
import pytest
from recurrent_oracles import (
    assert_close,
    finite_differences,
    prefix_mask,
    torch_module_run,
    use_kernel,
)

from tmva_lstm.nn import lstm as L
from tmva_lstm.nn.rnn import (
    TMVA_XML_TAGS,
    _blocks,
    from_tmva,
    from_torch,
    init_rnn_params,
    rnn_backward,
    rnn_forward,
    to_tmva,
    to_torch,
)

GRAD_KEYS = ("W", "U", "b", "h0")
SHAPES = [(3, 5, 4, 6), (1, 7, 3, 5), (4, 1, 3, 2), (5, 6, 1, 4), (4, 6, 3, 1), (6, 12, 5, 8)]


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.fixture(params=["numpy", "numba"])
def kernel(request):
    yield from use_kernel(request.param)


def random_params(rng, F, H, dtype=np.float64, scale=0.5):
    return {
        "W": rng.normal(0, scale, (F, H)).astype(dtype),
        "U": rng.normal(0, scale, (H, H)).astype(dtype),
        "b": rng.normal(0, scale, H).astype(dtype),
    }


def run(x, params, dh, **kw):
    h, cache = rnn_forward(x, params, **kw)
    dx, grads = rnn_backward(dh, cache)
    return h, dx, grads


def torch_case(torch, rng, N, T, F, H, dtype):
    """Random inputs and an ``nn.RNN`` with both biases random; our params from it."""
    tdtype = torch.float64 if dtype == np.float64 else torch.float32
    module = torch.nn.RNN(F, H, batch_first=True).to(tdtype)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.normal(0, 0.5, tuple(p.shape)).astype(dtype)))
    state = {k: v.detach().numpy() for k, v in module.state_dict().items()}
    x = rng.normal(size=(N, T, F)).astype(dtype)
    h0 = rng.normal(0, 0.5, (N, H)).astype(dtype)
    return from_torch(state), module, x, h0


def torch_grads(torch_grads: dict, dh0) -> dict:
    """Torch's gradients in our names and layouts (bias_hh's equals bias_ih's)."""
    assert_close(
        torch_grads["bias_hh_l0"], torch_grads["bias_ih_l0"], rel=1e-6, what="torch b_hh vs b_ih"
    )
    return {
        "W": torch_grads["weight_ih_l0"].T,
        "U": torch_grads["weight_hh_l0"].T,
        "b": torch_grads["bias_ih_l0"],
        "h0": dh0,
    }


# --------------------------------------------------------------------------- torch parity


@pytest.mark.parametrize("return_sequences", [True, False], ids=["seq", "last"])
@pytest.mark.parametrize("with_state", [True, False], ids=["h0", "zero-state"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "N{}-T{}-F{}-H{}".format(*s))
def test_torch_parity_float64(torch, kernel, shape, with_state, return_sequences):
    N, T, F, H = shape
    rng = np.random.default_rng(sum(shape))
    params, module, x, h0 = torch_case(torch, rng, N, T, F, H, np.float64)
    if not with_state:
        h0 = np.zeros_like(h0)
    R = rng.normal(size=(N, T, H) if return_sequences else (N, H))
    ref_h, ref_dx, tg, dh0, _ = torch_module_run(torch, module, x, R, h0, return_sequences)
    ref_g = torch_grads(tg, dh0)

    h, dx, grads = run(
        x, params, R, h0=h0 if with_state else None, return_sequences=return_sequences
    )
    assert_close(h, ref_h, atol=1e-10, what="h")
    assert_close(dx, ref_dx, atol=1e-10, what="dx")
    for k in GRAD_KEYS:
        assert_close(grads[k], ref_g[k], atol=1e-10, what=f"d{k}")


@pytest.mark.parametrize("shape", [(16, 20, 8, 12), (32, 10, 30, 10)])
def test_torch_parity_float32(torch, kernel, shape):
    N, T, F, H = shape
    rng = np.random.default_rng(7)
    params, module, x, h0 = torch_case(torch, rng, N, T, F, H, np.float32)
    R = rng.normal(size=(N, T, H)).astype(np.float32)
    ref_h, ref_dx, tg, dh0, _ = torch_module_run(torch, module, x, R, h0, True)
    ref_g = torch_grads(tg, dh0)
    h, dx, grads = run(x, params, R, h0=h0)
    for name, ours, ref in [("h", h, ref_h), ("dx", dx, ref_dx)] + [
        (f"d{k}", grads[k], ref_g[k]) for k in GRAD_KEYS
    ]:
        assert ours.dtype == np.float32, f"{name}: dtype {ours.dtype}"
        assert_close(ours, ref, rel=1e-5, what=name)


@pytest.mark.parametrize("return_sequences", [True, False], ids=["seq", "last"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_mask_matches_packed_sequences(torch, kernel, dtype, return_sequences):
    N, T, F, H = 6, 7, 3, 4
    rng = np.random.default_rng(11)
    params, module, x, h0 = torch_case(torch, rng, N, T, F, H, dtype)
    lengths = np.array([3, 1, 7, 5, 1, 7])
    mask = prefix_mask(lengths, T)
    x[~mask] = rng.normal(size=(int((~mask).sum()), F))  # padding holds junk, not zeros
    R = rng.normal(size=(N, T, H) if return_sequences else (N, H)).astype(dtype)
    ref_h, ref_dx, tg, dh0, ref_seq = torch_module_run(
        torch, module, x, R, h0, return_sequences, lengths
    )
    ref_g = torch_grads(tg, dh0)
    h, dx, grads = run(x, params, R, h0=h0, mask=mask, return_sequences=return_sequences)
    tol = {"atol": 1e-10} if dtype == np.float64 else {"rel": 1e-5}
    assert_close(h, ref_h, **tol, what="h")
    assert_close(dx, ref_dx, **tol, what="dx")
    for k in GRAD_KEYS:
        assert_close(grads[k], ref_g[k], **tol, what=f"d{k}")
    assert not dx[~mask].any(), "dx at padded steps must be zero"
    if return_sequences:
        assert not h[~mask].any() and not ref_seq[~mask].any()


def test_masked_step_is_a_deleted_step(kernel, rng):
    params = random_params(rng, 2, 3)
    x = rng.normal(size=(3, 6, 2))
    mask = np.ones((3, 6), dtype=bool)
    mask[:, 2] = False
    last, _ = rnn_forward(x, params, mask=mask, return_sequences=False)
    ref, _ = rnn_forward(np.delete(x, 2, axis=1), params, return_sequences=False)
    assert_close(last, ref, atol=1e-15, what="h_T with step 2 masked vs deleted")


# --------------------------------------------------------------------------- finite differences


@pytest.mark.parametrize("case", ["plain", "masked-last", "holes-seq"])
def test_finite_differences_every_entry(kernel, case):
    rng = np.random.default_rng(5)
    N, T, F, H = 2, 4, 2, 3
    params = random_params(rng, F, H)
    inputs = {"x": rng.normal(size=(N, T, F)), "h0": rng.normal(0, 0.5, (N, H))}
    kw: dict = {}
    if case == "masked-last":
        kw = {"mask": prefix_mask([3, 1], T), "return_sequences": False}
    elif case == "holes-seq":
        kw = {"mask": np.array([[True, False, True, True], [False, True, True, False]])}
    R = rng.normal(size=(N, T, H) if kw.get("return_sequences", True) else (N, H))

    def loss() -> float:
        return float(np.sum(rnn_forward(inputs["x"], params, inputs["h0"], **kw)[0] * R))

    _, cache = rnn_forward(inputs["x"], params, inputs["h0"], **kw)
    dx, grads = rnn_backward(R, cache)
    analytic = {**grads, "x": dx}
    for name in ("W", "U", "b", "h0", "x"):
        arr = params[name] if name in params else inputs[name]
        numeric = finite_differences(loss, arr)
        assert_close(analytic[name], numeric, rel=1e-7, what=f"d{name} vs finite differences")


# --------------------------------------------------------------------------- conversions


def test_torch_conversion_round_trip_and_torch_runs_the_same(torch, rng):
    N, T, F, H = 4, 5, 3, 6
    params = random_params(rng, F, H)
    back = from_torch(to_torch(params))
    for k in ("W", "U", "b"):
        assert np.array_equal(back[k], params[k]), k
    module = torch.nn.RNN(F, H, batch_first=True).to(torch.float64)
    with torch.no_grad():
        for name, value in to_torch(params).items():
            getattr(module, name).copy_(torch.from_numpy(value))
    x = rng.normal(size=(N, T, F))
    with torch.no_grad():
        ref, h_n = module(torch.from_numpy(x))
    assert_close(rnn_forward(x, params)[0], ref.numpy(), atol=1e-12, what="ours vs torch")
    last, _ = rnn_forward(x, params, return_sequences=False)
    assert_close(last, h_n[0].numpy(), atol=1e-12, what="last state vs h_n")


def test_tmva_conversion_round_trip_and_equations(rng):
    """TMVA's RNNLayer.h forward pass written from the slices proves the slice mapping."""
    N, T, F, H = 3, 4, 2, 5
    params = random_params(rng, F, H)
    s = to_tmva(params)
    assert {k: v.shape for k, v in s.items()} == {"W0": (H, F), "W1": (H, H), "b0": (H, 1)}
    assert sorted(slot for _, slot in TMVA_XML_TAGS) == sorted(s)
    back = from_tmva(s)
    for k in ("W", "U", "b"):
        assert np.array_equal(back[k], params[k]), k
    x = rng.normal(size=(N, T, F))
    h, ref = np.zeros((N, H)), []
    for t in range(T):  # State = act(W_input . input + W_state . state + bias)
        h = np.tanh(x[:, t] @ s["W0"].T + h @ s["W1"].T + s["b0"].T)
        ref.append(h)
    assert_close(rnn_forward(x, params)[0], np.stack(ref, 1), atol=1e-14, what="vs TMVA")


# --------------------------------------------------------------------------- kernels, dtypes


VARIANTS = ["plain", "state", "mask-seq", "mask-last", "holes", "threads", "threads-holes"]


def kernel_case(rng, dtype, variant):
    """``(x, params, kw)`` of one agreement case; "threads" cases are large enough for the
    compiled kernels to cut the batch into row blocks."""
    N, T, F, H = (64, 8, 16, 64) if variant.startswith("threads") else (9, 6, 4, 5)
    if variant.startswith("threads"):
        assert L._numba_threads() == 1 or _blocks(N, T, F + 1 + H, H) > 1
    # weights of spectral radius about 1: a float rounding is not amplified step after step
    params = random_params(rng, F, H, dtype, scale=min(0.5, H**-0.5))
    x = rng.normal(size=(N, T, F)).astype(dtype)
    kw: dict = {}
    if variant == "state":
        kw = {"h0": rng.normal(size=(N, H))}
    elif variant.startswith("mask"):
        kw = {"mask": prefix_mask(rng.integers(1, T + 1, N), T)}
        kw["return_sequences"] = variant == "mask-seq"
    elif variant.endswith("holes"):
        kw = {"mask": rng.random((N, T)) < 0.7}
    return x, params, kw


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("variant", VARIANTS)
def test_numba_and_numpy_paths_agree(dtype, variant):
    """The compiled whole-sequence kernels give the NumPy path's numbers to float rounding
    (the tolerances documented in ``_recurrent_kernels``: float32 tanh approximation, BLAS
    summation order on row blocks)."""
    pytest.importorskip("numba")
    rng = np.random.default_rng(8)
    x, params, kw = kernel_case(rng, dtype, variant)
    N, T, _ = x.shape
    H = params["U"].shape[0]
    R = rng.normal(size=(N, T, H) if kw.get("return_sequences", True) else (N, H)).astype(dtype)
    before = L.kernel_name()
    try:
        results = {}
        for name in ("numpy", "numba"):
            L.set_kernel(name)
            results[name] = run(x, params, R, **kw)
    finally:
        L.set_kernel(before)
    (h_np, dx_np, g_np), (h_nb, dx_nb, g_nb) = results["numpy"], results["numba"]
    rel = 2e-6 if dtype == np.float32 else 1e-13
    assert_close(h_nb, h_np, rel=rel, what="h numba vs numpy")
    assert_close(dx_nb, dx_np, rel=rel, what="dx numba vs numpy")
    for k in GRAD_KEYS:
        assert_close(g_nb[k], g_np[k], rel=rel, what=f"d{k} numba vs numpy")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("variant", ["plain", "state", "mask-last", "threads-holes"])
def test_inference_without_cache_equals_the_cached_forward(kernel, dtype, variant):
    """``keep_cache=False`` (inference: no per-step arrays on the compiled path) gives the
    cached forward's output exactly."""
    x, params, kw = kernel_case(np.random.default_rng(11), dtype, variant)
    ref, cache = rnn_forward(x, params, **kw)
    out, none = rnn_forward(x, params, keep_cache=False, **kw)
    assert none is None and cache is not None and out.dtype == dtype
    assert np.array_equal(out, ref), f"max |inference - cached| {np.abs(out - ref).max()}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_follows_the_inputs_and_shapes(kernel, dtype, rng):
    params = random_params(rng, 3, 4)  # float64 parameters are cast to x's dtype
    x = rng.normal(size=(2, 5, 3)).astype(dtype)
    h, cache = rnn_forward(x, params)
    dx, grads = rnn_backward(np.ones_like(h), cache)
    assert h.dtype == dtype and dx.dtype == dtype and h.shape == (2, 5, 4)
    assert {k: (v.shape, v.dtype) for k, v in grads.items()} == {
        "W": ((3, 4), dtype),
        "U": ((4, 4), dtype),
        "b": ((4,), dtype),
        "h0": ((2, 4), dtype),
    }
    assert rnn_forward(x, params, return_sequences=False)[0].shape == (2, 4)


@pytest.mark.parametrize(
    "change, match",
    [
        ({"x": np.zeros((2, 5))}, r"x must be \(N, T, F\)"),
        ({"x": np.zeros((2, 0, 3))}, r"no time steps"),
        ({"W": np.zeros((4, 4))}, r"W \(4, 4\).*expected W \(3, H\)"),
        ({"b": np.zeros(5)}, r"b \(5,\)"),
        ({"h0": np.zeros((2, 3))}, r"h0 must be \(N, H\) = \(2, 4\), got \(2, 3\)"),
        ({"mask": np.ones((5, 2), dtype=bool)}, r"mask must be \(N, T\) = \(2, 5\)"),
    ],
)
def test_bad_shapes_raise_value_error(rng, change, match):
    params = random_params(rng, 3, 4)
    args = {"x": rng.normal(size=(2, 5, 3)), "h0": None, "mask": None}
    for k, v in change.items():
        (params if k in params else args)[k] = v
    with pytest.raises(ValueError, match=match):
        rnn_forward(args["x"], params, args["h0"], mask=args["mask"])
    h, cache = rnn_forward(rng.normal(size=(2, 5, 3)), random_params(rng, 3, 4))
    with pytest.raises(ValueError, match=r"rnn_backward: dh must be \(N, T, H\)"):
        rnn_backward(np.zeros((2, 4)), cache)


def test_init_rnn_params():
    p = init_rnn_params(7, 5, np.random.default_rng(1), "XAVIER")
    assert p["W"].shape == (7, 5) and p["U"].shape == (5, 5) and not p["b"].any()
    assert all(v.dtype == np.float32 for v in p.values())
    again = init_rnn_params(7, 5, np.random.default_rng(1), "XAVIER")
    assert all(np.array_equal(p[k], again[k]) for k in p)
