"""The training loop, with TMVA ``MethodDL``'s semantics, for the three analysis types.

* ``AnalysisType`` picks the output head (:mod:`tmva_lstm.nn.heads`): Classification
  (``y`` 1 signal / 0 background, sigmoid cross-entropy), Multiclass (``y`` class indices
  ``0..K-1``, one-hot targets, TMVA's ``ErrorStrategy`` loss, softmax output) or Regression
  (``y (N,)`` or ``(N, M)`` float targets, squared error, identity output; with
  ``VarTransform=N`` the targets are normalised to [-1, 1] as TMVA does).

* Validation: ``ValidationSize`` events drawn at random from the training sample, stratified
  by class (each class in proportion to its size, at least one event each where possible) by
  :func:`validation_split`, the first draw of the ``RandomSeed`` generator, so whatever order
  the events come in (``tl.load`` and TMVA's ``SplitMode=Block`` give all signal, then all
  background) both samples represent every class; regression draws plainly at random. TMVA's ``MethodDL`` takes the last events
  instead, which on class-ordered events validates on one class only. The counts per class
  are printed; a validation sample without some class, or a training that never improves on
  the initial weights, warns (``RuntimeWarning`` and the progress output). Event weights are
  renormalised per class so that each class's weights sum to its number of events (TMVA's
  default ``NormMode=NumEvents``; idempotent on events that TMVA already normalised);
  regression has one class, all events.
* Each epoch shuffles the whole training sample and takes ``N_train // BatchSize``
  mini-batches (leftovers are dropped, as TMVA), on every path (in memory, ``index=`` into a
  memory map, the TMVA binding). Loss: event-weighted cross-entropy from logits, plus the
  regularisation term when ``Regularization`` is L1 or L2.
* Every ``TestRepetitions`` epochs the validation loss is computed; an improvement keeps a
  copy of the weights and resets the convergence count, otherwise the count grows by
  ``TestRepetitions``. Training stops when the count exceeds ``ConvergenceSteps`` or at
  ``MaxEpochs``; the model keeps the best weights. Several phases (``TrainingStrategy``
  blocks separated by ``|``) run in turn, each from the previous phase's best weights.
* After every epoch a checkpoint (model + optimizer state + random-generator state) is written
  atomically; :func:`resume` continues from it and ends with the same weights, bit for bit,
  as an uninterrupted run on the same data.
"""

from __future__ import annotations

import hashlib
import math
import sys
import time
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np

from .errors import (
    DataError,
    ModelFileError,
    NonFiniteInputError,
    OptionError,
    TrainingDivergedError,
)
from .model import History, InputTransform, Model, TargetTransform
from .modelfile import (
    array_from_element,
    array_to_element,
    find_model_element,
    model_from_element,
    read_document,
    save_model,
)
from .nn.backend import default_dtype
from .nn.heads import Head, head_for
from .nn.network import Network, Params, flatten_params, unflatten_params
from .nn.optim import make_optimizer
from .options import MethodOptions, differences, help_text, parse_validation_size

__all__ = ["train", "resume", "prepare_weights", "validation_split", "Progress"]


# --------------------------------------------------------------------------- progress


