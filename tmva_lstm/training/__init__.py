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

The package, by concept: :func:`train` and :func:`resume` here;
:mod:`~tmva_lstm.training.events` (input checks, weights, the validation split, the data
fingerprint), :mod:`~tmva_lstm.training.state` (the checkpointed state, what a resume may
change), :mod:`~tmva_lstm.training.loop` (the epoch loop) and
:mod:`~tmva_lstm.training.progress` (the progress output and loud warnings).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import (
    DataError,
    ModelFileError,
    OptionError,
)
from ..model import History, InputTransform, Model, TargetTransform
from ..modelfile import (
    find_model_element,
    model_from_element,
    read_document,
)
from ..nn.backend import default_dtype
from ..nn.heads import Head, head_for
from ..nn.network import Network
from ..options import MethodOptions, help_text, parse_validation_size
from .events import (
    _check_data,
    _class_count,
    _Events,
    _fingerprint,
    _split_events,
    prepare_weights,
    validation_split,
)
from .loop import _run
from .progress import Progress
from .state import _copy, _restore_state, _resume_options, _State

__all__ = ["train", "resume", "prepare_weights", "validation_split", "Progress"]


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
