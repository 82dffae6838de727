"""A stack of layers: recurrent layers (LSTM, GRU, RNN), flatten, dense layers and the output.

``Network`` holds the resolved architecture (every size known) and no weights. Parameters
and gradients are nested dicts ``{layer name: {param name: array}}`` with the same keys,
e.g. ``{"lstm_0": {"W", "U", "b"}, "gru_1": {"W", "U", "b"}, "dense_3": {"W", "b"}}``.
Recurrent layers stack as MethodDL allows (``LSTM|8|0|0|0|1,GRU|6|0|0|0|1,RNN|4,LINEAR``):
a recurrent layer takes a sequence, so every one before it returns sequences.

Shapes: input ``x (N, T, F)`` with optional ``mask (N, T)``; output logits ``(N, K)``
(``K = 1`` for two-class classification; the sigmoid is applied by the loss and at
prediction, as in TMVA where the last layer is LINEAR).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import OptionError
from ..options import RECURRENT, LayerSpec, parse_layout
from .dense import dense_backward, dense_forward
from .gru import gru_backward, gru_forward, init_gru_params
from .init import init_matrix
from .lstm import init_lstm_params, lstm_backward, lstm_forward
from .rnn import init_rnn_params, rnn_backward, rnn_forward

__all__ = ["Network", "Params", "flatten_params", "unflatten_params"]

Params = dict[str, dict[str, np.ndarray]]


@dataclass(frozen=True)
class Layer:
    """A resolved layer: ``kind`` LSTM | GRU | RNN | FLATTEN | DENSE with its sizes."""

    name: str
    kind: str
    n_in: int  # features per step (recurrent) or inputs (DENSE); 0 for FLATTEN
    units: int  # H (recurrent) or outputs (DENSE); 0 for FLATTEN
    activation: str = "LINEAR"
    return_sequences: bool = False
    reset_after: bool = False  # GRU: TMVA's resetGateAfter (reset gate after the matmul)


@dataclass(frozen=True)
class Network:
    """The architecture for inputs of ``time_steps`` x ``features`` and ``n_outputs`` outputs."""

    layers: tuple[Layer, ...]
    time_steps: int
    features: int
    n_outputs: int = 1

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_layout(
        cls, layout: str | list[LayerSpec], time_steps: int, features: int, n_outputs: int = 1
    ) -> Network:
        """Resolve TMVA's ``Layout`` for ``(time_steps, features)`` inputs.

        A DENSE layer that receives a sequence flattens it first (as ``RESHAPE|FLAT``).
        Raises OptionError when the sizes written in the layout do not fit the input.
        """
        specs = parse_layout(layout, time_steps * features) if isinstance(layout, str) else layout
        layers: list[Layer] = []
        seq, width = True, features  # the current tensor: (N, T, width) if seq else (N, width)
        for i, spec in enumerate(specs):
            if spec.kind in RECURRENT:
                kind = spec.kind
                if not seq:
                    raise OptionError(
                        f"Layout: {kind} layer {i} receives a single vector; give the recurrent "
                        "layer before it returnSequence=1 (e.g. LSTM|H|0|0|0|1)"
                    )
                if spec.input_size and spec.input_size != width:
                    raise OptionError(
                        f"Layout: {kind} layer {i} declares input size {spec.input_size} but "
                        f"receives {width} features per step (InputLayout={time_steps}|{features}"
                        f"); write {kind}|{spec.units}|{width}|{time_steps}|... or 0 to follow "
                        "the input"
                    )
                if spec.time_steps and spec.time_steps != time_steps:
                    raise OptionError(
                        f"Layout: {kind} layer {i} declares {spec.time_steps} time steps but the "
                        f"input has {time_steps} (InputLayout={time_steps}|{features})"
                    )
                layers.append(
                    Layer(
                        f"{kind.lower()}_{i}",
                        kind,
                        width,
                        spec.units,
                        return_sequences=spec.return_sequences,
                        reset_after=spec.reset_after and kind == "GRU",
                    )
                )
                seq, width = spec.return_sequences, spec.units
            elif spec.kind == "FLATTEN":
                layers.append(Layer(f"flatten_{i}", "FLATTEN", 0, 0))
                if seq:
                    seq, width = False, time_steps * width
            else:
                if seq:
                    layers.append(Layer(f"flatten_{i}", "FLATTEN", 0, 0))
                    seq, width = False, time_steps * width
                last = i == len(specs) - 1
                units = spec.units or (n_outputs if last else 0)
                if units == 0:
                    raise OptionError(f"Layout: DENSE layer {i} needs a width, e.g. DENSE|64|TANH")
                if last and units != n_outputs:
                    raise OptionError(
                        f"Layout: the last layer has width {units} but the output needs {n_outputs}; "
                        "end the layout with LINEAR (width 0 means the output size)"
                    )
                layers.append(
                    Layer(f"dense_{i}", "DENSE", width, units, activation=spec.activation)
                )
                width = units
        return cls(tuple(layers), time_steps, features, n_outputs)

    def to_layout(self) -> str:
        """The explicit TMVA ``Layout`` string of this network."""
        out = []
        for layer in self.layers:
            if layer.kind in RECURRENT:
                text = (
                    f"{layer.kind}|{layer.units}|{layer.n_in}|{self.time_steps}|0|"
                    f"{int(layer.return_sequences)}"
                )
                out.append(text + (f"|{int(layer.reset_after)}" if layer.kind == "GRU" else ""))
            elif layer.kind == "FLATTEN":
                out.append("RESHAPE|FLAT")
            else:
                out.append(f"DENSE|{layer.units}|{layer.activation}")
        return ",".join(out)

    def init_params(
        self, rng: np.random.Generator, init: str = "XAVIER", dtype=np.float32
    ) -> Params:
        """Fresh parameters: weights by TMVA's ``init``, biases zero."""
        params: Params = {}
        for layer in self.layers:
            if layer.kind in RECURRENT:
                params[layer.name] = _INIT[layer.kind](layer.n_in, layer.units, rng, init, dtype)
            elif layer.kind == "DENSE":
                W = init_matrix(
                    rng, layer.units, layer.n_in, init, dtype
                ).T  # TMVA's (O, I) -> (I, O)
                params[layer.name] = {
                    "W": np.ascontiguousarray(W),
                    "b": np.zeros(layer.units, dtype=dtype),
                }
        return params

    def param_shapes(self) -> dict[str, dict[str, tuple[int, ...]]]:
        shapes: dict[str, dict[str, tuple[int, ...]]] = {}
        for layer in self.layers:
            if layer.kind in RECURRENT:
                H, F, g = layer.units, layer.n_in, _GATES[layer.kind]
                shapes[layer.name] = {"W": (F, g * H), "U": (H, g * H), "b": (g * H,)}
            elif layer.kind == "DENSE":
                shapes[layer.name] = {"W": (layer.n_in, layer.units), "b": (layer.units,)}
        return shapes

    # ------------------------------------------------------------------ passes
    def forward(
        self,
        params: Params,
        x: np.ndarray,
        mask: np.ndarray | None = None,
        keep_cache: bool = True,
    ) -> tuple[np.ndarray, list[Any]]:
        """``x (N, T, F)`` -> logits ``(N, K)`` and the caches for :meth:`backward` (the
        recurrent layers' caches are None with ``keep_cache=False``: inference)."""
        if x.ndim != 3 or x.shape[1:] != (self.time_steps, self.features):
            raise ValueError(
                f"network input must be (N, {self.time_steps}, {self.features}), got {x.shape}"
            )
        caches: list[Any] = []
        a = x
        for layer in self.layers:
            if layer.kind == "LSTM":
                a, cache = lstm_forward(
                    a,
                    params[layer.name],
                    mask=mask,
                    return_sequences=layer.return_sequences,
                    keep_cache=keep_cache,
                )
            elif layer.kind == "GRU":
                a, cache = gru_forward(
                    a,
                    params[layer.name],
                    mask=mask,
                    return_sequences=layer.return_sequences,
                    reset_after=layer.reset_after,
                    keep_cache=keep_cache,
                )
            elif layer.kind == "RNN":
                a, cache = rnn_forward(
                    a,
                    params[layer.name],
                    mask=mask,
                    return_sequences=layer.return_sequences,
                    keep_cache=keep_cache,
                )
            elif layer.kind == "FLATTEN":
                cache = a.shape
                a = a.reshape(a.shape[0], -1)  # (N, T, H) -> (N, T*H), step-major
            else:
                a, cache = dense_forward(a, params[layer.name], layer.activation)
            caches.append(cache)
        return a, caches

    def backward(self, params: Params, dout: np.ndarray, caches: list[Any]) -> Params:
        """Gradients of every parameter, same keys as ``params``, from ``dout`` (N, K)."""
        grads: Params = {}
        d = dout
        for layer, cache in zip(reversed(self.layers), reversed(caches), strict=True):
            if layer.kind in RECURRENT:
                d, g = _BACKWARD[layer.kind](d, cache)
                grads[layer.name] = {k: g[k] for k in params[layer.name]}
            elif layer.kind == "FLATTEN":
                d = d.reshape(cache)
            else:
                d, grads[layer.name] = dense_backward(d, cache)
        return grads

    def logits(self, params: Params, x: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """Forward pass without keeping what backward needs beyond the call: ``(N, K)``."""
        out, _ = self.forward(params, x, mask, keep_cache=False)
        return out

    # ------------------------------------------------------------------ regularisation
    def regularization(
        self, params: Params, kind: str, weight_decay: float
    ) -> tuple[float, dict[str, np.ndarray]]:
        """TMVA's weight decay: value ``lambda * sum(|W|)`` (L1) or ``lambda * sum(W^2)`` (L2)
        over the dense layers' weight matrices, and its gradient for those matrices."""
        if kind == "NONE" or weight_decay == 0:
            return 0.0, {}
        value, grads = 0.0, {}
        for layer in self.layers:
            if layer.kind != "DENSE":
                continue
            W = params[layer.name]["W"]
            if kind == "L1":
                value += weight_decay * float(np.abs(W).sum())
                grads[layer.name] = weight_decay * np.sign(W)
            else:
                value += weight_decay * float((W * W).sum())
                grads[layer.name] = 2 * weight_decay * W
        return value, grads


_GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}  # weight blocks per recurrent layer type
_INIT = {"LSTM": init_lstm_params, "GRU": init_gru_params, "RNN": init_rnn_params}
_BACKWARD = {"LSTM": lstm_backward, "GRU": gru_backward, "RNN": rnn_backward}


def flatten_params(params: Params) -> dict[str, np.ndarray]:
    """``{layer: {name: a}}`` -> ``{"layer/name": a}`` (the same arrays, not copies)."""
    return {f"{layer}/{k}": v for layer, d in params.items() for k, v in d.items()}


def unflatten_params(flat: dict[str, np.ndarray]) -> Params:
    out: Params = {}
    for key, v in flat.items():
        layer, name = key.split("/", 1)
        out.setdefault(layer, {})[name] = v
    return out