class Progress:
    """What training prints (to stdout, as TMVA), unless ``Silent``.

    On a terminal: a ``tqdm`` bar over each epoch's batches, then the epoch's line. Elsewhere
    (batch jobs, HTCondor logs): one line per epoch, no bar. Before training, the sample sizes;
    after it, the best epoch and why training stopped. ``V`` adds the table's header lines.
    """

    def __init__(self, options: MethodOptions, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout
        tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.silent = options.silent
        self.enabled = not options.silent
        self.bar = self.enabled and tty
        self._tqdm = None

    def write(self, text: str) -> None:
        if self.enabled:
            self.stream.write(text + "\n")
            self.stream.flush()

    def note(self, text: str) -> None:
        """A line the user must see (the validation split, warnings): printed unless Silent."""
        if not self.silent:
            self.stream.write(text + "\n")
            self.stream.flush()

    def samples(self, counts: dict[str, dict[str, int]]) -> None:
        """``{"signal": {"after cut": n, "training": a, "test": b}, "background": {...}}``."""
        for cls, c in counts.items():
            self.write(f"PyLSTM: {cls:<10} " + ", ".join(f"{k} {v}" for k, v in c.items()))

    def header(self, n_train: int, n_val: int, phase: int, n_phases: int) -> None:
        self.write(
            f"PyLSTM: training phase {phase + 1}/{n_phases} on {n_train} events, "
            f"validating on {n_val}"
        )
        self.write(f"{'Epoch':>6} | {'Train Err.':>11} | {'Val. Err.':>11} | {'t(s)/epoch':>10} | "
                   f"{'nEvents/s':>10} | Conv. Steps")  # fmt: skip

    def batch(self, epoch: int, done: int, total: int) -> None:
        if not self.bar:
            return
        if self._tqdm is None:
            import shutil

            from tqdm import tqdm

            size = shutil.get_terminal_size()  # $COLUMNS/$LINES or 80x24 where the tty says 0
            self._tqdm = tqdm(total=total, desc=f"epoch {epoch}", file=self.stream, leave=False,
                              unit="batch", ncols=min(size.columns, 100), nrows=size.lines)  # fmt: skip
        self._tqdm.update(done - self._tqdm.n)

    def _close_bar(self) -> None:
        if self._tqdm is not None:
            self._tqdm.close()
            self._tqdm = None

    def epoch(
        self, epoch: int, train: float, val: float, seconds: float, n: int, conv: int
    ) -> None:
        self._close_bar()
        self.write(
            f"{epoch:>6} | {train:11.6f} | {val:11.6f} | {seconds:10.3f} | "
            f"{n / max(seconds, 1e-9):10.0f} | {conv}"
        )

    def finished(self, history: History, options: MethodOptions) -> None:
        """The best epoch, and why training stopped."""
        self._close_bar()
        last = options.training[-1]
        why = {
            "converged": f"converged: no better validation loss for ConvergenceSteps="
            f"{last.convergence_steps} epochs",
            "MaxEpochs reached": f"MaxEpochs={last.max_epochs} reached",
        }.get(history.stop_reason, history.stop_reason or "done")
        n = len(history.epoch)
        best = history.best_epoch
        kept = (
            f"best epoch {best} (validation loss {history.val_loss[best - 1]:.6f}), its weights kept"
            if 0 < best <= n
            else "no epoch improved on the initial weights: the initial weights are kept"
        )
        self.write(f"PyLSTM: training stopped after {n} epochs ({why}); {kept}")


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


def _training_warning(progress: Progress, text: str) -> None:
    """Warn loudly: a Python ``RuntimeWarning`` and a line in the progress output."""
    progress.note(f"PyLSTM: WARNING: {text}")
    warnings.warn(text, RuntimeWarning, stacklevel=3)


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


# --------------------------------------------------------------------------- the state


@dataclass
class _State:
    """Everything that changes during training: what a checkpoint stores."""

    params: Params
    best: Params
    history: History
    rng: np.random.Generator
    phase: int = 0
    phase_epoch: int = 0  # epochs completed in the current phase
    min_val: float = math.inf
    conv: int = 0
    optimizer_state: dict[str, np.ndarray] | None = None
    finished: bool = False
    data_id: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def _copy(params: Params) -> Params:
    return {layer: {k: v.copy() for k, v in d.items()} for layer, d in params.items()}


def _state_element(state: _State) -> ET.Element:
    bg = state.rng.bit_generator.state
    el = ET.Element(
        "TrainingState",
        Phase=str(state.phase),
        PhaseEpoch=str(state.phase_epoch),
        MinVal=repr(state.min_val),
        Conv=str(state.conv),
        Finished=str(int(state.finished)),
        DataId=state.data_id,
        BitGenerator=bg["bit_generator"],
        RngState=str(bg["state"]["state"]),
        RngInc=str(bg["state"]["inc"]),
        RngHasUint32=str(bg["has_uint32"]),
        RngUinteger=str(bg["uinteger"]),
    )
    best = ET.SubElement(el, "Best")
    for k, a in flatten_params(state.best).items():
        best.append(array_to_element(k, a))
    opt = ET.SubElement(el, "Optimizer")
    for k, a in (state.optimizer_state or {}).items():
        opt.append(array_to_element(k, a))
    return el


def _restore_state(model: Model, el: ET.Element, source: str) -> _State:
    try:
        rng = np.random.Generator(np.random.PCG64())
        if el.get("BitGenerator") != "PCG64":
            raise ValueError("bit generator")
        rng.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": int(el.get("RngState", "")), "inc": int(el.get("RngInc", ""))},
            "has_uint32": int(el.get("RngHasUint32", "")),
            "uinteger": int(el.get("RngUinteger", "")),
        }
        best_el, opt_el = el.find("Best"), el.find("Optimizer")
        best = unflatten_params(
            {a.get("Name", ""): array_from_element(a, source) for a in best_el.iter("Array")}
        )
        opt_state = {a.get("Name", ""): array_from_element(a, source) for a in opt_el.iter("Array")}
        return _State(
            params=model.params,
            best=best,
            history=model.history,
            rng=rng,
            phase=int(el.get("Phase", "")),
            phase_epoch=int(el.get("PhaseEpoch", "")),
            min_val=float(el.get("MinVal", "")),
            conv=int(el.get("Conv", "")),
            optimizer_state=opt_state or None,
            finished=el.get("Finished") == "1",
            data_id=el.get("DataId", ""),
        )
    except (TypeError, ValueError, AttributeError) as err:
        raise ModelFileError(f"{source}: the training state is malformed ({err})") from None


