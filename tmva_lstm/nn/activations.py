"""Dense-layer activations with TMVA's names, each next to its derivative.

``forward(name, z) -> a`` and ``backward(name, z, a, da) -> dz``; ``z`` is the
pre-activation and ``a`` the activation (both ``(N, units)``). The definitions follow
TMVA's CPU backend (``Cpu/ActivationFunctions.hxx``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["ACTIVATIONS", "forward", "backward", "sigmoid"]

ACTIVATIONS = ("LINEAR", "TANH", "RELU", "SIGMOID", "SYMMRELU", "SOFTSIGN", "GAUSS")


def sigmoid(z: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-z)), computed as 0.5 + 0.5 tanh(z / 2): no overflow for any z."""
    return 0.5 + 0.5 * np.tanh(0.5 * z)


def forward(name: str, z: np.ndarray) -> np.ndarray:
    """Activation ``a = f(z)``."""
    if name == "LINEAR":
        return z
    if name == "TANH":
        return np.tanh(z)
    if name == "RELU":
        return np.maximum(z, 0)
    if name == "SIGMOID":
        return sigmoid(z)
    if name == "SYMMRELU":
        return np.abs(z)
    if name == "SOFTSIGN":
        return z / (1 + np.abs(z))
    if name == "GAUSS":
        return np.exp(-z * z)
    raise ValueError(f"unknown activation {name!r}; valid: {', '.join(ACTIVATIONS)}")


def backward(name: str, z: np.ndarray, a: np.ndarray, da: np.ndarray) -> np.ndarray:
    """``dz = da * f'(z)``."""
    if name == "LINEAR":
        return da
    if name == "TANH":
        return da * (1 - a * a)  # tanh' = 1 - tanh^2
    if name == "RELU":
        return da * (z > 0)  # 0 at z = 0, as TMVA
    if name == "SIGMOID":
        return da * a * (1 - a)  # s' = s (1 - s)
    if name == "SYMMRELU":
        return da * np.where(z < 0, -1, 1).astype(z.dtype)  # |z|' = sign(z), +1 at 0 as TMVA
    if name == "SOFTSIGN":
        d = 1 + np.abs(z)
        return da / (d * d)  # (z / (1 + |z|))' = 1 / (1 + |z|)^2
    if name == "GAUSS":
        return da * (-2 * z * a)  # exp(-z^2)' = -2 z exp(-z^2)
    raise ValueError(f"unknown activation {name!r}; valid: {', '.join(ACTIVATIONS)}")
