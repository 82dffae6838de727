"""Export a trained model to ONNX, for onnxruntime and for C++ inference with TMVA SOFIE.

The whole scoring function is one float32 graph, built with the ``onnx`` package alone::

    x (B, T, F) -> [Sub offset, Mul scale] -> Transpose -> LSTM | GRU | RNN -> ... -> Gemm -> ...
                -> Gemm -> Sigmoid -> score (B, 1)      (Multiclass: Softmax, (B, K);
                                                          Regression: [Div, Add], (B, M))

Contract of the exported file
-----------------------------
Input ``"x"``: float32 ``[batch, T, F]``, the raw (untransformed) variables of each event,
batch-first, as ``Model.predict`` takes them; TMVA's flat order ``vars_time0[0..F-1],
vars_time1[...]`` is the same memory. The ``VarTransform`` of the model (``N``:
``(x - offset) * scale`` per time step and feature) is inside the graph.

Input ``"length"`` (with ``sequence_lengths=True``, the default for a model trained with
masks such as the ``jagged`` layout's): int32 ``[batch]``, the number of valid leading steps
of each event, 1 to T (``min(number of objects, max)`` for the jagged layout). It feeds every
recurrent node's ``sequence_lens``: steps from ``length`` on are ignored, as
``Model.predict(X, mask)`` ignores masked steps. Without it every event runs over all T
steps, which equals ``Model.predict(X)`` without a mask; a model trained with masks is
therefore not exported without it.

Output ``"score"``: what ``Model.predict`` returns, in float32. Classification: ``[batch,
1]``, the sigmoid of the network output, the signal probability (``predict`` turns NaN into
-999; the graph does not). Multiclass: ``[batch, K]``, the softmax of the K network outputs,
the class probabilities in the model's class order. Regression: ``[batch, M]``, the M linear
outputs, transformed back to the targets' units (``z / scale + offset``, float32) when the
model normalised its targets (``VarTransform=N``). The metadata ``analysis_type``,
``class_names`` and ``target_names`` say which.

``batch`` is fixed at export (``batch_size``, default 1): SOFIE compiles the batch size
and the sequence length into the generated C++ (``ROperator_LSTM.icc`` reads the static
shape of ``X``). ``batch_size=None`` writes a symbolic ``"batch"`` dimension for
onnxruntime and other runtimes with dynamic shapes. ``T`` and ``F`` are always fixed.

Why the graph looks the way it does (each point checked in ROOT's SOFIE sources)
--------------------------------------------------------------------------------
* Opset 17 by default (13 up to the installed onnx's newest accepted). SOFIE's parser
  never reads the opset (``RModelParser_ONNX.cxx`` parses nodes by ``op_type`` only), and
  every operator written here means the same from opset 13 on, so the choice is for the
  other readers: 17 is read by onnx >= 1.12 and onnxruntime >= 1.13, and predates the
  opsets that only re-version operators for new types. The IR version is the lowest the
  opset allows (8 for 17), so older runtimes read the file too.
* GRU and RNN: the standard ``GRU`` and ``RNN`` operators, like the LSTM below. GRU blocks
  are reordered from ours (r, z, n) to ONNX's (z, r, h); ``linear_before_reset`` is our
  ``reset_after`` (TMVA's ``resetGateAfter``; SOFIE's ``ROperator_GRU`` takes 0 and 1); ``Rb``
  is zero but for ``Rb_h = b_hn``. RNN: activation Tanh (the default), ``B = b || 0``.
* LSTM: the standard ``LSTM`` operator, ``direction="forward"``, default activations, no
  clip, no peepholes, ``layout=0`` (time-major) behind a ``Transpose``: onnxruntime's CPU
  LSTM rejects ``layout=1`` and SOFIE's supports both. ``B`` is an initializer, which
  SOFIE needs (it pre-broadcasts it when the model is initialised). The gate blocks are
  reordered from ours (i, f, g, o) to ONNX's (i, o, f, c); our bias goes in ``Wb``, zeros
  in ``Rb``. Only ``Y`` (return sequences) or ``Y_h`` (last state) is used, never ``Y_c``.
* ``Reshape`` with constant int64 shapes instead of ``Squeeze``: SOFIE's ``ParseReshape``
  ignores the ``axes`` input of ``Squeeze`` (opset 13) and would squeeze a batch of 1 too;
  ``Flatten`` only with its default ``axis=1``, because the same parser never reads
  ``Flatten``'s ``axis`` attribute.
* Dense layers are ``Gemm`` with ``transB=1`` and weights ``(out, in)``, the form
  ``torch.onnx`` writes for ``Linear``; not ``MatMul`` + ``Add``, which SOFIE's parser
  fuses into one Gemm by pattern (older versions by mere node adjacency).
* Activations with operators SOFIE parses: TANH ``Tanh``, RELU ``Relu``, SIGMOID ``Sigmoid``,
  SYMMRELU ``Abs``, SOFTSIGN ``z / (1 + Abs(z))`` (SOFIE has no ``Softsign`` parser), GAUSS
  ``Exp(Neg(z * z))``; LINEAR adds nothing.

Masked (padded) steps and SOFIE: SOFIE honours ``sequence_lens`` for a forward LSTM but
reads ``length - 1`` as an index, so lengths must be at least 1 there, and ROOT has no test
model for it; the path without ``"length"`` is the well-trodden one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import DependencyError, ModelFileError, OptionError
from .nn.activations import ACTIVATIONS

if TYPE_CHECKING:  # pragma: no cover
    import onnx

    from .model import Model

__all__ = [
    "DEFAULT_OPSET",
    "MIN_OPSET",
    "INPUT_NAME",
    "LENGTH_NAME",
    "OUTPUT_NAME",
    "onnx_lstm_weights",
    "to_onnx",
    "export_onnx",
    "export_onnx_file",
]

DEFAULT_OPSET = 17  # onnx >= 1.12, onnxruntime >= 1.13; SOFIE ignores the opset
MIN_OPSET = 13  # every operator we write has had its present meaning since opset 13
INPUT_NAME = "x"  # float32 [batch, T, F]
LENGTH_NAME = "length"  # int32 [batch], only with sequence_lengths=True
OUTPUT_NAME = "score"  # float32 [batch, 1]
BATCH_DIM = "batch"  # the symbolic batch dimension when batch_size is None

_INSTALL = "pip install 'tmva-lstm[onnx]'"


def _import_onnx():
    """The ``onnx`` module, or a DependencyError that says how to install it."""
    try:
        import onnx
        import onnx.checker
        import onnx.helper
        import onnx.numpy_helper
    except ImportError as err:
        raise DependencyError(f"ONNX export needs the onnx package ({err}): {_INSTALL}") from err
    return onnx


# --------------------------------------------------------------------------- weights


def onnx_lstm_weights(params: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Our LSTM parameters -> the ONNX ``LSTM`` inputs ``W``, ``R``, ``B`` (float32).

    Ours: ``W (F, 4H)``, ``U (H, 4H)``, ``b (4H,)``, gate blocks (i, f, g, o), ``z = x W``.
    ONNX: ``W [1, 4H, F]``, ``R [1, 4H, H]``, ``B [1, 8H] = Wb || Rb``, gate blocks
    (i, o, f, c), ``z = x W^T``. Our single bias goes in ``Wb``; ``Rb`` is zero.
    """
    W, U, b = (np.asarray(params[k]) for k in ("W", "U", "b"))
    H = U.shape[0]
    i, f, g, o = (np.arange(k * H, (k + 1) * H) for k in range(4))
    onnx_order = np.concatenate([i, o, f, g])  # ONNX's (i, o, f, c); c is our candidate g
    W_onnx = W[:, onnx_order].T[None]  # (1, 4H, F)
    R_onnx = U[:, onnx_order].T[None]  # (1, 4H, H)
    B_onnx = np.concatenate([b[onnx_order], np.zeros(4 * H, dtype=b.dtype)])[None]  # (1, 8H)
    return tuple(np.ascontiguousarray(a, dtype=np.float32) for a in (W_onnx, R_onnx, B_onnx))