# --------------------------------------------------------------------------- the loop


def _val_loss(
    net, head: Head, params, events: _Events, targets, w, transform, dtype, start: int,
    batch: int = 2048,
):  # fmt: skip
    """Weighted mean loss over the events from ``start`` to the end (validation)."""
    n = len(events) - start
    if n <= 0:
        return math.nan
    total = 0.0
    for s in range(start, len(events), batch):
        pos = np.arange(s, min(s + batch, len(events)))
        x, m = events.batch(pos, transform, dtype)
        out = net.logits(params, x, m)
        loss, _ = head.loss(out, targets[pos], w[pos])
        total += loss * len(out)
    return total / n


def train(
    X: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None = None,
    options: MethodOptions | str | None = None,
    *,
    mask: np.ndarray | None = None,
    index: np.ndarray | None = None,
    variable_names: list[str] | None = None,
    class_names: list[str] | None = None,
    target_names: list[str] | None = None,
    checkpoint: str | Path | None = None,
    progress: Progress | None = None,
    dtype: np.dtype | type | None = None,
    on_epoch: Callable[[int], None] | None = None,
) -> Model:
    """Train the network that ``options`` describes on ``X (N, T, F)``.

    ``y`` by ``AnalysisType``: Classification ``(N,)`` 1 signal, 0 background; Multiclass
    ``(N,)`` class indices ``0..K-1`` (``class_names``: the K names, default ``class0..``);
    Regression ``(N,)`` or ``(N, M)`` float targets (``target_names``: the M names, default
    ``target0..``). ``weights (N,)``: event weights (ones if None), used by all three;
    ``mask (N, T)``: valid steps of variable-length sequences. ``X`` may also be
    ``(N, T*F)`` in TMVA's variable order (time step major) with ``InputLayout`` set.
    ``index``: the rows of ``X`` to train on, in training order (default: all, in order);
    ``X`` is never copied, so it can be a ``numpy.memmap`` larger than memory (see
    ``tmva_lstm.data.load(..., memmap=...)``): it is read batch by batch.
    ``checkpoint``: a path written after every epoch, for :func:`resume`.
    Returns the trained :class:`~tmva_lstm.model.Model` with the best validation weights.
    """
    if not isinstance(options, MethodOptions):
        options = MethodOptions.from_string(options or "")
    if options.help:
        print(help_text(options), file=sys.stdout, flush=True)
    head = head_for(options.analysis_type, options.error_strategy)  # checks ErrorStrategy
    n_classes = _class_count(y, options, class_names)
    events = _check_data(X, y, weights, mask, options, index, n_classes)
    dtype = np.dtype(dtype or default_dtype())
    if dtype not in (np.float32, np.float64):
        raise OptionError(f"dtype must be float32 or float64, not {dtype}")
    N, (T, F) = len(events), events.X.shape[1:]
    seed = options.random_seed or int(np.random.SeedSequence().entropy % (2**31 - 1)) + 1
    rng = np.random.default_rng(seed)
    data_id = _fingerprint(events) if checkpoint is not None else ""  # before the split
    events = _split_events(events, options, rng)  # the first draw of the seed's generator
    classes, targets = _output_names(head, events, class_names, target_names, n_classes)
    n_outputs = {"CLASSIFICATION": 1, "MULTICLASS": n_classes}.get(head.analysis_type, len(targets))
    network = Network.from_layout(options.layout, T, F, n_outputs)
    params = network.init_params(rng, options.weight_initialization, dtype)
    names = (
        list(variable_names)
        if variable_names
        else [f"x{t}_{f}" for t in range(T) for f in range(F)]
    )
    if len(names) != T * F:
        raise DataError(
            f"{len(names)} variable names for {T * F} inputs ({T} steps x {F} features)"
        )
    n_train = max(N - parse_validation_size(options.validation_size, N), 0)
    transform = InputTransform.fit_chunks(options.var_transform, events, n_train, dtype)
    model = Model(network, params, options, names, transform, History(seed=seed))
    model.class_names, model.target_names = classes, targets
    if head.analysis_type == "REGRESSION":
        model.target_transform = TargetTransform.fit(options.var_transform, events.y[:n_train])
    state = _State(params=params, best=_copy(params), history=model.history, rng=rng)
    state.data_id = data_id  # only resume() compares it: no extra pass over X otherwise
    return _run(model, state, events, checkpoint, progress, on_epoch)


