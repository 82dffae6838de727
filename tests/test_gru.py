"""Tests of tmva_lstm.nn.gru against independent oracles.

* ``torch.nn.GRU`` (autograd; PyTorch puts the reset gate after the matmul) for the forward
  pass and every gradient, ``b_hn`` included, float64 and float32, with and without ``h0``,
  both return modes, padded batches through ``pack_padded_sequence``;
* for the reset gate before the matmul (TMVA's default, which no torch module implements):
  the same equations written step by step in torch and differentiated by autograd;
* central finite differences over every parameter entry, the initial state and the inputs,
  for both placements, with masks;
* TMVA's ``TBasicGRULayer`` equations (GRULayer.h, both ``resetGateAfter`` values) written
  from the slices of :func:`to_tmva`;
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
from tmva_lstm.nn.gru import (
    TMVA_XML_TAGS,
    _blocks,
    from_tmva,
    from_torch,
    gru_backward,
    gru_forward,
    init_gru_params,
    to_tmva,
    to_torch,
)

SHAPES = [(3, 5, 4, 6), (1, 7, 3, 5), (4, 1, 3, 2), (5, 6, 1, 4), (4, 6, 3, 1), (6, 12, 5, 8)]
PLACEMENT = pytest.mark.parametrize("reset_after", [False, True], ids=["before", "after"])


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.fixture(params=["numpy", "numba"])
def kernel(request):
    yield from use_kernel(request.param)


def random_params(rng, F, H, dtype=np.float64, scale=0.5, b_hn=False):
    p = {
        "W": rng.normal(0, scale, (F, 3 * H)).astype(dtype),
        "U": rng.normal(0, scale, (H, 3 * H)).astype(dtype),
        "b": rng.normal(0, scale, 3 * H).astype(dtype),
    }
    if b_hn:
        p["b_hn"] = rng.normal(0, scale, H).astype(dtype)
    return p


def run(x, params, dh, **kw):
    h, cache = gru_forward(x, params, **kw)
    dx, grads = gru_backward(dh, cache)
    return h, dx, grads


def torch_case(torch, rng, N, T, F, H, dtype):
    """Random inputs and an ``nn.GRU`` with both biases random; our params from it."""
    tdtype = torch.float64 if dtype == np.float64 else torch.float32
    module = torch.nn.GRU(F, H, batch_first=True).to(tdtype)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.normal(0, 0.5, tuple(p.shape)).astype(dtype)))
    state = {k: v.detach().numpy() for k, v in module.state_dict().items()}
    x = rng.normal(size=(N, T, F)).astype(dtype)
    h0 = rng.normal(0, 0.5, (N, H)).astype(dtype)
    return from_torch(state), module, x, h0


def torch_grads(tg: dict, dh0) -> dict:
    """Torch's gradients in our names: ``b_r``, ``b_z`` get both biases' (equal) gradients."""
    H = tg["bias_hh_l0"].shape[0] // 3
    assert_close(tg["bias_hh_l0"][: 2 * H], tg["bias_ih_l0"][: 2 * H], rel=1e-6, what="b_hh")
    return {
        "W": tg["weight_ih_l0"].T,
        "U": tg["weight_hh_l0"].T,
        "b": tg["bias_ih_l0"],
        "b_hn": tg["bias_hh_l0"][2 * H :],
        "h0": dh0,
    }


def torch_equations(torch, params, x, h0, mask, reset_after, return_sequences, R):
    """The module docstring's equations step by step in torch (masked steps carry the state,
    output zero), differentiated by autograd: ``(y, dx, grads)``."""
    t = {k: torch.from_numpy(np.array(v)).requires_grad_(True) for k, v in params.items()}
    xt = torch.from_numpy(x).requires_grad_(True)
    h = torch.from_numpy(h0).requires_grad_(True)
    h_first = h
    H = h0.shape[1]
    W, U, b = t["W"], t["U"], t["b"]
    outs = []
    for s in range(x.shape[1]):
        xs = xt[:, s] @ W + b  # (N, 3H)
        hu = h @ U[:, : 2 * H]
        r = torch.sigmoid(xs[:, :H] + hu[:, :H])
        z = torch.sigmoid(xs[:, H : 2 * H] + hu[:, H:])
        if reset_after:
            g = h @ U[:, 2 * H :] + (t["b_hn"] if "b_hn" in t else 0.0)
            n = torch.tanh(xs[:, 2 * H :] + r * g)
        else:
            n = torch.tanh(xs[:, 2 * H :] + (r * h) @ U[:, 2 * H :])
        new = (1 - z) * n + z * h
        if mask is not None:
            keep = torch.from_numpy(mask[:, s])[:, None]
            new = torch.where(keep, new, h)
            outs.append(torch.where(keep, new, torch.zeros_like(new)))
        else:
            outs.append(new)
        h = new
    y = torch.stack(outs, 1) if return_sequences else h
    (y * torch.from_numpy(R)).sum().backward()
    grads = {k: v.grad.numpy() for k, v in t.items()}
    grads["h0"] = h_first.grad.numpy()
    return y.detach().numpy(), xt.grad.numpy(), grads


# --------------------------------------------------------------------------- torch parity


@pytest.mark.parametrize("return_sequences", [True, False], ids=["seq", "last"])
@pytest.mark.parametrize("with_state", [True, False], ids=["h0", "zero-state"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "N{}-T{}-F{}-H{}".format(*s))
def test_torch_gru_parity_float64(torch, kernel, shape, with_state, return_sequences):
    """Reset gate after the matmul = torch.nn.GRU, with PyTorch's b_hn."""
    N, T, F, H = shape
    rng = np.random.default_rng(sum(shape))
    params, module, x, h0 = torch_case(torch, rng, N, T, F, H, np.float64)
    if not with_state:
        h0 = np.zeros_like(h0)
    R = rng.normal(size=(N, T, H) if return_sequences else (N, H))
    ref_h, ref_dx, tg, dh0, _ = torch_module_run(torch, module, x, R, h0, return_sequences)
    ref_g = torch_grads(tg, dh0)
    h, dx, grads = run(
        x,
        params,
        R,
        h0=h0 if with_state else None,
        return_sequences=return_sequences,
        reset_after=True,
    )
    assert_close(h, ref_h, atol=1e-10, what="h")
    assert_close(dx, ref_dx, atol=1e-10, what="dx")
    assert sorted(grads) == sorted(ref_g)
    for k in ref_g:
        assert_close(grads[k], ref_g[k], atol=1e-10, what=f"d{k}")