def onnx_gru_weights(params: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Our GRU parameters -> the ONNX ``GRU`` inputs ``W``, ``R``, ``B`` (float32).

    Ours: ``W (F, 3H)``, ``U (H, 3H)``, ``b (3H,)`` and optional ``b_hn (H,)``, blocks
    (r, z, n). ONNX: ``W [1, 3H, F]``, ``R [1, 3H, H]``, ``B [1, 6H] = Wb || Rb``, blocks
    (z, r, h). Our ``b`` goes in ``Wb``; ``Rb`` is zero but for ``Rb_h = b_hn``, which sits
    inside the reset gate with ``linear_before_reset=1`` exactly as in our ``reset_after``.
    """
    W, U, b = (np.asarray(params[k]) for k in ("W", "U", "b"))
    H = U.shape[0]
    r, z, n = (np.arange(k * H, (k + 1) * H) for k in range(3))
    onnx_order = np.concatenate([z, r, n])
    Rb = np.zeros(3 * H, dtype=b.dtype)
    if params.get("b_hn") is not None:
        Rb[2 * H :] = params["b_hn"]
    W_onnx = W[:, onnx_order].T[None]  # (1, 3H, F)
    R_onnx = U[:, onnx_order].T[None]  # (1, 3H, H)
    B_onnx = np.concatenate([b[onnx_order], Rb])[None]  # (1, 6H)
    return tuple(np.ascontiguousarray(a, dtype=np.float32) for a in (W_onnx, R_onnx, B_onnx))


def onnx_rnn_weights(params: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Our RNN parameters -> the ONNX ``RNN`` inputs ``W [1, H, F]``, ``R [1, H, H]``,
    ``B [1, 2H] = b || 0`` (float32); activation Tanh, the operator's default."""
    W, U, b = (np.asarray(params[k]) for k in ("W", "U", "b"))
    B = np.concatenate([b, np.zeros_like(b)])[None]
    return tuple(np.ascontiguousarray(a, dtype=np.float32) for a in (W.T[None], U.T[None], B))


_WEIGHTS = {"LSTM": onnx_lstm_weights, "GRU": onnx_gru_weights, "RNN": onnx_rnn_weights}


def trained_with_masks(model: Model) -> bool:
    """Whether ``model`` was trained on padded, variable-length sequences (with a mask)."""
    return bool(getattr(model, "trained_with_mask", False)) or str(
        getattr(model, "data_layout", "")
    ).startswith("jagged")


# --------------------------------------------------------------------------- graph


class _GraphBuilder:
    """Nodes and initializers, with unique tensor names made of letters, digits and ``_``
    (SOFIE strips other characters from names, which could make two names collide)."""

    def __init__(self, onnx_module) -> None:
        self.onnx = onnx_module
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.names: set[str] = set()

    def unique(self, name: str) -> str:
        """``name``, or ``name_1``, ``name_2`` ... if taken; reserved from now on."""
        if name in self.names:
            k = 1
            while f"{name}_{k}" in self.names:
                k += 1
            name = f"{name}_{k}"
        self.names.add(name)
        return name

    def const(self, name: str, array: np.ndarray) -> str:
        name = self.unique(name)
        self.initializers.append(
            self.onnx.numpy_helper.from_array(np.ascontiguousarray(array), name)
        )
        return name

    def shape(self, name: str, dims: list[int]) -> str:
        return self.const(name, np.asarray(dims, dtype=np.int64))

    def node(self, op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        output = self.unique(output)
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [output], name=output, **attrs))
        return output