def _output_names(head: Head, events: _Events, class_names, target_names, n_classes: int):
    """The class names (Multiclass) and target names (Regression) the model records."""
    classes: list[str] = []
    targets: list[str] = []
    if head.analysis_type == "MULTICLASS":
        classes = list(class_names) if class_names else [f"class{k}" for k in range(n_classes)]
    if head.analysis_type == "REGRESSION":
        m = events.y.shape[1]
        targets = list(target_names) if target_names else [f"target{j}" for j in range(m)]
        if len(targets) != m:
            raise DataError(f"{len(targets)} target names for {m} regression targets")
    if len(set(classes)) != len(classes) or len(set(targets)) != len(targets):
        raise DataError(f"class and target names must be unique, got {classes or targets}")
    return classes, targets


def resume(
    checkpoint: str | Path,
    X: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    mask: np.ndarray | None = None,
    index: np.ndarray | None = None,
    progress: Progress | None = None,
    on_epoch: Callable[[int], None] | None = None,
    options: MethodOptions | str | None = None,
) -> Model:
    """Continue a training from its checkpoint, on the same data; returns the trained model.

    ``options``: the option string of the run being continued (None: the checkpoint's). A
    different ``MaxEpochs`` or ``ConvergenceSteps`` of an unfinished training is honoured
    (the result is what an uninterrupted run with the new values gives), as are ``H``, ``V``
    and ``Silent``; any other difference raises :class:`OptionError` naming the keys.
    """
    root, source = read_document(checkpoint)
    model_el = find_model_element(root, source)
    state_el = model_el.find("TrainingState")
    if state_el is None:
        raise ModelFileError(
            f"{source} holds a model but no training state; it is not a checkpoint"
        )
    model = model_from_element(model_el, source)
    state = _restore_state(model, state_el, source)
    if options is not None:
        model.options = _resume_options(model.options, options, state, source)
    n_classes = len(model.class_names) if model.analysis_type == "MULTICLASS" else 2
    events = _check_data(X, y, weights, mask, model.options, index, n_classes)
    if _fingerprint(events) != state.data_id:
        raise DataError(
            f"{source}: the data differ from those the training started on; resume needs the same "
            "events in the same order"
        )
    events = _split_events(events, model.options, np.random.default_rng(model.history.seed))
    return _run(model, state, events, Path(checkpoint), progress, on_epoch)


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


def _report_validation(progress: Progress, events: _Events, n_train: int, model: Model) -> None:
    """Print the validation events per class; warn if a class of the training data lacks any."""
    if model.analysis_type == "REGRESSION":
        progress.note(f"PyLSTM: validation sample: {len(events) - n_train} events")
        return
    labels = np.unique(events.y)
    if model.analysis_type == "CLASSIFICATION":
        labels = labels[::-1]  # signal first

    def name(k: int) -> str:
        return model.class_names[k] if model.class_names else _class_name(k, len(labels))

    counts = [int(np.count_nonzero(events.y[n_train:] == k)) for k in labels]
    parts = [f"{c} {name(int(k))}" for k, c in zip(labels, counts, strict=True)]
    progress.note(f"PyLSTM: validation sample: {', '.join(parts)} events")
    missing = [name(int(k)) for k, c in zip(labels, counts, strict=True) if c == 0]
    if missing:
        _training_warning(
            progress,
            f"the validation sample ({len(events) - n_train} events) has no "
            f"{' or '.join(missing)} events, so early stopping and the choice of the best epoch "
            "are meaningless; raise ValidationSize or give more events of that class",
        )


