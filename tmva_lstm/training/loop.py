"""The epoch loop: mini-batches, validation, early stopping, checkpoints, divergence."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from ..errors import (
    OptionError,
    TrainingDivergedError,
)
from ..model import Model
from ..nn.heads import Head
from ..nn.network import flatten_params
from ..nn.optim import make_optimizer
from ..options import parse_validation_size
from .events import _class_name, _Events, prepare_weights
from .progress import Progress, _training_warning
from .state import _copy, _save_checkpoint, _State

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