def _check_exportable(model: Model, batch_size: int | None, opset: int, max_opset: int) -> None:
    network = model.network
    kind = model.analysis_type
    if kind not in ("CLASSIFICATION", "MULTICLASS", "REGRESSION"):
        raise OptionError(f"ONNX export: unknown AnalysisType {kind!r}")
    if kind == "CLASSIFICATION" and network.n_outputs != 1:
        raise OptionError(
            f"ONNX export of a two-class classifier needs one network output, but this "
            f"model has {network.n_outputs} outputs"
        )
    strategy = getattr(model.options, "error_strategy", "CROSSENTROPY")
    if kind == "CLASSIFICATION" and strategy != "CROSSENTROPY":
        raise OptionError(
            f"ONNX export writes a sigmoid probability (ErrorStrategy=CROSSENTROPY); this model "
            f"was trained with ErrorStrategy={strategy}"
        )
    if model.transform.kind not in ("NONE", "N"):
        raise OptionError(
            f"ONNX export supports VarTransform NONE and N, not {model.transform.kind!r}"
        )
    if batch_size is not None and (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, (int, np.integer))
        or batch_size < 1
    ):
        raise OptionError(
            f"batch_size must be a positive integer (SOFIE needs a fixed batch) or None for a "
            f"dynamic batch dimension, not {batch_size!r}"
        )
    if (
        isinstance(opset, bool)
        or not isinstance(opset, (int, np.integer))
        or not (MIN_OPSET <= opset <= max_opset)
    ):
        raise OptionError(
            f"opset must be an integer from {MIN_OPSET} to {max_opset} (this onnx package's "
            f"newest), not {opset!r}; the default {DEFAULT_OPSET} suits TMVA SOFIE"
        )
    shapes = network.param_shapes()
    for layer in network.layers:
        if layer.kind == "DENSE" and layer.activation not in ACTIVATIONS:
            raise OptionError(
                f"layer {layer.name}: activation {layer.activation!r} cannot be exported; "
                f"valid: {', '.join(ACTIVATIONS)}"
            )
        if layer.kind not in ("LSTM", "GRU", "RNN", "FLATTEN", "DENSE"):
            raise OptionError(f"layer {layer.name}: kind {layer.kind!r} cannot be exported")
        for key, shape in shapes.get(layer.name, {}).items():
            got = np.shape(model.params.get(layer.name, {}).get(key))
            if got != shape:
                raise ModelFileError(
                    f"layer {layer.name}: parameter {key} has shape {got}, the network needs {shape}"
                )


