"""The training events: checks of the inputs, labels and targets, event weights, the
validation split, and the fingerprint that ties a checkpoint to its data."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from ..errors import (
    DataError,
    NonFiniteInputError,
    OptionError,
)
from ..model import InputTransform
from ..options import MethodOptions, parse_validation_size

# --------------------------------------------------------------------------- data checks


def prepare_weights(
    y: np.ndarray, weights: np.ndarray, class_names: list[str] | None = None
) -> np.ndarray:
    """Renormalise per class so each class's weights sum to its event count (TMVA NumEvents).

    ``y (N,)`` class indices; ``class_names`` names classes ``0..K-1`` (default: two-class,
    1 signal and 0 background). Regression passes ``y`` all zero and one name: one class.
    """
    w = np.asarray(weights, dtype=np.float64).copy()
    names = class_names or ["background", "signal"]
    for cls, name in enumerate(names):
        sel = y == cls
        total = w[sel].sum()
        if sel.any():
            if total <= 0:
                raise DataError(
                    f"the {name} events have a total weight of {total:g}; "
                    "check the weight expression"
                )
            w[sel] *= sel.sum() / total
    return w


def validation_split(
    n_val: int, rng: np.random.Generator, classes: np.ndarray | None = None, n: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n_val`` validation events: ``(train_positions, val_positions)``, each sorted.

    ``classes (N,)``: integer class of each event (0..K-1; for two classes 1 is signal). The
    draw is stratified: class k gets ``n_val * N_k / N`` events rounded by largest remainder,
    and at least one where ``n_val`` allows it and the class keeps a training event. Without
    ``classes`` (regression), ``n`` events and a plain random draw. Reproducible from ``rng``
    and independent of the order of the events within each class's positions.
    """
    if classes is None:
        if n is None:
            raise ValueError("validation_split needs classes or n")
        chosen = rng.permutation(n)[:n_val] if n_val > 0 else np.zeros(0, np.int64)
        val = np.sort(chosen).astype(np.int64)
        return np.setdiff1d(np.arange(n, dtype=np.int64), val, assume_unique=True), val
    classes = np.asarray(classes).reshape(-1)
    n = len(classes)
    if n_val <= 0:
        return np.arange(n, dtype=np.int64), np.zeros(0, np.int64)
    labels, counts = np.unique(classes, return_counts=True)  # sorted labels
    quota = n_val * counts / n
    take = np.floor(quota).astype(np.int64)
    for k in np.argsort(-(quota - take), kind="stable")[: n_val - take.sum()]:
        take[k] += 1  # largest remainders first
    for k in np.flatnonzero((take == 0) & (counts >= 2)):  # every class represented if possible
        donor = int(np.argmax(take))
        if take[donor] > 1:
            take[donor] -= 1
            take[k] = 1
    parts = []
    for label, k in zip(labels, take, strict=True):
        members = np.flatnonzero(classes == label)
        parts.append(members[rng.permutation(len(members))[:k]])
    val = np.sort(np.concatenate(parts)).astype(np.int64)
    keep = np.ones(n, dtype=bool)
    keep[val] = False
    return np.flatnonzero(keep).astype(np.int64), val


def _class_name(label: int, n_classes: int) -> str:
    if n_classes <= 2:
        return "signal" if label == 1 else "background"
    return f"class {label}"


_CHUNK = 8192  # events per pass over X in the checks, the transform fit and the fingerprint