_RESUME_FREE = ("H", "V", "Silent", "VerbosityLevel")  # change nothing in the result
_RESUME_EXTENDABLE = ("MaxEpochs", "ConvergenceSteps")  # while the training is unfinished


def _resume_options(old: MethodOptions, new, state: _State, source: str) -> MethodOptions:
    """The options a resumed training runs with, or OptionError naming what cannot change."""
    new = new if isinstance(new, MethodOptions) else MethodOptions.from_string(new)
    if new.input_layout is None:
        new = new.replace(input_layout=old.input_layout)
    changed = differences(old, new)
    fixed = [c for c in changed if c[0].split(" ")[0] not in _RESUME_FREE + _RESUME_EXTENDABLE]
    if fixed:
        listed = ", ".join(f"{k} ({a} -> {b})" for k, a, b in fixed)
        raise OptionError(
            f"{source}: cannot resume with different options: {listed}; give the options of "
            "the interrupted run, or train anew without --resume"
        )
    extended = [c for c in changed if c[0].split(" ")[0] in _RESUME_EXTENDABLE]
    if extended and state.finished:
        listed = ", ".join(f"{k} ({a} -> {b})" for k, a, b in extended)
        raise OptionError(
            f"{source}: the training finished ({state.history.stop_reason or 'done'}, best epoch "
            f"{state.history.best_epoch}); {listed} cannot continue it. Train anew without "
            "--resume"
        )
    return new


def _save_checkpoint(path: Path | None, model: Model, state: _State) -> None:
    """Write the current weights with the training state (atomically)."""
    if path is not None:
        model.params = state.params
        save_model(model, path, title="checkpoint", extra=_state_element(state))


def _run(model, state, events: _Events, checkpoint, progress, on_epoch) -> Model:
    model.trained_with_mask = events.mask is not None  # the ONNX export needs to know
    # Overflow in a diverging run is detected by the finiteness checks below, not by warnings.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _loop(model, state, events, checkpoint, progress, on_epoch)