def _sequence_lengths(model: Model, requested: bool | None) -> bool:
    """Whether the graph gets the ``length`` input: as requested, or (None) whenever the model
    was trained with masks; a masked model without it would score padding as real steps."""
    layers = model.network.layers
    first = layers[0].kind if layers else "nothing"
    masked = trained_with_masks(model)
    if requested is None:
        requested = masked and first in _WEIGHTS
    if requested and first not in _WEIGHTS:
        raise OptionError(
            "sequence_lengths=True needs a recurrent layer (LSTM, GRU, RNN) first (the 'length' "
            f"input feeds their sequence_lens); this network starts with {first}"
        )
    if masked and not requested:
        if first in _WEIGHTS:
            raise OptionError(
                "this model was trained on padded variable-length sequences (with a mask"
                + (f", layout {model.data_layout}" if model.data_layout else "")
                + "); without the 'length' input the graph would score the padded steps as "
                "real ones and disagree with predict: export with sequence_lengths=True "
                "(tmva-lstm export-onnx --sequence-lengths, the default for such a model)"
            )
        if model.transform.kind != "NONE":
            raise OptionError(
                f"this model was trained with a mask and VarTransform={model.transform.kind} "
                f"but starts with {first}: its padded entries are zeroed after the "
                "transformation, which the ONNX graph cannot do; it cannot be exported exactly"
            )
    return bool(requested)