@dataclass
class _Events:
    """The training sample as rows ``index`` of ``X``, in training order, without a copy of ``X``.

    ``X (N_all, T, F)`` may be a ``numpy.memmap`` larger than memory: it is only read batch by
    batch. ``y``, ``w`` (float64) and ``mask (M, T)`` are already in training order.
    """

    X: np.ndarray
    index: np.ndarray  # (M,) int64
    y: np.ndarray  # (M,) int64 class indices, or (M, n_targets) float64 regression targets
    w: np.ndarray  # (M,)
    mask: np.ndarray | None

    def __len__(self) -> int:
        return len(self.index)

    def take(self, positions: np.ndarray) -> _Events:
        """The events at ``positions``, in that order (no copy of ``X``)."""
        return _Events(
            self.X,
            self.index[positions],
            self.y[positions],
            self.w[positions],
            None if self.mask is None else self.mask[positions],
        )

    def chunks(self, start: int = 0, stop: int | None = None, size: int = _CHUNK):
        """``(positions slice, x)`` over the sample, ``size`` events at a time."""
        stop = len(self) if stop is None else stop
        for s in range(start, stop, size):
            e = min(s + size, stop)
            yield slice(s, e), self.X[self.index[s:e]]

    def batch(self, positions: np.ndarray, transform: InputTransform, dtype):
        """Transformed inputs ``(B, T, F)`` and mask of the events at ``positions``."""
        m = None if self.mask is None else self.mask[positions]
        x = self.X[self.index[positions]].astype(dtype, copy=False)
        return transform.apply(x, m), m


def _check_data(
    X: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None,
    mask: np.ndarray | None,
    options: MethodOptions,
    index: np.ndarray | None = None,
    n_classes: int = 2,
) -> _Events:
    """Check and select the training sample; ``n_classes`` is K for Multiclass."""
    if not isinstance(X, np.ndarray):
        X = np.asarray(X)
    if X.ndim == 2 and options.input_layout is not None:
        T, F = options.input_layout
        if X.shape[1] != T * F:
            raise OptionError(
                f"InputLayout={T}|{F} needs {T * F} input variables, the data have {X.shape[1]}"
            )
        X = X.reshape(len(X), T, F)
    if X.ndim != 3:
        raise DataError(f"training inputs must be (N, T, F), got shape {X.shape}; set InputLayout")
    if options.input_layout is not None and X.shape[1:] != tuple(options.input_layout):
        T, F = options.input_layout
        raise OptionError(
            f"InputLayout={T}|{F} does not match the data: {X.shape[1]} time steps of "
            f"{X.shape[2]} features; fix InputLayout or the data layout"
        )
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise DataError(f"training inputs must be numbers, got an array of {X.dtype}")
    kind = options.analysis_type
    y = _labels(y, kind, n_classes, len(X))
    try:
        w = np.ones(len(y)) if weights is None else np.asarray(weights, np.float64).reshape(-1)
    except (TypeError, ValueError) as err:
        raise DataError(f"weights must be numbers ({err})") from None
    if not (len(X) == len(y) == len(w)) or (mask is not None and np.shape(mask) != X.shape[:2]):
        raise DataError(
            f"inputs, labels, weights and mask disagree in length: {len(X)}, {len(y)}, {len(w)}"
            + ("" if mask is None else f", mask {np.shape(mask)}")
        )
    if index is not None and not np.issubdtype(np.asarray(index).dtype, np.integer):
        raise DataError(f"the event index must hold integers, not {np.asarray(index).dtype}")
    index = np.arange(len(X)) if index is None else np.asarray(index, dtype=np.int64).reshape(-1)
    if len(index) and (index.min() < 0 or index.max() >= len(X)):
        raise DataError(f"the event index must select rows 0..{len(X) - 1} of the inputs")
    y, w = y[index], w[index]
    mask = None if mask is None else np.asarray(mask, dtype=bool)[index]
    events = _Events(X, index, y, w, mask)
    keep = np.ones(len(index), dtype=bool)
    if options.ignore_neg_weights:
        keep &= w >= 0
    bad = ~np.isfinite(w)
    if kind == "REGRESSION":
        bad |= ~np.isfinite(y).all(axis=1)
    for pos, x in events.chunks():  # X is read in chunks: it may not fit in memory
        bad[pos] |= ~np.isfinite(x).reshape(len(x), -1).all(axis=1)
    if bad.any() and options.non_finite != "DROP":
        first = index[np.flatnonzero(bad)[:5]].tolist()
        raise NonFiniteInputError(
            f"{int(bad.sum())} training events have NaN or infinite inputs, weights or targets "
            f"(first entries {first}); fix the inputs or set NonFinite=DROP to drop them"
        )
    keep &= ~bad
    if not keep.all():
        events = _Events(X, index[keep], y[keep], w[keep], None if mask is None else mask[keep])
    if kind == "CLASSIFICATION":
        for cls, name in ((1, "signal"), (0, "background")):
            if not (events.y == cls).any():
                raise DataError(f"no {name} events in the training sample; both classes are needed")
    elif kind == "MULTICLASS":
        missing = np.setdiff1d(np.arange(n_classes), events.y)
        if len(missing):
            raise DataError(
                f"no training events of class {missing.tolist()} (of 0..{n_classes - 1}); "
                "every class needs events"
            )
    elif len(events) == 0:
        raise DataError("no training events left; check the inputs and targets")
    if not np.any(events.w != 0):
        raise DataError("all event weights are zero; check the weight expression")
    return events


