"""Each optimizer against a hand calculation of TMVA's update rule (and torch where they agree)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tmva_lstm.nn.optim import make_optimizer

G1, G2 = np.array([0.5, -2.0]), np.array([-1.0, 0.25])  # gradients of two steps


def run(name, lr=0.1, momentum=0.0):
    p = {"w": np.array([1.0, -1.0])}
    opt = make_optimizer(name, p, lr, momentum)
    for g in (G1, G2):
        opt.step(p, {"w": g.copy()})
    return p["w"], opt


def test_sgd_momentum_by_hand():
    w, _ = run("SGD", lr=0.1, momentum=0.9)
    v1 = G1
    v2 = 0.9 * v1 + G2
    np.testing.assert_allclose(w, np.array([1.0, -1.0]) - 0.1 * v1 - 0.1 * v2, rtol=0, atol=1e-15)


def test_sgd_momentum_matches_torch():
    torch = pytest.importorskip("torch")
    t = torch.tensor([1.0, -1.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([t], lr=0.1, momentum=0.9)
    for g in (G1, G2):
        t.grad = torch.tensor(g)
        opt.step()
    w, _ = run("SGD", lr=0.1, momentum=0.9)
    np.testing.assert_allclose(w, t.detach().numpy(), atol=1e-15, err_msg="ours vs torch")


def test_adam_by_hand():
    w, opt = run("ADAM", lr=0.1)
    b1, b2, eps = 0.9, 0.999, 1e-7
    p, m, v = np.array([1.0, -1.0]), np.zeros(2), np.zeros(2)
    for t, g in enumerate((G1, G2), start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        alpha = 0.1 * math.sqrt(1 - b2**t) / (1 - b1**t)
        p = p - alpha * m / (np.sqrt(v) + eps)
    np.testing.assert_allclose(w, p, rtol=0, atol=1e-15)
    assert opt.t == 2


def test_adagrad_by_hand():
    w, _ = run("ADAGRAD", lr=0.1)
    v1 = G1**2
    v2 = v1 + G2**2
    expected = np.array([1.0, -1.0]) - 0.1 * G1 / np.sqrt(v1 + 1e-8) - 0.1 * G2 / np.sqrt(v2 + 1e-8)
    np.testing.assert_allclose(w, expected, rtol=0, atol=1e-15)


def test_rmsprop_by_hand():
    w, _ = run("RMSPROP", lr=0.1, momentum=0.5)
    v1 = 0.1 * G1**2
    u1 = 0.1 * G1 / np.sqrt(v1 + 1e-7)
    v2 = 0.9 * v1 + 0.1 * G2**2
    u2 = 0.5 * u1 + 0.1 * G2 / np.sqrt(v2 + 1e-7)
    np.testing.assert_allclose(w, np.array([1.0, -1.0]) - u1 - u2, rtol=0, atol=1e-15)


def test_adadelta_by_hand():
    w, _ = run("ADADELTA", lr=1.0)
    rho, eps = 0.95, 1e-8
    p, v, u = np.array([1.0, -1.0]), np.zeros(2), np.zeros(2)
    for g in (G1, G2):
        v = rho * v + (1 - rho) * g * g
        d = g * np.sqrt(u + eps) / np.sqrt(v + eps)
        p = p - d
        u = rho * u + (1 - rho) * d * d
    np.testing.assert_allclose(w, p, rtol=0, atol=1e-15)


@pytest.mark.parametrize("name", ["SGD", "ADAM", "ADAGRAD", "RMSPROP", "ADADELTA"])
def test_state_round_trip_continues_identically(name):
    p = {"w": np.array([1.0, -1.0])}
    opt = make_optimizer(name, p, 0.1, 0.5)
    opt.step(p, {"w": G1.copy()})
    q = {"w": p["w"].copy()}
    clone = make_optimizer(name, q, 0.1, 0.5)
    clone.load_state_dict({k: v.copy() for k, v in opt.state_dict().items()})
    opt.step(p, {"w": G2.copy()})
    clone.step(q, {"w": G2.copy()})
    assert np.array_equal(p["w"], q["w"])


def test_unknown_optimizer():
    with pytest.raises(ValueError, match="unknown Optimizer 'NADAM'"):
        make_optimizer("NADAM", {}, 0.1)
