"""Event-weighted losses, computed from the network's linear output (logits).

Normalisation as TMVA's ``Cpu/LossFunctions.hxx``: the loss is the weighted sum over the
batch divided by the batch size ``N`` (not by the sum of weights), and the gradient is
that of this value. ``logits``/``targets`` are ``(N,)`` or ``(N, K)``, ``weights (N,)``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["binary_cross_entropy", "mean_squared_error", "softmax_cross_entropy"]


def binary_cross_entropy(
    logits: np.ndarray, targets: np.ndarray, weights: np.ndarray
) -> tuple[float, np.ndarray]:
    """Weighted cross-entropy of ``sigmoid(logits)``; returns ``(loss, dlogits)``.

    Per output ``-y log s - (1 - y) log(1 - s)`` = ``softplus(z) - y z`` with
    ``softplus(z) = max(z, 0) + log1p(exp(-|z|))``: finite for any ``z``. For ``(N, K)``
    logits every output is an independent two-class term (TMVA's multiclass CROSSENTROPY)
    and the sum is divided by ``N K``, as TMVA.
    """
    z = logits
    n = z.size  # N K
    w = weights if z.ndim == 1 else weights[:, None]
    per_output = np.maximum(z, 0) - targets * z + np.log1p(np.exp(-np.abs(z)))  # (N,) or (N, K)
    loss = float(np.dot(weights, per_output if z.ndim == 1 else per_output.sum(axis=1))) / n
    s = 0.5 + 0.5 * np.tanh(0.5 * z)  # sigmoid
    dz = (s - targets) * w / n  # d loss / d z
    return loss, dz.astype(z.dtype, copy=False)


def mean_squared_error(
    outputs: np.ndarray, targets: np.ndarray, weights: np.ndarray
) -> tuple[float, np.ndarray]:
    """Weighted mean squared error (regression): ``sum_i w_i |o_i - t_i|^2 / (N K)``."""
    diff = outputs - targets
    if diff.ndim == 1:
        diff = diff[:, None]
    n, k = diff.shape
    loss = float(np.dot(weights, (diff * diff).sum(axis=1))) / (n * k)
    d = 2 * diff * weights[:, None] / (n * k)
    return loss, d.reshape(outputs.shape).astype(outputs.dtype, copy=False)


def softmax_cross_entropy(
    logits: np.ndarray, targets: np.ndarray, weights: np.ndarray
) -> tuple[float, np.ndarray]:
    """Weighted multiclass cross-entropy of ``softmax(logits (N, K))`` with one-hot ``targets``."""
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    log_p = shifted - log_norm  # (N, K)
    loss = float(np.dot(weights, -(targets * log_p).sum(axis=1))) / n
    d = (np.exp(log_p) - targets) * weights[:, None] / n
    return loss, d.astype(logits.dtype, copy=False)