def _activation(g: _GraphBuilder, name: str, z: str, prefix: str) -> str:
    """The graph of TMVA's dense activation ``name`` applied to tensor ``z``."""
    if name == "LINEAR":
        return z
    if name == "TANH":
        return g.node("Tanh", [z], f"{prefix}_tanh")
    if name == "RELU":
        return g.node("Relu", [z], f"{prefix}_relu")
    if name == "SIGMOID":
        return g.node("Sigmoid", [z], f"{prefix}_sigmoid")
    if name == "SYMMRELU":
        return g.node("Abs", [z], f"{prefix}_abs")
    if name == "SOFTSIGN":  # z / (1 + |z|)
        absz = g.node("Abs", [z], f"{prefix}_abs")
        one = g.const(f"{prefix}_one", np.ones(1, dtype=np.float32))
        den = g.node("Add", [absz, one], f"{prefix}_one_plus_abs")
        return g.node("Div", [z, den], f"{prefix}_softsign")
    if name == "GAUSS":  # exp(-z^2)
        sq = g.node("Mul", [z, z], f"{prefix}_square")
        neg = g.node("Neg", [sq], f"{prefix}_neg_square")
        return g.node("Exp", [neg], f"{prefix}_gauss")
    raise OptionError(f"activation {name!r} cannot be exported")  # checked before


