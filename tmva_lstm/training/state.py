"""The training state kept in a checkpoint (weights, optimizer, random generator, counters),
and the options a resumed training may change."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import (
    ModelFileError,
    OptionError,
)
from ..model import History, Model
from ..modelfile import (
    array_from_element,
    array_to_element,
    save_model,
)
from ..nn.network import Params, flatten_params, unflatten_params
from ..options import MethodOptions, differences

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
