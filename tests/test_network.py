"""Activations, dense layer, losses and the whole layer stack against independent references."""

from __future__ import annotations

import numpy as np
import pytest

from tmva_lstm.errors import OptionError
from tmva_lstm.nn import activations
from tmva_lstm.nn.losses import binary_cross_entropy, mean_squared_error, softmax_cross_entropy
from tmva_lstm.nn.network import Network, flatten_params

torch = pytest.importorskip("torch")

TORCH_ACT = {
    "LINEAR": lambda z: z,
    "TANH": torch.tanh,
    "RELU": torch.relu,
    "SIGMOID": torch.sigmoid,
    "SYMMRELU": torch.abs,
    "SOFTSIGN": torch.nn.functional.softsign,
    "GAUSS": lambda z: torch.exp(-z * z),
}


@pytest.mark.parametrize("name", activations.ACTIVATIONS)
def test_activation_and_derivative_match_torch(name, rng):
    z = rng.normal(size=(7, 5)) * 3
    z[0, 0] = 0.3  # keep clear of the kinks at 0
    da = rng.normal(size=z.shape)
    a = activations.forward(name, z)
    dz = activations.backward(name, z, a, da)
    zt = torch.tensor(z, requires_grad=True)
    at = TORCH_ACT[name](zt)
    (at * torch.tensor(da)).sum().backward()
    np.testing.assert_allclose(a, at.detach().numpy(), rtol=0, atol=1e-14, err_msg="ours vs torch")
    np.testing.assert_allclose(dz, zt.grad.numpy(), rtol=0, atol=1e-13, err_msg="ours vs torch")


def test_sigmoid_is_finite_for_huge_inputs():
    z = np.array([-1e4, -50.0, 0.0, 50.0, 1e4])
    s = activations.sigmoid(z)
    assert np.all(np.isfinite(s)) and s[0] == 0.0 and s[2] == 0.5 and s[-1] == 1.0


def test_binary_cross_entropy_matches_torch_weighted(rng):
    z = rng.normal(size=50) * 5
    z[:2] = [80.0, -80.0]  # stable from logits
    y = (rng.random(50) > 0.5).astype(float)
    w = rng.random(50) * 2
    loss, dz = binary_cross_entropy(z, y, w)
    zt = torch.tensor(z, requires_grad=True)
    ref = torch.nn.functional.binary_cross_entropy_with_logits(
        zt, torch.tensor(y), weight=torch.tensor(w), reduction="sum"
    ) / len(z)
    ref.backward()
    assert abs(loss - ref.item()) < 1e-12, f"ours {loss} vs torch {ref.item()}"
    np.testing.assert_allclose(dz, zt.grad.numpy(), atol=1e-15)


def test_mse_and_softmax_cross_entropy_match_torch(rng):
    o, t, w = rng.normal(size=(6, 3)), rng.normal(size=(6, 3)), rng.random(6)
    loss, d = mean_squared_error(o, t, w)
    ot = torch.tensor(o, requires_grad=True)
    ref = (torch.tensor(w)[:, None] * (ot - torch.tensor(t)) ** 2).sum() / o.size
    ref.backward()
    assert abs(loss - ref.item()) < 1e-12
    np.testing.assert_allclose(d, ot.grad.numpy(), atol=1e-15)
    onehot = np.eye(3)[rng.integers(0, 3, 6)]
    loss, d = softmax_cross_entropy(o, onehot, w)
    ot = torch.tensor(o, requires_grad=True)
    per = torch.nn.functional.cross_entropy(ot, torch.tensor(onehot.argmax(1)), reduction="none")
    ref = (torch.tensor(w) * per).sum() / 6
    ref.backward()
    assert abs(loss - ref.item()) < 1e-12
    np.testing.assert_allclose(d, ot.grad.numpy(), atol=1e-15)


LAYOUTS = [
    "LSTM|4|3|5|0|1,RESHAPE|FLAT,DENSE|6|TANH,LINEAR",
    "LSTM|4,DENSE|5|SOFTSIGN,DENSE|3|GAUSS,LINEAR",
    "LSTM|3|0|0|0|1,LSTM|2,DENSE|4|SYMMRELU,DENSE|1|SIGMOID",
    "LSTM|2|0|0|0|1,DENSE|4|RELU,LINEAR",  # implicit flatten of a sequence
]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_network_gradients_by_finite_differences(layout, rng):
    net = Network.from_layout(layout, time_steps=5, features=3)
    params = net.init_params(rng, "XAVIER", np.float64)
    for d in params.values():  # non-zero biases so every path is exercised
        d["b"] += rng.normal(size=d["b"].shape) * 0.1
    x = rng.normal(size=(4, 5, 3))
    mask = np.ones((4, 5), dtype=bool)
    mask[1, 3:] = False
    y, w = np.array([1.0, 0.0, 1.0, 0.0]), rng.random(4) + 0.5

    def loss_of() -> float:
        out = net.logits(params, x, mask)[:, 0]
        return binary_cross_entropy(out, y, w)[0]

    out, caches = net.forward(params, x, mask)
    _, dz = binary_cross_entropy(out[:, 0], y, w)
    grads = flatten_params(net.backward(params, dz[:, None], caches))
    eps = 1e-6
    for key, p in flatten_params(params).items():
        num = np.empty_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + eps
            up = loss_of()
            p[i] = old - eps
            down = loss_of()
            p[i] = old
            num[i] = (up - down) / (2 * eps)
        np.testing.assert_allclose(
            grads[key], num, rtol=1e-6, atol=1e-9, err_msg=f"{key}: ours vs FD"
        )


def test_layout_resolution_and_explicit_string():
    net = Network.from_layout("LSTM|10|30|10|0|1,RESHAPE|FLAT,DENSE|64|TANH,LINEAR", 10, 30)
    assert net.to_layout() == "LSTM|10|30|10|0|1,RESHAPE|FLAT,DENSE|64|TANH,DENSE|1|LINEAR"
    n_params = sum(
        a.size for a in flatten_params(net.init_params(np.random.default_rng(0))).values()
    )
    assert n_params == 8169  # TMVA's count for the tutorial network (reference section 3.3)
    assert Network.from_layout(net.to_layout(), 10, 30) == net


@pytest.mark.parametrize(
    ("layout", "fragment"),
    [
        ("LSTM|10|20|10|0|1,LINEAR", "declares input size 20 but receives 30"),
        ("LSTM|10|30|12|0|1,LINEAR", "declares 12 time steps but the input has 10"),
        ("LSTM|10,LSTM|5,LINEAR", "receives a single vector"),
        ("LSTM|10,DENSE|3|LINEAR", "the last layer has width 3"),
    ],
)
def test_layout_that_does_not_fit_the_input(layout, fragment):
    with pytest.raises(OptionError, match=fragment.replace("|", r"\|")):
        Network.from_layout(layout, 10, 30)