def to_onnx(
    model: Model,
    *,
    batch_size: int | None = 1,
    opset: int | None = None,
    sequence_lengths: bool | None = None,
) -> onnx.ModelProto:
    """The ONNX model (in memory, checked) of ``model``'s scoring function.

    See the module docstring for the input/output contract and :func:`export_onnx` for the
    arguments. Raises OptionError for what cannot be exported.
    """
    onnx = _import_onnx()
    helper = onnx.helper
    opset = DEFAULT_OPSET if opset is None else opset
    _check_exportable(model, batch_size, opset, onnx.defs.onnx_opset_version())
    network = model.network
    T, F = network.time_steps, network.features
    sequence_lengths = _sequence_lengths(model, sequence_lengths)
    B = BATCH_DIM if batch_size is None else int(batch_size)
    B_reshape = -1 if batch_size is None else int(batch_size)  # a Reshape dimension

    g = _GraphBuilder(onnx)
    g.names.update({INPUT_NAME, LENGTH_NAME, OUTPUT_NAME})
    inputs = [helper.make_tensor_value_info(INPUT_NAME, onnx.TensorProto.FLOAT, [B, T, F])]
    if sequence_lengths:
        inputs.append(helper.make_tensor_value_info(LENGTH_NAME, onnx.TensorProto.INT32, [B]))

    # The current tensor and its form: "bm" (B, T, W) batch-major, "tm" (T, B, W) time-major,
    # "y" (T, 1, B, W) an LSTM's Y, "flat" (B, W).
    a, form, width = INPUT_NAME, "bm", F
    if model.transform.kind == "N":
        offset = g.const("input_offset", np.asarray(model.transform.offset, dtype=np.float32))
        scale = g.const("input_scale", np.asarray(model.transform.scale, dtype=np.float32))
        a = g.node("Sub", [a, offset], "x_minus_offset")  # (B, T, F)
        a = g.node("Mul", [a, scale], "x_transformed")  # (B, T, F)

    def time_major(a: str, form: str, width: int, prefix: str) -> str:
        if form == "bm":
            return g.node("Transpose", [a], f"{prefix}_time_major", perm=[1, 0, 2])  # (T, B, W)
        if form == "y":
            shape = g.shape(f"{prefix}_shape", [T, B_reshape, width])
            return g.node("Reshape", [a, shape], f"{prefix}_time_major")  # (T, B, W)
        return a  # "tm"

    def flat(a: str, form: str, width: int, prefix: str) -> str:
        if form == "flat":
            return a
        if form != "bm":
            a = time_major(a, form, width, prefix)
            a = g.node("Transpose", [a], f"{prefix}_batch_major", perm=[1, 0, 2])  # (B, T, W)
        return g.node("Flatten", [a], f"{prefix}_flat")  # (B, T*W), step-major; axis=1

    for layer in network.layers:
        p = model.params.get(layer.name, {})
        if layer.kind in _WEIGHTS:
            if form == "flat":  # Network.from_layout forbids it; keep the graph honest
                raise OptionError(f"layer {layer.name}: a {layer.kind} cannot follow a flat tensor")
            x_tm = time_major(a, form, width, f"{layer.name}_input")
            W, R, Bias = _WEIGHTS[layer.kind](p)
            ins = [
                x_tm,
                g.const(f"{layer.name}_W", W),
                g.const(f"{layer.name}_R", R),
                g.const(f"{layer.name}_B", Bias),
            ]
            if sequence_lengths:
                ins.append(LENGTH_NAME)
            H = layer.units
            if layer.return_sequences:
                y = g.unique(f"{layer.name}_Y")  # (T, 1, B, H)
                outs = [y]
            else:
                y = g.unique(f"{layer.name}_Y_h")  # (1, B, H)
                outs = ["", y]
            attrs: dict[str, Any] = {"hidden_size": H, "direction": "forward"}
            if layer.kind == "GRU":  # ONNX's name for the reset gate after the matmul
                attrs["linear_before_reset"] = int(layer.reset_after)
            g.nodes.append(helper.make_node(layer.kind, ins, outs, name=layer.name, **attrs))
            if layer.return_sequences:
                a, form = y, "y"
            else:
                shape = g.shape(f"{layer.name}_state_shape", [B_reshape, H])
                a, form = g.node("Reshape", [y, shape], f"{layer.name}_state"), "flat"  # (B, H)
            width = H
        elif layer.kind == "FLATTEN":
            if form != "flat":
                a = flat(a, form, width, layer.name)
                width, form = T * width, "flat"
        else:  # DENSE
            if form != "flat":  # Network.from_layout puts a FLATTEN before; be safe anyway
                a = flat(a, form, width, layer.name)
                width, form = T * width, "flat"
            Wt = np.asarray(p["W"], dtype=np.float32).T  # (O, I) for transB=1
            bias = np.asarray(p["b"], dtype=np.float32)  # (O,)
            z = g.node(
                "Gemm",
                [a, g.const(f"{layer.name}_W", Wt), g.const(f"{layer.name}_b", bias)],
                f"{layer.name}_z",
                transB=1,
            )  # (B, O)
            a = _activation(g, layer.activation, z, layer.name)
            width = layer.units
    kind = model.analysis_type
    n_out = 1 if kind == "CLASSIFICATION" else network.n_outputs
    if form != "flat" or width != n_out:
        raise OptionError(
            f"the network must end in {n_out} output(s) per event; it ends in a {form} tensor "
            f"of width {width}"
        )
    if kind == "CLASSIFICATION":
        g.nodes.append(helper.make_node("Sigmoid", [a], [OUTPUT_NAME], name=OUTPUT_NAME))  # (B, 1)
        what = "signal probability (sigmoid of the network output)"
    elif kind == "MULTICLASS":
        g.nodes.append(
            helper.make_node("Softmax", [a], [OUTPUT_NAME], name=OUTPUT_NAME, axis=1)
        )  # (B, K)
        what = f"class probabilities (softmax) of {', '.join(model.class_names)}"
    else:
        tt = model.target_transform
        if tt.kind != "NONE":  # back to the targets' units: z / scale + offset
            scale = g.const("target_scale", np.asarray(tt.scale, dtype=np.float32))
            offset = g.const("target_offset", np.asarray(tt.offset, dtype=np.float32))
            a = g.node("Div", [a, scale], "target_unscaled")
            g.nodes.append(helper.make_node("Add", [a, offset], [OUTPUT_NAME], name=OUTPUT_NAME))
        else:
            g.nodes.append(helper.make_node("Identity", [a], [OUTPUT_NAME], name=OUTPUT_NAME))
        what = f"target values of {', '.join(model.target_names)}"

    doc = (
        f"tmva_lstm {kind.title()} model. Input '{INPUT_NAME}': float32 [batch, {T}, {F}], "
        f"raw variables, batch-first"
        + (
            f"; '{LENGTH_NAME}': int32 [batch], valid leading steps (1..{T})"
            if sequence_lengths
            else ""
        )
        + f". Output '{OUTPUT_NAME}': float32 [batch, {n_out}], {what}. "
        f"Layout={network.to_layout()}, VarTransform={model.transform.kind}."
    )
    graph = helper.make_graph(
        g.nodes,
        "tmva_lstm",
        inputs,
        [helper.make_tensor_value_info(OUTPUT_NAME, onnx.TensorProto.FLOAT, [B, n_out])],
        initializer=g.initializers,
        doc_string=doc,
    )
    opset_id = helper.make_opsetid("", int(opset))
    from . import __version__

    proto = helper.make_model(
        graph,
        opset_imports=[opset_id],
        ir_version=helper.find_min_ir_version_for([opset_id]),
        producer_name="tmva_lstm",
        producer_version=__version__,
        doc_string=doc,
    )
    helper.set_model_props(
        proto,
        {
            "input_layout": f"{T}|{F}",
            "layout": network.to_layout(),
            "var_transform": model.transform.kind,
            "variables": json.dumps(list(model.variable_names)),
            "sequence_lengths": str(int(bool(sequence_lengths))),
            "analysis_type": kind,
            "class_names": json.dumps(list(model.class_names or [])),
            "target_names": json.dumps(list(model.target_names or [])),
        },
    )
    onnx.checker.check_model(proto, full_check=True)
    return proto


