"""Samples where the right answer is known, for the Multiclass and Regression tests and for
``tests/torch_quality_types.py`` (which trains PyTorch models of the same shape on them).

* :func:`three_class_sample`: three classes whose sequences differ **only in their time
  structure**. Feature 0 is a stationary Gaussian AR(1) process ``x_t = rho x_{t-1} +
  sqrt(1 - rho^2) e_t`` with ``rho = +RHO`` (class 0), ``-RHO`` (class 1), ``0`` (class 2);
  feature 1 is white noise in all classes. Every time step has the same N(0, 1) marginal in
  every class, so only the correlations between steps tell the classes apart.
  :func:`bayes_accuracy` gives the best accuracy any classifier can reach (exact likelihoods).
* :func:`regression_sample`: white-noise sequences with two targets that are exact
  functions of the sequence: the time average of feature 0, and feature 1 at the *first*
  step (the network must carry it through all T steps).
"""

from __future__ import annotations

import numpy as np

T, F = 10, 2
RHO = 0.5
CLASS_RHO = (RHO, -RHO, 0.0)
CLASS_NAMES = ["smooth", "alternating", "white"]
TARGET_NAMES = ["mean_x0", "first_x1"]


def _ar1(rng: np.random.Generator, n: int, rho: float) -> np.ndarray:
    x = np.empty((n, T))
    x[:, 0] = rng.normal(size=n)
    for t in range(1, T):
        x[:, t] = rho * x[:, t - 1] + np.sqrt(1 - rho**2) * rng.normal(size=n)
    return x


def three_class_sample(n_per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``X (3n, T, F)`` float32 and class indices ``y (3n,)``, shuffled."""
    rng = np.random.default_rng(seed)
    X = np.concatenate(
        [np.stack([_ar1(rng, n_per_class, r), rng.normal(size=(n_per_class, T))], axis=2)
         for r in CLASS_RHO]
    )  # fmt: skip
    y = np.repeat(np.arange(3), n_per_class)
    order = rng.permutation(len(y))
    return X[order].astype(np.float32), y[order]


def bayes_accuracy(X: np.ndarray, y: np.ndarray) -> float:
    """Accuracy of the Bayes-optimal classifier (exact Gaussian likelihoods of feature 0)."""
    x = X[:, :, 0].astype(np.float64)
    logl = []
    for rho in CLASS_RHO:
        cov = rho ** np.abs(np.subtract.outer(np.arange(T), np.arange(T)))
        inv = np.linalg.inv(cov)
        logl.append(-0.5 * np.einsum("ni,ij,nj->n", x, inv, x) - 0.5 * np.linalg.slogdet(cov)[1])
    return float((np.argmax(np.stack(logl, axis=1), axis=1) == y).mean())


def regression_sample(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``X (n, T, F)`` float32 and targets ``(n, 2)``: 10 mean(x0) + 5 and 10 x1[0] + 5."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, T, F)).astype(np.float32)
    targets = np.stack([X[:, :, 0].mean(axis=1), X[:, 0, 1]], axis=1).astype(np.float64)
    return X, 10 * targets + 5  # not centred nor unit-sized: the target transform matters
