"""A trained network: architecture, weights, input (and target) transformation, options, history.

``Model.predict(X)`` gives what TMVA's method returns for its analysis type (``AnalysisType``):

* Classification: ``(N,)`` the signal probability, the sigmoid of the network output
  (``GetMvaValue``; NaN becomes -999, as MethodDL does);
* Multiclass: ``(N, K)`` class probabilities, the softmax of the outputs
  (``GetMulticlassValues``), columns in the order of ``Model.class_names``;
* Regression: ``(N, M)`` target values, the outputs transformed back to the targets' units
  (``GetRegressionValues``), columns in the order of ``Model.target_names``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import DataError
from .nn.heads import Head, head_for
from .nn.network import Network, Params
from .options import MethodOptions

__all__ = ["InputTransform", "TargetTransform", "History", "Model"]

SMALL_BATCH = 16  # at most this many events go through the compiled few-events path
_NO_MASK = np.ones((1, 1), dtype=bool)


@dataclass
class InputTransform:
    """Per-variable input transformation, fitted on the training sample.

    ``NONE``: identity. ``N`` (TMVA's Normalise): ``x' = 2 (x - min) / (max - min) - 1`` per
    variable, i.e. per (time step, feature) pair, so every variable spans [-1, 1] in training.
    Padded (masked) entries stay zero.
    """

    kind: str = "NONE"
    offset: np.ndarray | None = None  # (T, F): subtracted
    scale: np.ndarray | None = None  # (T, F): then multiplied

    @staticmethod
    def bounds(X: np.ndarray, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Per-variable minimum and maximum ``(T, F)`` over the valid entries (+inf/-inf if none)."""
        valid = np.ones(X.shape[:2], dtype=bool) if mask is None else mask
        lo = np.where(valid[:, :, None], X, np.inf).min(axis=0).astype(np.float64)  # (T, F)
        hi = np.where(valid[:, :, None], X, -np.inf).max(axis=0).astype(np.float64)
        return lo, hi

    @classmethod
    def from_bounds(cls, kind: str, lo: np.ndarray, hi: np.ndarray, dtype) -> InputTransform:
        """The transform that maps each variable's [lo, hi] to [-1, 1]."""
        if kind == "NONE":
            return cls()
        lo, hi = lo.copy(), hi.copy()
        empty = lo > hi  # a step no event reaches
        lo[empty], hi[empty] = -1.0, 1.0
        span = np.where(hi > lo, hi - lo, 1.0)
        offset = lo + 0.5 * (hi - lo)  # the mid-point maps to 0
        return cls(kind, offset.astype(dtype), (2.0 / span).astype(dtype))

    @classmethod
    def fit(cls, kind: str, X: np.ndarray, mask: np.ndarray | None = None) -> InputTransform:
        if kind == "NONE":
            return cls()
        return cls.from_bounds(kind, *cls.bounds(X, mask), X.dtype)

    @classmethod
    def fit_chunks(cls, kind: str, events, n: int, dtype) -> InputTransform:
        """Fit on the first ``n`` events of a training sample read chunk by chunk
        (``events.chunks``, as in :mod:`tmva_lstm.training`), for inputs larger than memory."""
        if kind == "NONE":
            return cls()
        T, F = events.X.shape[1:]
        lo, hi = np.full((T, F), np.inf), np.full((T, F), -np.inf)
        for pos, x in events.chunks(0, n):
            c_lo, c_hi = cls.bounds(x, None if events.mask is None else events.mask[pos])
            lo, hi = np.minimum(lo, c_lo), np.maximum(hi, c_hi)
        return cls.from_bounds(kind, lo, hi, dtype)

    def apply(self, X: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """``X (N, T, F)`` -> transformed copy (or ``X`` itself for NONE)."""
        if self.kind == "NONE":
            return X
        out = (X - self.offset) * self.scale
        if mask is not None:
            out *= mask[:, :, None]
        return out.astype(X.dtype, copy=False)


@dataclass
class TargetTransform:
    """Regression targets as MethodDL trains on them: TMVA's ``VarTransform=N`` normalises the
    targets too (``_V_,_T_``), each linearly to [-1, 1] on the training sample; predictions
    are transformed back (``GetRegressionValues`` calls ``InverseTransform``)."""

    kind: str = "NONE"
    offset: np.ndarray | None = None  # (M,) float64: subtracted
    scale: np.ndarray | None = None  # (M,) float64: then multiplied

    @classmethod
    def fit(cls, kind: str, targets: np.ndarray) -> TargetTransform:
        """``targets (N, M)`` of the training sample."""
        if kind == "NONE" or len(targets) == 0:
            return cls()
        lo, hi = targets.min(axis=0).astype(np.float64), targets.max(axis=0).astype(np.float64)
        span = np.where(hi > lo, hi - lo, 1.0)  # a constant target maps to 0
        return cls(kind, lo + 0.5 * (hi - lo), 2.0 / span)

    def apply(self, targets: np.ndarray) -> np.ndarray:
        return targets if self.kind == "NONE" else (targets - self.offset) * self.scale

    def inverse(self, values: np.ndarray) -> np.ndarray:
        return values if self.kind == "NONE" else values / self.scale + self.offset


@dataclass
class History:
    """Per-epoch record of a training, saved with the model."""

    epoch: list[int] = field(default_factory=list)  # 1-based, counted over all phases
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)  # NaN where not validated
    seconds: list[float] = field(default_factory=list)
    best_epoch: int = 0  # the epoch whose weights the model keeps (0: the initial weights)
    seed: int = 0  # the random seed actually used
    stop_reason: str = ""

    def append(self, epoch: int, train_loss: float, val_loss: float, seconds: float) -> None:
        self.epoch.append(epoch)
        self.train_loss.append(train_loss)
        self.val_loss.append(val_loss)
        self.seconds.append(seconds)


@dataclass
class Model:
    """Everything needed to score new events."""

    network: Network
    params: Params
    options: MethodOptions
    variable_names: list[str]
    transform: InputTransform = field(default_factory=InputTransform)
    history: History = field(default_factory=History)
    data_layout: str = ""  # how the ntuple's branches form sequences, e.g. "per-step:vars_time{t}"
    class_names: list[str] = field(default_factory=list)  # Multiclass: name of class k (column k)
    target_names: list[str] = field(default_factory=list)  # Regression: name of target m
    target_transform: TargetTransform = field(default_factory=TargetTransform)
    trained_with_mask: bool = False  # padded variable-length sequences (ONNX export needs lengths)
    # the compiled few-events path (see _event_path); rebuilt when params or transform change
    _event: tuple | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def analysis_type(self) -> str:
        """CLASSIFICATION, MULTICLASS or REGRESSION (the ``AnalysisType`` option)."""
        return self.options.analysis_type

    @property
    def head(self) -> Head:
        return head_for(self.options.analysis_type, self.options.error_strategy)

    @property
    def input_layout(self) -> tuple[int, int]:
        return self.network.time_steps, self.network.features

    @property
    def dtype(self) -> np.dtype:
        first = next(iter(self.params.values()))
        return next(iter(first.values())).dtype

    def logits(
        self, X: np.ndarray, mask: np.ndarray | None = None, batch_size: int = 4096
    ) -> np.ndarray:
        """Network output before the output function, ``(N, K)``, computed in batches."""
        X = np.asarray(X)
        T, F = self.input_layout
        if X.ndim == 2 and X.shape[1] == T * F:
            X = X.reshape(len(X), T, F)  # TMVA's flat variable order: step-major
        if X.ndim != 3 or X.shape[1:] != (T, F):
            raise DataError(
                f"inputs must be (N, {T}, {F}) or (N, {T * F}) for this model, got {X.shape}"
            )
        if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
            raise DataError(f"inputs must be numbers, got an array of {X.dtype}")
        if mask is not None:
            mask = np.asarray(mask)
            if mask.shape != (len(X), T):
                raise DataError(
                    f"mask must be (N, T) = ({len(X)}, {T}) (True on valid steps), got {mask.shape}"
                )
            mask = mask.astype(bool, copy=False)
        X = X.astype(self.dtype, copy=False)
        out = np.empty((len(X), self.network.n_outputs), dtype=self.dtype)
        for start in range(0, len(X), batch_size):
            stop = start + batch_size
            m = None if mask is None else mask[start:stop]
            xb = self.transform.apply(X[start:stop], m)
            out[start:stop] = self.network.logits(self.params, xb, m)
        return out

    def predict(
        self, X: np.ndarray, mask: np.ndarray | None = None, batch_size: int = 4096
    ) -> np.ndarray:
        """The method's output, float64: ``(N,)`` signal probability (Classification),
        ``(N, K)`` class probabilities (Multiclass), ``(N, M)`` target values (Regression).

        Classification: up to ``SMALL_BATCH`` events (a Reader's one event at a time) go
        through one compiled call for the whole network (:mod:`tmva_lstm.nn._eventkernel`);
        larger batches through the layers' batched passes. Both give the same scores to about
        1e-6.
        """
        X = np.asarray(X)
        if X.ndim in (2, 3) and len(X) <= SMALL_BATCH and X.dtype.kind in "biuf":
            event = self._event_path()
            if event is not None:  # anything unusual goes to logits(), which says what is wrong
                T, F = self.input_layout
                fits = X.shape[1:] == (T, F) or (X.ndim == 2 and X.shape[1] == T * F)
                if fits and (mask is None or np.shape(mask) == (len(X), T)):
                    return self._predict_events(event, X.reshape(len(X), T, F), mask)
        out = self.head.output(self.logits(X, mask, batch_size))
        if self.analysis_type == "REGRESSION":
            return self.target_transform.inverse(out)
        if self.analysis_type == "MULTICLASS":
            return out
        scores = out[:, 0]
        scores[np.isnan(scores)] = -999.0
        return scores

    def _predict_events(self, event: tuple, X: np.ndarray, mask) -> np.ndarray:
        kernel, prog, _, width, offset, scale, use_transform = event[1:]
        if mask is None:
            use_mask, mask = False, _NO_MASK
        else:
            mask = np.asarray(mask, dtype=bool)
            if mask.shape != X.shape[:2]:
                raise DataError(f"mask must be (N, T) = {X.shape[:2]}, got {mask.shape}")
            use_mask = True
        out = np.empty(len(X), dtype=np.float64)
        x = X.astype(self.dtype, copy=False)
        kernel(x, mask, use_mask, prog, offset, scale, use_transform, width, out)
        return out

    def _event_path(self) -> tuple | None:
        """The compiled few-events path for the current weights, or None where it does not
        apply (NumPy kernels chosen, numba missing, a layer it does not run). Built once and
        kept while the parameter arrays and the transform are the same objects; it reads the
        arrays themselves, so changes made in place are seen."""
        key = tuple(id(a) for layer in self.params.values() for a in layer.values())
        key += (
            id(self.network),
            id(self.options),
            id(self.transform.offset),
            id(self.transform.scale),
        )
        from .nn import lstm

        key += (lstm.kernel_name(),)
        if self._event is not None and self._event[0] == key:
            return self._event if self._event[1] is not None else None
        event: tuple = (key, None)
        if key[-1] == "numba" and self.analysis_type == "CLASSIFICATION":
            from .nn import _eventkernel

            built = _eventkernel.build_program(self.network, self.params, self.dtype)
            if built is not None:
                prog, arrays, width = built  # arrays: keeps the addresses in prog valid
                use_transform = self.transform.kind != "NONE"
                if use_transform:
                    offset = np.ascontiguousarray(self.transform.offset, dtype=self.dtype)
                    scale = np.ascontiguousarray(self.transform.scale, dtype=self.dtype)
                else:
                    offset = scale = np.zeros((1, 1), dtype=self.dtype)
                kernel = _eventkernel.predict_events
                event = (key, kernel, prog, arrays, width, offset, scale, use_transform)
        self._event = event
        return event if event[1] is not None else None

    # ------------------------------------------------------------------ persistence
    def to_xml_element(self):
        """The ``<Model>`` element that holds everything (goes under TMVA's ``<Weights>``)."""
        from .modelfile import model_to_element

        return model_to_element(self)

    @classmethod
    def from_xml_element(cls, element) -> Model:
        from .modelfile import model_from_element

        return model_from_element(element)

    def save(self, path: str | Path, title: str = "PyLSTM") -> Path:
        """Write a TMVA-style XML weight file, atomically."""
        from .modelfile import save_model

        return save_model(self, path, title=title)

    @classmethod
    def load(cls, path: str | Path) -> Model:
        from .modelfile import load_model

        return load_model(path)