def _labels(y, kind: str, n_classes: int, n: int) -> np.ndarray:
    """``y`` as class indices ``(N,)`` int64, or regression targets ``(N, M)`` float64."""
    y = np.asarray(y)
    if kind == "REGRESSION":
        if y.ndim not in (1, 2) or len(y) != n or y.dtype.kind not in "biuf":
            raise DataError(
                f"regression targets must be numbers of shape (N,) or (N, M) with N = {n}, "
                f"got {y.dtype} {y.shape}"
            )
        return y.astype(np.float64).reshape(n, -1)
    if y.ndim != 1 or len(y) != n:
        raise DataError(f"labels must have shape (N,) = ({n},), got {y.shape}")
    if y.dtype.kind not in "biuf" or (y.dtype.kind == "f" and not np.all(y == np.round(y))):
        raise DataError(f"labels must be integer class indices, got {y.dtype} values")
    labels = y.astype(np.int64)
    if kind == "CLASSIFICATION" and not np.isin(labels, (0, 1)).all():
        raise DataError(
            "labels must be 1 (signal) or 0 (background); for more classes set "
            "AnalysisType=Multiclass"
        )
    if kind == "MULTICLASS" and len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
        raise DataError(
            f"class indices must lie in 0..{n_classes - 1} ({n_classes} classes), got "
            f"{int(labels.min())}..{int(labels.max())}"
        )
    return labels


def _class_count(y, options: MethodOptions, class_names: list[str] | None) -> int:
    """K: the number of classes (Multiclass), from the names or the largest index."""
    if options.analysis_type != "MULTICLASS":
        return 2
    if class_names:
        return len(class_names)
    y = np.asarray(y)
    if y.size == 0 or y.dtype.kind not in "biuf":
        return 2
    k = int(np.max(y)) + 1
    if k < 2:
        raise DataError("Multiclass needs at least two classes; the labels hold only class 0")
    return k


def _fingerprint(events: _Events) -> str:
    """SHA-256 of the training sample (inputs in order, labels, weights, mask), read in chunks."""
    h = hashlib.sha256()
    for _, x in events.chunks():
        h.update(np.ascontiguousarray(x).tobytes())
    for a in (events.y, events.w, events.mask):
        if a is not None:
            h.update(f"{a.dtype}{a.shape}".encode())
            h.update(np.ascontiguousarray(a).tobytes())
    h.update(f"{events.X.dtype}{events.X.shape[1:]}{len(events)}".encode())
    return h.hexdigest()


def _split_events(events: _Events, options: MethodOptions, rng: np.random.Generator) -> _Events:
    """The events reordered as the training sample, then the validation sample (at the end)."""
    n_val = parse_validation_size(options.validation_size, len(events))
    if n_val <= 0 or n_val >= len(events):
        return events  # no validation, or no training events (refused in the loop)
    if options.analysis_type == "REGRESSION":  # no classes: a plain random draw
        train_pos, val_pos = validation_split(n_val, rng, None, len(events))
    else:
        train_pos, val_pos = validation_split(n_val, rng, events.y)
    return events.take(np.concatenate([train_pos, val_pos]))
