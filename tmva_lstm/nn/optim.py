"""Optimizers with TMVA's update rules (``TMVA/DNN/SGD.h``, ``Adam.h``, ``RMSProp.h``,
``Adagrad.h``, ``Adadelta.h``), over flat parameter dicts ``{name: array}``.

Each optimizer updates the parameters in place from gradients with the same keys, and keeps
its state as a flat dict of arrays with those keys, plus the step count, so a checkpoint can
store and restore it exactly.

    SGD       v = momentum v + g;                    p -= lr v
    ADAM      m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2
              alpha = lr sqrt(1 - b2^t) / (1 - b1^t); p -= alpha m / (sqrt(v) + eps)
    ADAGRAD   v += g^2;                              p -= lr g / sqrt(v + eps)
    RMSPROP   v = rho v + (1-rho) g^2; u = momentum u + lr g / sqrt(v + eps); p -= u
    ADADELTA  v = rho v + (1-rho) g^2; d = g sqrt(u + eps) / sqrt(v + eps)
              p -= lr d; u = rho u + (1-rho) d^2
"""

from __future__ import annotations

import numpy as np

__all__ = ["Optimizer", "make_optimizer", "OPTIMIZERS"]

Flat = dict[str, np.ndarray]

# Constants of TMVA's optimizers as MethodDL constructs them.
ADAM_BETA1, ADAM_BETA2, ADAM_EPS = 0.9, 0.999, 1e-7
RMSPROP_RHO, RMSPROP_EPS = 0.9, 1e-7
ADAGRAD_EPS = 1e-8
ADADELTA_RHO, ADADELTA_EPS = 0.95, 1e-8


class Optimizer:
    """Base: ``step(params, grads)`` updates ``params`` in place; ``state`` is checkpointable."""

    slots: tuple[str, ...] = ()

    def __init__(self, params: Flat, learning_rate: float, momentum: float = 0.0) -> None:
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.t = 0  # global step, incremented before each update as TMVA does
        self.state: dict[str, Flat] = {
            slot: {k: np.zeros_like(p) for k, p in params.items()} for slot in self.slots
        }

    def step(self, params: Flat, grads: Flat) -> None:
        self.t += 1
        for k, p in params.items():
            self._update(k, p, grads[k])

    def _update(self, k: str, p: np.ndarray, g: np.ndarray) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, np.ndarray]:
        """Flat ``{slot/name: array}`` plus ``t`` as a 0-d int64 array."""
        out = {f"{slot}/{k}": v for slot, d in self.state.items() for k, v in d.items()}
        out["t"] = np.array(self.t, dtype=np.int64)
        return out

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        self.t = int(state["t"])
        for slot, d in self.state.items():
            for k in d:
                d[k] = np.array(state[f"{slot}/{k}"], dtype=d[k].dtype)


class SGD(Optimizer):
    slots = ("velocity",)

    def _update(self, k, p, g):
        v = self.state["velocity"][k]
        v *= self.momentum
        v += g
        p -= self.learning_rate * v


class Adam(Optimizer):
    slots = ("m", "v")

    def step(self, params, grads):
        self.t += 1
        t = self.t
        self._alpha = float(self.learning_rate * np.sqrt(1 - ADAM_BETA2**t) / (1 - ADAM_BETA1**t))
        for k, p in params.items():
            self._update(k, p, grads[k])

    def _update(self, k, p, g):
        m, v = self.state["m"][k], self.state["v"][k]
        m *= ADAM_BETA1
        m += (1 - ADAM_BETA1) * g
        v *= ADAM_BETA2
        v += (1 - ADAM_BETA2) * (g * g)
        p -= self._alpha * m / (np.sqrt(v) + ADAM_EPS)


class Adagrad(Optimizer):
    slots = ("v",)

    def _update(self, k, p, g):
        v = self.state["v"][k]
        v += g * g
        p -= self.learning_rate * g / np.sqrt(v + ADAGRAD_EPS)


class RMSProp(Optimizer):
    slots = ("v", "u")

    def _update(self, k, p, g):
        v, u = self.state["v"][k], self.state["u"][k]
        v *= RMSPROP_RHO
        v += (1 - RMSPROP_RHO) * (g * g)
        u *= self.momentum
        u += self.learning_rate * g / np.sqrt(v + RMSPROP_EPS)
        p -= u


class Adadelta(Optimizer):
    slots = ("v", "u")

    def _update(self, k, p, g):
        v, u = self.state["v"][k], self.state["u"][k]
        v *= ADADELTA_RHO
        v += (1 - ADADELTA_RHO) * (g * g)
        d = g * np.sqrt(u + ADADELTA_EPS) / np.sqrt(v + ADADELTA_EPS)
        p -= self.learning_rate * d
        u *= ADADELTA_RHO
        u += (1 - ADADELTA_RHO) * (d * d)


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "SGD": SGD,
    "ADAM": Adam,
    "ADAGRAD": Adagrad,
    "RMSPROP": RMSProp,
    "ADADELTA": Adadelta,
}


def make_optimizer(
    name: str, params: Flat, learning_rate: float, momentum: float = 0.0
) -> Optimizer:
    """The optimizer TMVA calls ``name`` (ADAM, SGD, RMSPROP, ADAGRAD, ADADELTA)."""
    try:
        cls = OPTIMIZERS[name.upper()]
    except KeyError:
        raise ValueError(f"unknown Optimizer {name!r}; valid: {', '.join(OPTIMIZERS)}") from None
    return cls(params, learning_rate, momentum)
