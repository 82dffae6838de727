"""The in-memory result of reading: :class:`Dataset` (sequences, labels, weights, mask)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import (
    DataError,
)

__all__ = ["Dataset"]


# --------------------------------------------------------------------------------------
# Dataset
# --------------------------------------------------------------------------------------


@dataclass(repr=False, eq=False)  # arrays: compare them with NumPy, not ==
class Dataset:
    """Sequences, labels and weights of N events.

    ``X (N, T, F)``; ``y (N,)`` int64, 1 signal, 0 background, -1 unknown (scoring);
    ``weights (N,)`` float64; for the jagged layout ``mask (N, T)`` bool (True on valid
    steps, which come first) and ``lengths (N,)`` int64, else None. ``variable_names`` has
    T*F names in TMVA's order (variable ``j*F + k`` = step j, feature k). ``entries (N,)``
    are the events' entry numbers in their own tree, when read from a file.
    """

    X: np.ndarray  # (N, T, F)
    y: np.ndarray  # (N,) int64
    weights: np.ndarray  # (N,) float64
    mask: np.ndarray | None = None  # (N, T) bool, jagged layout only
    lengths: np.ndarray | None = None  # (N,) int64, jagged layout only
    variable_names: list[str] | None = None  # T*F names; None gives x[j][k]
    source: str = ""  # where the events came from
    entries: np.ndarray | None = None  # (N,) int64 entry numbers in their own tree
    n_dropped: int = 0  # events left out for NaN/Inf inputs (non_finite="drop")
    targets: np.ndarray | None = None  # (N, M) float64 regression targets (``targets=``)
    class_names: list[str] | None = None  # names of the classes y = 0..K-1 (load_classes)

    def __post_init__(self) -> None:
        self.X = np.asarray(self.X)
        if self.X.ndim != 3:
            raise DataError(f"Dataset.X must have shape (N, T, F), not {self.X.shape}")
        n, t, f = self.X.shape
        self.y = np.asarray(self.y, dtype=np.int64)
        self.weights = np.asarray(self.weights, dtype=np.float64)
        for name in ("y", "weights"):
            if getattr(self, name).shape != (n,):
                raise DataError(
                    f"Dataset.{name} must have shape ({n},), not {getattr(self, name).shape}"
                )
        if (self.mask is None) != (self.lengths is None):
            raise DataError("Dataset.mask and Dataset.lengths come together (jagged layout)")
        if self.mask is not None:
            self.mask = np.asarray(self.mask, dtype=bool)
            self.lengths = np.asarray(self.lengths, dtype=np.int64)
            if self.mask.shape != (n, t) or self.lengths.shape != (n,):
                raise DataError(
                    f"Dataset.mask must be ({n}, {t}) and lengths ({n},), not "
                    f"{self.mask.shape} and {self.lengths.shape}"
                )
        if self.variable_names is None:
            self.variable_names = [f"x[{j}][{k}]" for j in range(t) for k in range(f)]
        self.variable_names = list(self.variable_names)
        if len(self.variable_names) != t * f:
            raise DataError(
                f"Dataset has T*F = {t * f} variables but {len(self.variable_names)} variable names"
            )
        if self.targets is not None:
            self.targets = np.asarray(self.targets, dtype=np.float64)
            if self.targets.ndim != 2 or len(self.targets) != n:
                raise DataError(
                    f"Dataset.targets must have shape ({n}, M), not {self.targets.shape}"
                )
        if self.entries is not None:
            self.entries = np.asarray(self.entries, dtype=np.int64)
            if self.entries.shape != (n,):
                raise DataError(f"Dataset.entries must have shape ({n},)")

    def __len__(self) -> int:
        return self.X.shape[0]

    def __repr__(self) -> str:
        n, t, f = self.X.shape
        if self.class_names:
            counts = ", ".join(
                f"{name}={int(np.sum(self.y == k))}" for k, name in enumerate(self.class_names)
            )
        else:
            counts = f"signal={int(np.sum(self.y == 1))}, background={int(np.sum(self.y == 0))}"
        if np.any(self.y < 0):
            counts += f", unlabelled={int(np.sum(self.y < 0))}"
        masked = ", masked" if self.mask is not None else ""
        return (
            f"Dataset(N={n}, T={t}, F={f}, {counts}, dtype={self.X.dtype}{masked}, "
            f"source={self.source!r})"
        )

    @property
    def n_steps(self) -> int:
        """T."""
        return self.X.shape[1]

    @property
    def n_features(self) -> int:
        """F."""
        return self.X.shape[2]

    def subset(self, index: Any) -> Dataset:
        """The events selected by ``index`` (integer array, boolean mask or slice)."""
        if isinstance(index, (int, np.integer)):
            index = [index]
        return Dataset(
            X=self.X[index],
            y=self.y[index],
            weights=self.weights[index],
            mask=None if self.mask is None else self.mask[index],
            lengths=None if self.lengths is None else self.lengths[index],
            variable_names=self.variable_names,
            source=self.source,
            entries=None if self.entries is None else self.entries[index],
            targets=None if self.targets is None else self.targets[index],
            class_names=self.class_names,
        )

    @classmethod
    def concat(cls, datasets: Sequence[Dataset]) -> Dataset:
        """Join datasets of the same ``(T, F)``, variable names and masking, in order."""
        datasets = list(datasets)
        if not datasets:
            raise DataError("Dataset.concat needs at least one dataset")
        first = datasets[0]
        for d in datasets[1:]:
            if d.X.shape[1:] != first.X.shape[1:]:
                raise DataError(
                    f"cannot join datasets of (T, F) = {first.X.shape[1:]} from "
                    f"'{first.source}' and {d.X.shape[1:]} from '{d.source}'; every source "
                    "must have the same sequence layout"
                )
            if d.variable_names != first.variable_names:
                raise DataError(
                    f"cannot join datasets with different variable names ('{first.source}': "
                    f"{first.variable_names[0]}..., '{d.source}': {d.variable_names[0]}...)"
                )
            if (d.mask is None) != (first.mask is None):
                raise DataError("cannot join a masked (jagged) dataset with an unmasked one")
        if len(datasets) == 1:
            return first
        sources = list(dict.fromkeys(d.source for d in datasets if d.source))
        masked = first.mask is not None
        with_entries = all(d.entries is not None for d in datasets)
        with_targets = all(d.targets is not None for d in datasets)
        return cls(
            X=np.concatenate([d.X for d in datasets]),
            y=np.concatenate([d.y for d in datasets]),
            weights=np.concatenate([d.weights for d in datasets]),
            mask=np.concatenate([d.mask for d in datasets]) if masked else None,
            lengths=np.concatenate([d.lengths for d in datasets]) if masked else None,
            variable_names=first.variable_names,
            source="; ".join(sources),
            entries=np.concatenate([d.entries for d in datasets]) if with_entries else None,
            targets=np.concatenate([d.targets for d in datasets]) if with_targets else None,
            class_names=first.class_names,
        )
