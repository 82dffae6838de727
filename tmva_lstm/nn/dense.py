"""A fully connected layer ``a = f(x W + b)`` and the flatten step between layers.

Axes: ``N`` events, ``I`` inputs, ``O`` outputs. Parameters: ``W (I, O)``, ``b (O,)``.
(TMVA stores the transposed ``(O, I)`` matrix; conversion happens only at export.)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import activations

__all__ = ["DenseCache", "dense_forward", "dense_backward"]


class DenseCache(NamedTuple):
    x: np.ndarray  # (N, I)
    z: np.ndarray  # (N, O) pre-activation
    a: np.ndarray  # (N, O) activation
    W: np.ndarray  # (I, O)
    activation: str


def dense_forward(
    x: np.ndarray, params: dict[str, np.ndarray], activation: str = "LINEAR"
) -> tuple[np.ndarray, DenseCache]:
    """``x (N, I)`` -> ``a (N, O)``."""
    W, b = params["W"], params["b"]
    z = x @ W  # (N, I) @ (I, O) -> (N, O)
    z += b
    a = activations.forward(activation, z)
    return a, DenseCache(x, z, a, W, activation)


def dense_backward(da: np.ndarray, cache: DenseCache) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``da (N, O)`` -> ``dx (N, I)`` and grads ``W (I, O)``, ``b (O,)``."""
    dz = activations.backward(cache.activation, cache.z, cache.a, da)  # (N, O)
    dW = cache.x.T @ dz  # (I, N) @ (N, O) -> (I, O)
    db = dz.sum(axis=0)  # (O,)
    dx = dz @ cache.W.T  # (N, O) @ (O, I) -> (N, I)
    return dx, {"W": dW, "b": db}