@pytest.mark.parametrize("return_sequences", [True, False], ids=["seq", "last"])
@pytest.mark.parametrize(
    "shape", SHAPES[:3] + SHAPES[-1:], ids=lambda s: "N{}-T{}-F{}-H{}".format(*s)
)
def test_reset_before_matches_torch_autograd(torch, kernel, shape, return_sequences):
    """TMVA's default placement against the same equations in torch autograd, with h0."""
    N, T, F, H = shape
    rng = np.random.default_rng(sum(shape) + 1)
    params = random_params(rng, F, H)
    x, h0 = rng.normal(size=(N, T, F)), rng.normal(0, 0.5, (N, H))
    R = rng.normal(size=(N, T, H) if return_sequences else (N, H))
    ref_h, ref_dx, ref_g = torch_equations(torch, params, x, h0, None, False, return_sequences, R)
    h, dx, grads = run(x, params, R, h0=h0, return_sequences=return_sequences)
    assert_close(h, ref_h, atol=1e-10, what="h")
    assert_close(dx, ref_dx, atol=1e-10, what="dx")
    for k in ("W", "U", "b", "h0"):
        assert_close(grads[k], ref_g[k], atol=1e-10, what=f"d{k}")


@pytest.mark.parametrize("shape", [(16, 20, 8, 12), (32, 10, 30, 10)])
def test_torch_gru_parity_float32(torch, kernel, shape):
    N, T, F, H = shape
    rng = np.random.default_rng(7)
    params, module, x, h0 = torch_case(torch, rng, N, T, F, H, np.float32)
    R = rng.normal(size=(N, T, H)).astype(np.float32)
    ref_h, ref_dx, tg, dh0, _ = torch_module_run(torch, module, x, R, h0, True)
    ref_g = torch_grads(tg, dh0)
    h, dx, grads = run(x, params, R, h0=h0, reset_after=True)
    for name, ours, ref in [("h", h, ref_h), ("dx", dx, ref_dx)] + [
        (f"d{k}", grads[k], ref_g[k]) for k in ref_g
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
    x[~mask] = rng.normal(size=(int((~mask).sum()), F))
    R = rng.normal(size=(N, T, H) if return_sequences else (N, H)).astype(dtype)
    ref_h, ref_dx, tg, dh0, ref_seq = torch_module_run(
        torch, module, x, R, h0, return_sequences, lengths
    )
    ref_g = torch_grads(tg, dh0)
    h, dx, grads = run(
        x, params, R, h0=h0, mask=mask, return_sequences=return_sequences, reset_after=True
    )
    tol = {"atol": 1e-10} if dtype == np.float64 else {"rel": 1e-5}
    assert_close(h, ref_h, **tol, what="h")
    assert_close(dx, ref_dx, **tol, what="dx")
    for k in ref_g:
        assert_close(grads[k], ref_g[k], **tol, what=f"d{k}")
    assert not dx[~mask].any(), "dx at padded steps must be zero"
    if return_sequences:
        assert not h[~mask].any() and not ref_seq[~mask].any()


@pytest.mark.parametrize("return_sequences", [True, False], ids=["seq", "last"])
def test_reset_before_with_holes_matches_torch_autograd(torch, kernel, return_sequences):
    rng = np.random.default_rng(12)
    N, T, F, H = 5, 6, 3, 4
    params = random_params(rng, F, H)
    x, h0 = rng.normal(size=(N, T, F)), rng.normal(0, 0.5, (N, H))
    mask = rng.random((N, T)) < 0.6
    R = rng.normal(size=(N, T, H) if return_sequences else (N, H))
    ref_h, ref_dx, ref_g = torch_equations(torch, params, x, h0, mask, False, return_sequences, R)
    h, dx, grads = run(x, params, R, h0=h0, mask=mask, return_sequences=return_sequences)
    assert_close(h, ref_h, atol=1e-10, what="h")
    assert_close(dx, ref_dx, atol=1e-10, what="dx")
    for k in ("W", "U", "b", "h0"):
        assert_close(grads[k], ref_g[k], atol=1e-10, what=f"d{k}")


@PLACEMENT
def test_masked_step_is_a_deleted_step(kernel, rng, reset_after):
    params = random_params(rng, 2, 3, b_hn=reset_after)
    x = rng.normal(size=(3, 6, 2))
    mask = np.ones((3, 6), dtype=bool)
    mask[:, 2] = False
    kw = {"return_sequences": False, "reset_after": reset_after}
    last, _ = gru_forward(x, params, mask=mask, **kw)
    ref, _ = gru_forward(np.delete(x, 2, axis=1), params, **kw)
    assert_close(last, ref, atol=1e-15, what="h_T with step 2 masked vs deleted")


# --------------------------------------------------------------------------- finite differences


@PLACEMENT
@pytest.mark.parametrize("case", ["plain", "masked-last", "holes-seq"])
def test_finite_differences_every_entry(kernel, case, reset_after):
    rng = np.random.default_rng(5)
    N, T, F, H = 2, 4, 2, 3
    params = random_params(rng, F, H, b_hn=reset_after)
    inputs = {"x": rng.normal(size=(N, T, F)), "h0": rng.normal(0, 0.5, (N, H))}
    kw: dict = {"reset_after": reset_after}
    if case == "masked-last":
        kw.update(mask=prefix_mask([3, 1], T), return_sequences=False)
    elif case == "holes-seq":
        kw.update(mask=np.array([[True, False, True, True], [False, True, True, False]]))
    R = rng.normal(size=(N, T, H) if kw.get("return_sequences", True) else (N, H))

    def loss() -> float:
        return float(np.sum(gru_forward(inputs["x"], params, inputs["h0"], **kw)[0] * R))

    _, cache = gru_forward(inputs["x"], params, inputs["h0"], **kw)
    dx, grads = gru_backward(R, cache)
    analytic = {**grads, "x": dx}
    assert sorted(grads) == sorted([*params, "h0"])
    for name in [*params, "h0", "x"]:
        arr = params[name] if name in params else inputs[name]
        numeric = finite_differences(loss, arr)
        assert_close(analytic[name], numeric, rel=1e-7, what=f"d{name} vs finite differences")


# --------------------------------------------------------------------------- conversions


def test_torch_conversion_round_trip_and_torch_runs_the_same(torch, rng):
    N, T, F, H = 4, 5, 3, 6
    params = random_params(rng, F, H, b_hn=True)
    back = from_torch(to_torch(params))
    for k in params:
        assert np.array_equal(back[k], params[k]), k
    module = torch.nn.GRU(F, H, batch_first=True).to(torch.float64)
    with torch.no_grad():
        for name, value in to_torch(params).items():
            getattr(module, name).copy_(torch.from_numpy(value))
    x = rng.normal(size=(N, T, F))
    with torch.no_grad():
        ref, h_n = module(torch.from_numpy(x))
    ours, _ = gru_forward(x, params, reset_after=True)
    assert_close(ours, ref.numpy(), atol=1e-12, what="ours vs torch on to_torch(params)")
    # TMVA-style parameters (no b_hn) go to torch with a zero b_hn
    plain = random_params(rng, F, H)
    assert not to_torch(plain)["bias_hh_l0"].any()


@PLACEMENT
def test_tmva_conversion_round_trip_and_equations(rng, reset_after):
    """TMVA's GRULayer.h forward pass (ResetGate, UpdateGate, CandidateValue, CellForward)
    written from the slices of to_tmva: proves the slice mapping and both placements."""
    N, T, F, H = 3, 4, 2, 5
    params = random_params(rng, F, H)
    s = to_tmva(params)
    shapes = {f"W{k}": (H, F) for k in range(3)} | {f"W{k}": (H, H) for k in range(3, 6)}
    assert {k: v.shape for k, v in s.items()} == shapes | {f"b{k}": (H, 1) for k in range(3)}
    assert sorted(slot for _, slot in TMVA_XML_TAGS) == sorted(s)
    back = from_tmva(s)
    for k in ("W", "U", "b"):
        assert np.array_equal(back[k], params[k]), k

    def sigmoid(v):
        return 1.0 / (1.0 + np.exp(-v))

    x = rng.normal(size=(N, T, F))
    h, ref = np.zeros((N, H)), []
    for t in range(T):
        xt = x[:, t]
        r = sigmoid(xt @ s["W0"].T + h @ s["W3"].T + s["b0"].T)  # fWeightsResetGate(State)
        u = sigmoid(xt @ s["W1"].T + h @ s["W4"].T + s["b1"].T)  # fWeightsUpdateGate(State)
        if reset_after:
            c = np.tanh(xt @ s["W2"].T + r * (h @ s["W5"].T) + s["b2"].T)
        else:
            c = np.tanh(xt @ s["W2"].T + (r * h) @ s["W5"].T + s["b2"].T)
        h = u * h + (1 - u) * c  # CellForward
        ref.append(h)
    ours, _ = gru_forward(x, params, reset_after=reset_after)
    assert_close(ours, np.stack(ref, 1), atol=1e-14, what="ours vs TMVA's equations")


def test_b_hn_is_refused_where_it_has_no_meaning(rng):
    params = random_params(rng, 3, 4, b_hn=True)
    with pytest.raises(ValueError, match="to_tmva.*b_hn"):
        to_tmva(params)
    with pytest.raises(ValueError, match="b_hn.*reset_after=True"):
        gru_forward(rng.normal(size=(2, 3, 3)), params)
    params["b_hn"][:] = 0.0  # a zero b_hn is TMVA's reset-after GRU exactly
    assert len(to_tmva(params)) == 9
    with pytest.raises(ValueError, match=r"b_hn must be \(H,\)"):
        gru_forward(rng.normal(size=(2, 3, 3)), {**params, "b_hn": np.zeros(5)}, reset_after=True)


# --------------------------------------------------------------------------- kernels, dtypes


VARIANTS = ["plain", "state", "mask-seq", "mask-last", "holes", "threads", "threads-holes"]


def kernel_case(rng, dtype, variant, reset_after):
    """``(x, params, kw)`` of one agreement case; "threads" cases are large enough for the
    compiled kernels to cut the batch into row blocks."""
    N, T, F, H = (64, 8, 16, 64) if variant.startswith("threads") else (9, 6, 4, 5)
    if variant.startswith("threads"):
        assert L._numba_threads() == 1 or _blocks(N, T, H, 3 * H) > 1
    # weights of spectral radius about 1: a float rounding is not amplified step after step
    params = random_params(rng, F, H, dtype, scale=min(0.5, H**-0.5), b_hn=reset_after)
    x = rng.normal(size=(N, T, F)).astype(dtype)
    kw: dict = {"reset_after": reset_after}
    if variant == "state":
        kw["h0"] = rng.normal(size=(N, H))
    elif variant.startswith("mask"):
        kw["mask"] = prefix_mask(rng.integers(1, T + 1, N), T)
        kw["return_sequences"] = variant == "mask-seq"
    elif variant.endswith("holes"):
        kw["mask"] = rng.random((N, T)) < 0.7
    return x, params, kw


@PLACEMENT
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("variant", VARIANTS)
def test_numba_and_numpy_paths_agree(dtype, variant, reset_after):
    """The compiled whole-sequence kernels give the NumPy path's numbers to float rounding
    (the tolerances documented in ``_recurrent_kernels``: float32 tanh approximation, BLAS
    summation order on row blocks)."""
    pytest.importorskip("numba")
    rng = np.random.default_rng(8)
    x, params, kw = kernel_case(rng, dtype, variant, reset_after)
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
    assert set(g_np) == set(g_nb)
    for k in g_np:
        assert_close(g_nb[k], g_np[k], rel=rel, what=f"d{k} numba vs numpy")


@PLACEMENT
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("variant", ["plain", "state", "mask-last", "threads-holes"])
def test_inference_without_cache_equals_the_cached_forward(kernel, dtype, variant, reset_after):
    """``keep_cache=False`` (inference: no per-step arrays on the compiled path) gives the
    cached forward's output exactly."""
    x, params, kw = kernel_case(np.random.default_rng(11), dtype, variant, reset_after)
    ref, cache = gru_forward(x, params, **kw)
    out, none = gru_forward(x, params, keep_cache=False, **kw)
    assert none is None and cache is not None and out.dtype == dtype
    assert np.array_equal(out, ref), f"max |inference - cached| {np.abs(out - ref).max()}"


@PLACEMENT
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_follows_the_inputs_and_shapes(kernel, dtype, rng, reset_after):
    params = random_params(rng, 3, 4)
    x = rng.normal(size=(2, 5, 3)).astype(dtype)
    h, cache = gru_forward(x, params, reset_after=reset_after)
    dx, grads = gru_backward(np.ones_like(h), cache)
    assert h.dtype == dtype and dx.dtype == dtype and h.shape == (2, 5, 4)
    assert {k: (v.shape, v.dtype) for k, v in grads.items()} == {
        "W": ((3, 12), dtype),
        "U": ((4, 12), dtype),
        "b": ((12,), dtype),
        "h0": ((2, 4), dtype),
    }
    assert gru_forward(x, params, return_sequences=False)[0].shape == (2, 4)


@PLACEMENT
def test_an_empty_batch_gives_empty_outputs_and_zero_gradients(kernel, rng, reset_after):
    params = random_params(rng, 3, 4, b_hn=reset_after)
    x = np.zeros((0, 5, 3))
    h, cache = gru_forward(x, params, reset_after=reset_after)
    dx, grads = gru_backward(np.ones_like(h), cache)
    assert h.shape == (0, 5, 4) and dx.shape == (0, 5, 3)
    assert all(not np.any(g) for g in grads.values())
    assert gru_forward(x, params, reset_after=reset_after, keep_cache=False)[0].shape == (0, 5, 4)


@pytest.mark.parametrize(
    "change, match",
    [
        ({"x": np.zeros((2, 5))}, r"x must be \(N, T, F\)"),
        ({"W": np.zeros((3, 8))}, r"W \(3, 8\).*expected W \(3, 3H\)"),
        ({"U": np.zeros((4, 4))}, r"U \(4, 4\)"),
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
        gru_forward(args["x"], params, args["h0"], mask=args["mask"])
    _, cache = gru_forward(rng.normal(size=(2, 5, 3)), random_params(rng, 3, 4), None, None, False)
    with pytest.raises(ValueError, match=r"gru_backward: dh must be \(N, H\) = \(2, 4\)"):
        gru_backward(np.zeros((2, 5, 4)), cache)


def test_init_gru_params():
    p = init_gru_params(7, 5, np.random.default_rng(1), "XAVIERUNIFORM")
    assert p["W"].shape == (7, 15) and p["U"].shape == (5, 15) and not p["b"].any()
    assert "b_hn" not in p, "TMVA's GRU has no recurrent candidate bias"
    r = np.sqrt(6.0 / (5 + 7))  # XAVIERUNIFORM bound of an (H x D) slice
    assert np.abs(p["W"]).max() <= r