def export_onnx(
    model: Model,
    path: str | Path,
    *,
    batch_size: int | None = 1,
    opset: int | None = None,
    sequence_lengths: bool | None = None,
) -> Path:
    """Write ``model``'s scoring function to the ONNX file ``path``, atomically; return the path.

    ``batch_size``: the fixed batch dimension (TMVA SOFIE needs one; default 1), or None for
    a symbolic ``"batch"`` dimension (onnxruntime). ``opset``: the ONNX opset (default
    :data:`DEFAULT_OPSET`, 17). ``sequence_lengths``: add the int32 input ``"length"`` that
    tells the recurrent layers how many leading steps of each event are valid (for padded,
    variable-length inputs); None (default) adds it exactly when the model was trained with
    masks (e.g. the ``jagged`` layout), and False for such a model is refused. The graph is checked with ``onnx.checker.check_model(...,
    full_check=True)`` before anything is written. For SOFIE, name the file like a C++
    identifier (``lstm_model.onnx``): SOFIE names the generated namespace after it.
    """
    proto = to_onnx(model, batch_size=batch_size, opset=opset, sequence_lengths=sequence_lengths)
    from .modelfile import atomic_write_bytes

    return atomic_write_bytes(path, proto.SerializeToString())


def export_onnx_file(
    model_path: str | Path,
    output_path: str | Path,
    batch_size: int | None = 1,
    *,
    opset: int | None = None,
    sequence_lengths: bool | None = None,
) -> Path:
    """Load the model file ``model_path`` (ours or a PyLSTM TMVA weight file) and export it to
    ``output_path``; the function behind ``tmva-lstm export-onnx MODEL --output model.onnx``."""
    _import_onnx()  # fail on a missing dependency before reading anything
    from .model import Model

    model = Model.load(model_path)
    return export_onnx(
        model, output_path, batch_size=batch_size, opset=opset, sequence_lengths=sequence_lengths
    )