def _loop(model, state, events: _Events, checkpoint, progress, on_epoch) -> Model:
    options, net, transform, dtype = model.options, model.network, model.transform, model.dtype
    progress = progress or Progress(options)
    checkpoint = None if checkpoint is None else Path(checkpoint)
    N = len(events)
    n_val = parse_validation_size(options.validation_size, N)
    n_train = N - n_val
    if n_train <= 0:
        raise OptionError(
            f"ValidationSize={options.validation_size} leaves no training events out of {N}; "
            "lower it (e.g. ValidationSize=20%)"
        )
    head = model.head
    if head.analysis_type == "REGRESSION":  # one class: all events
        w = prepare_weights(np.zeros(N, dtype=np.int64), events.w, ["regression"])
        targets = head.encode(model.target_transform.apply(events.y), net.n_outputs, dtype)
    else:
        w = prepare_weights(events.y, events.w, model.class_names or None)
        targets = head.encode(events.y, net.n_outputs, dtype)
    if n_val > 0 and not state.finished:
        _report_validation(progress, events, n_train, model)

    while state.phase < len(options.training) and not state.finished:
        phase = options.training[state.phase]
        if n_train < phase.batch_size:
            raise OptionError(
                f"BatchSize={phase.batch_size} is larger than the {n_train} training events left "
                f"after ValidationSize={options.validation_size}; lower BatchSize or ValidationSize"
            )
        flat = flatten_params(state.params)
        optimizer = make_optimizer(phase.optimizer, flat, phase.learning_rate, phase.momentum)
        if state.optimizer_state is not None:
            optimizer.load_state_dict(state.optimizer_state)
        if state.phase_epoch == 0:  # the phase starts: validation loss of the starting weights
            reg0, _ = net.regularization(state.params, phase.regularization, phase.weight_decay)
            val0 = _val_loss(net, head, state.params, events, targets, w, transform, dtype, n_train)
            state.min_val = val0 + reg0
            state.conv = 0
        progress.header(n_train, n_val, state.phase, len(options.training))
        n_batches = n_train // phase.batch_size
        while True:
            if state.phase_epoch >= phase.max_epochs or state.conv > phase.convergence_steps:
                break
            t0 = time.perf_counter()
            order = state.rng.permutation(n_train)
            losses = []
            for b in range(n_batches):
                idx = np.sort(order[b * phase.batch_size : (b + 1) * phase.batch_size])
                xb, mb = events.batch(idx, transform, dtype)  # positions < n_train
                out, caches = net.forward(state.params, xb, mb)
                loss, dz = head.loss(out, targets[idx], w[idx])
                grads = net.backward(state.params, dz, caches)
                reg, reg_grads = net.regularization(
                    state.params, phase.regularization, phase.weight_decay
                )
                for layer, g in reg_grads.items():
                    grads[layer]["W"] += g.astype(dtype, copy=False)
                flat_grads = flatten_params(grads)
                norm = math.sqrt(sum(float(np.vdot(g, g)) for g in flat_grads.values()))
                if not (math.isfinite(loss) and math.isfinite(norm)):
                    _diverged(model, state, checkpoint, loss, norm)
                if phase.clip_grad_norm and norm > phase.clip_grad_norm:
                    scale = phase.clip_grad_norm / norm
                    for g in flat_grads.values():
                        g *= scale
                optimizer.step(flat, flat_grads)
                losses.append(loss + reg)
                progress.batch(state.phase_epoch + 1, b + 1, n_batches)
            state.phase_epoch += 1
            epoch_no = len(state.history.epoch) + 1
            val = math.nan
            if state.phase_epoch % phase.test_repetitions == 0 and n_val > 0:
                reg, _ = net.regularization(state.params, phase.regularization, phase.weight_decay)
                val = _val_loss(
                    net, head, state.params, events, targets, w, transform, dtype, n_train
                )
                val += reg
                if not math.isfinite(val):
                    _diverged(model, state, checkpoint, val, math.nan)
                if val < state.min_val:
                    state.min_val, state.conv = val, 0
                    state.best = _copy(state.params)
                    state.history.best_epoch = epoch_no
                else:
                    state.conv += phase.test_repetitions
            elif n_val == 0:
                state.best = _copy(state.params)
                state.history.best_epoch = epoch_no
            seconds = time.perf_counter() - t0
            state.history.append(epoch_no, float(np.mean(losses)), val, seconds)
            progress.epoch(
                epoch_no,
                float(np.mean(losses)),
                val,
                seconds,
                n_batches * phase.batch_size,
                state.conv,
            )
            state.optimizer_state = optimizer.state_dict()
            _save_checkpoint(checkpoint, model, state)
            if on_epoch is not None:
                on_epoch(epoch_no)
        reason = "converged" if state.conv > phase.convergence_steps else "MaxEpochs reached"
        state.history.stop_reason = reason
        state.params = _copy(state.best)  # the next phase starts from the best weights
        state.phase += 1
        state.phase_epoch = 0
        state.optimizer_state = None

    if n_val > 0 and state.history.best_epoch == 0 and not state.finished:
        _training_warning(
            progress,
            f"no epoch of {len(state.history.epoch)} improved the validation loss over the "
            "initial weights: the model returned has its initial, untrained weights. Check the "
            "labels and weights, lower LearningRate or raise MaxEpochs",
        )
    state.finished = True
    state.params = _copy(state.best)
    _save_checkpoint(checkpoint, model, state)
    model.params = state.params
    progress.finished(state.history, options)
    return model


def _diverged(model: Model, state: _State, checkpoint, loss: float, norm: float) -> None:
    """Stop a diverging run: keep the last good (best) weights and say what happened."""
    model.params = _copy(state.best)
    state.history.stop_reason = "diverged"
    err = TrainingDivergedError(
        f"training diverged in epoch {len(state.history.epoch) + 1} (loss {loss}, gradient norm "
        f"{norm}); the model keeps the weights of epoch {state.history.best_epoch}. Lower "
        "LearningRate, set ClipGradNorm, or check the inputs for extreme values"
    )
    err.model = model  # the caller can still use (and save) the last good weights
    raise err
