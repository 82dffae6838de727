"""The model file: a TMVA-style XML weight file that loses nothing.

Layout (TMVA's ``MethodSetup`` schema, so TMVA users recognise it)::

    <MethodSetup Method="PyLSTM::<title>">
      <GeneralInfo> <Info name=... value=.../> ... </GeneralInfo>
      <Options> <Option name="InputLayout" modified="Yes">10|30</Option> ... </Options>
      <Variables NVar="300"> <Variable VarIndex="0" Expression=... Internal=... Type="F"/> ...
      <Spectators NSpec="0"/>
      <Classes NClass="2"> <Class Name="Signal" Index="0"/> <Class Name="Background" Index="1"/>
      <Transformations NTransformations="0"/>
      <MVAPdfs/>
      <Weights>
        <Model Format="tmva_lstm" FormatVersion="1" ...>   everything needed to score
          <Options>canonical option string</Options>
          <Layer Name="lstm_0" Kind="LSTM" ...> <Array Name="W" Shape="30,40" DType="float32">base64</Array>
          <Layer Name="gru_1" Kind="GRU" ResetGateAfter="0" ...> ...   (GRU, RNN: W, U, b)
          <Transform Kind="N"> <Array Name="offset" .../> </Transform>
          <TargetTransform Kind="N"> ... </TargetTransform>     regression with VarTransform=N
          <History .../>
        </Model>
      </Weights>
    </MethodSetup>

Multiclass and regression models also carry ``AnalysisType``, ``ClassNames`` or
``TargetNames`` (JSON lists) as ``<Model>`` attributes, under the checksum; a two-class model
has none of them (files written before they existed read unchanged).
Arrays are stored exactly: the little-endian bytes, base64-encoded, with shape and dtype.
A SHA-256 checksum over the architecture and every array detects truncation and edits.
Reading never runs code (plain XML and base64 numbers, no serialised objects) and refuses any
DTD, so no entity is ever expanded.
Writing is atomic: a temporary file in the same directory, then ``os.replace``.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from . import __version__
from .atomic import atomic_write_bytes
from .errors import ModelFileError, OptionError
from .model import History, InputTransform, Model, TargetTransform
from .nn.heads import TMVA_NAMES
from .nn.network import Layer, Network
from .options import MethodOptions

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "model_to_element",
    "model_from_element",
    "save_model",
    "load_model",
    "parse_xml",
    "atomic_write_bytes",
    "model_title",
    "array_to_element",
    "array_from_element",
]

FORMAT = "tmva_lstm"
FORMAT_VERSION = 1
MAX_FILE_BYTES = 2**31  # a model file of more than 2 GiB is not ours
_DTYPES = {"float32": np.float32, "float64": np.float64, "int64": np.int64, "uint64": np.uint64}


# --------------------------------------------------------------------------- safe I/O


def parse_xml(data: bytes, source: str = "<memory>") -> ET.Element:
    """Parse XML from bytes with no DTD allowed (so no entity can be declared or expanded)."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:  # XML keywords are case-sensitive
        raise ModelFileError(
            f"{source}: the XML declares a DTD or entities, which a model file never has; "
            "refusing to parse it (entity expansion is off)"
        )
    try:
        return ET.fromstring(data)
    except ET.ParseError as err:
        raise ModelFileError(
            f"{source}: not valid XML ({err}); the file is truncated or was edited by hand — "
            "retrain or restore it from a backup"
        ) from None


# --------------------------------------------------------------------------- arrays


def _c_order(array: np.ndarray) -> np.ndarray:
    """A C-contiguous array of any rank (``np.ascontiguousarray`` turns 0-d into 1-d)."""
    a = np.asarray(array)
    return a if a.flags.c_contiguous else a.copy(order="C")


def array_to_element(name: str, array: np.ndarray, tag: str = "Array") -> ET.Element:
    a = _c_order(array)
    if a.dtype.name not in _DTYPES:
        raise TypeError(f"cannot store array {name!r} of dtype {a.dtype}")
    el = ET.Element(tag, Name=name, Shape=",".join(map(str, a.shape)), DType=a.dtype.name)
    el.text = base64.b64encode(a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()).decode()
    return el


def array_from_element(el: ET.Element, source: str) -> np.ndarray:
    name = el.get("Name", "?")
    try:
        dtype = np.dtype(_DTYPES[el.get("DType", "")]).newbyteorder("<")
        shape_text = el.get("Shape", "")
        shape = tuple(int(s) for s in shape_text.split(",")) if shape_text else ()
        raw = base64.b64decode((el.text or "").strip(), validate=True)
    except (KeyError, ValueError) as err:
        raise ModelFileError(f"{source}: array {name!r} is malformed ({err})") from None
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise ModelFileError(
            f"{source}: array {name!r} holds {len(raw)} bytes but shape {shape} of {dtype.name} "
            f"needs {expected}; the file is truncated or was edited"
        )
    return np.frombuffer(raw, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def _checksum(attrs: Iterable[tuple[str, str]], arrays: Iterable[tuple[str, np.ndarray]]) -> str:
    h = hashlib.sha256()
    for k, v in attrs:
        h.update(f"{k}={v};".encode())
    for name, a in arrays:
        a = _c_order(a)
        h.update(f"{name}:{a.dtype.name}:{a.shape};".encode())
        h.update(a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes())
    return "sha256:" + h.hexdigest()


# --------------------------------------------------------------------------- the <Model> element


def _arch_attrs(model: Model) -> list[tuple[str, str]]:
    net = model.network
    return (
        [
            ("Format", FORMAT),
            ("FormatVersion", str(FORMAT_VERSION)),
            ("TimeSteps", str(net.time_steps)),
            ("Features", str(net.features)),
            ("NOutputs", str(net.n_outputs)),
            ("Layout", net.to_layout()),
            ("DType", np.dtype(model.dtype).name),
            ("DataLayout", model.data_layout),
        ]
        + _analysis_attrs(model)
        + ([("TrainedWithMask", "1")] if model.trained_with_mask else [])
    )


def _analysis_attrs(model: Model) -> list[tuple[str, str]]:
    """What Multiclass and Regression models add; nothing for Classification."""
    kind = model.analysis_type
    if kind == "CLASSIFICATION":
        return []
    names = model.class_names if kind == "MULTICLASS" else model.target_names
    key = "ClassNames" if kind == "MULTICLASS" else "TargetNames"
    return [("AnalysisType", TMVA_NAMES[kind]), (key, json.dumps(list(names)))]


def _named_arrays(model: Model) -> list[tuple[str, np.ndarray]]:
    arrays = [
        (f"{layer}/{k}", a) for layer, d in model.params.items() for k, a in sorted(d.items())
    ]
    if model.transform.kind != "NONE":
        arrays += [
            ("transform/offset", model.transform.offset),
            ("transform/scale", model.transform.scale),
        ]
    if model.target_transform.kind != "NONE":
        arrays += [
            ("target_transform/offset", model.target_transform.offset),
            ("target_transform/scale", model.target_transform.scale),
        ]
    return arrays


def model_to_element(model: Model, extra: ET.Element | None = None) -> ET.Element:
    """The self-contained ``<Model>`` element; ``extra`` (e.g. a training state) is appended."""
    attrs = _arch_attrs(model)
    root = ET.Element("Model", dict(attrs))
    root.set("Checksum", _checksum(attrs, _named_arrays(model)))
    ET.SubElement(root, "Options").text = model.options.to_string()
    variables = ET.SubElement(root, "Variables", NVar=str(len(model.variable_names)))
    for i, name in enumerate(model.variable_names):
        ET.SubElement(variables, "Variable", Index=str(i), Name=name)
    for layer in model.network.layers:
        el = ET.SubElement(
            root,
            "Layer",
            Name=layer.name,
            Kind=layer.kind,
            Inputs=str(layer.n_in),
            Units=str(layer.units),
            Activation=layer.activation,
            ReturnSequences=str(int(layer.return_sequences)),
        )
        if layer.kind == "GRU":  # TMVA's <GRULayer> attribute name
            el.set("ResetGateAfter", str(int(layer.reset_after)))
        for k, a in sorted(model.params.get(layer.name, {}).items()):
            el.append(array_to_element(k, a))
    tr = ET.SubElement(root, "Transform", Kind=model.transform.kind)
    if model.transform.kind != "NONE":
        tr.append(array_to_element("offset", model.transform.offset))
        tr.append(array_to_element("scale", model.transform.scale))
    if model.target_transform.kind != "NONE":
        ttr = ET.SubElement(root, "TargetTransform", Kind=model.target_transform.kind)
        ttr.append(array_to_element("offset", model.target_transform.offset))
        ttr.append(array_to_element("scale", model.target_transform.scale))
    h = model.history
    hist = ET.SubElement(
        root, "History", BestEpoch=str(h.best_epoch), Seed=str(h.seed), StopReason=h.stop_reason
    )
    for e, tl, vl, s in zip(h.epoch, h.train_loss, h.val_loss, h.seconds, strict=True):
        ET.SubElement(
            hist, "Epoch", Index=str(e), TrainLoss=repr(tl), ValLoss=repr(vl), Seconds=repr(s)
        )
    if extra is not None:
        root.append(extra)
    return root


def _int(el: ET.Element, key: str, source: str) -> int:
    try:
        return int(el.get(key, ""))
    except ValueError:
        raise ModelFileError(f"{source}: attribute {key} of <{el.tag}> is not an integer") from None


def model_from_element(root: ET.Element, source: str = "<model>") -> Model:
    """Rebuild a Model from its ``<Model>`` element; checks format, shapes and checksum."""
    if root.tag != "Model" or root.get("Format") != FORMAT:
        raise ModelFileError(
            f"{source}: no tmva_lstm <Model> element; is this a PyLSTM weight file?"
        )
    version = _int(root, "FormatVersion", source)
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{source}: model format version {version} is newer than this tmva_lstm "
            f"({__version__}, format {FORMAT_VERSION}); upgrade tmva_lstm to read it"
        )
    try:
        options = MethodOptions.from_string((root.findtext("Options") or "").strip())
    except OptionError as err:
        raise ModelFileError(f"{source}: stored options are invalid: {err}") from None
    layers, params = [], {}
    for el in root.findall("Layer"):
        layer = Layer(
            name=el.get("Name", ""),
            kind=el.get("Kind", ""),
            n_in=_int(el, "Inputs", source),
            units=_int(el, "Units", source),
            activation=el.get("Activation", "LINEAR"),
            return_sequences=el.get("ReturnSequences") == "1",
            reset_after=el.get("ResetGateAfter") == "1",
        )
        layers.append(layer)
        arrays = {a.get("Name", ""): array_from_element(a, source) for a in el.findall("Array")}
        if arrays:
            params[layer.name] = arrays
    network = Network(
        tuple(layers),
        _int(root, "TimeSteps", source),
        _int(root, "Features", source),
        _int(root, "NOutputs", source),
    )
    try:  # the stored layer list must be a network that the stored Layout resolves to
        rebuilt = Network.from_layout(
            root.get("Layout", ""), network.time_steps, network.features, network.n_outputs
        )
    except OptionError as err:
        raise ModelFileError(f"{source}: stored architecture is invalid: {err}") from None
    if rebuilt != network:
        raise ModelFileError(
            f"{source}: the layers do not match the stored Layout; the file was edited"
        )
    for layer_name, shapes in network.param_shapes().items():
        for k, shape in shapes.items():
            got = params.get(layer_name, {}).get(k)
            if got is None or got.shape != shape:
                raise ModelFileError(
                    f"{source}: parameter {layer_name}/{k} has shape "
                    f"{None if got is None else got.shape}, expected {shape}; the file was edited"
                )
    tr_el = root.find("Transform")
    transform = InputTransform()
    if tr_el is not None and tr_el.get("Kind", "NONE") != "NONE":
        arrays = {a.get("Name"): array_from_element(a, source) for a in tr_el.findall("Array")}
        transform = InputTransform(
            tr_el.get("Kind", "NONE"), arrays.get("offset"), arrays.get("scale")
        )
    variables = [v.get("Name", "") for v in root.iter("Variable")]
    history = History()
    h_el = root.find("History")
    if h_el is not None:
        history.best_epoch = _int(h_el, "BestEpoch", source)
        history.seed = _int(h_el, "Seed", source)
        history.stop_reason = h_el.get("StopReason", "")
        for e in h_el.findall("Epoch"):
            history.append(
                _int(e, "Index", source),
                float(e.get("TrainLoss", "nan")),
                float(e.get("ValLoss", "nan")),
                float(e.get("Seconds", "nan")),
            )
    model = Model(
        network, params, options, variables, transform, history, root.get("DataLayout", ""),
        trained_with_mask=root.get("TrainedWithMask") == "1",
    )  # fmt: skip
    _read_analysis(model, root, source)
    if _checksum(_arch_attrs(model), _named_arrays(model)) != root.get("Checksum"):
        raise ModelFileError(
            f"{source}: checksum mismatch — the weights or architecture were modified or corrupted; "
            "retrain or restore the file"
        )
    return model


def _read_analysis(model: Model, root: ET.Element, source: str) -> None:
    """Class names, target names and target transform of a Multiclass or Regression model."""
    kind = model.analysis_type
    stored = root.get("AnalysisType", "Classification")
    if stored != TMVA_NAMES[kind]:
        raise ModelFileError(
            f"{source}: AnalysisType {stored} does not match the stored options "
            f"({TMVA_NAMES[kind]}); the file was edited"
        )
    if kind == "CLASSIFICATION":
        return
    key = "ClassNames" if kind == "MULTICLASS" else "TargetNames"
    try:
        names = json.loads(root.get(key, ""))
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValueError(key)
    except ValueError:
        raise ModelFileError(f"{source}: attribute {key} is missing or malformed") from None
    if len(names) != model.network.n_outputs:
        raise ModelFileError(
            f"{source}: {len(names)} names in {key} for {model.network.n_outputs} outputs"
        )
    if kind == "MULTICLASS":
        model.class_names = names
        return
    model.target_names = names
    el = root.find("TargetTransform")
    if el is not None and el.get("Kind", "NONE") != "NONE":
        arrays = {a.get("Name"): array_from_element(a, source) for a in el.findall("Array")}
        offset, scale = arrays.get("offset"), arrays.get("scale")
        if offset is None or scale is None or {offset.shape, scale.shape} != {(len(names),)}:
            raise ModelFileError(f"{source}: the target transformation is malformed")
        model.target_transform = TargetTransform(el.get("Kind", "NONE"), offset, scale)


# --------------------------------------------------------------------------- the file


def _variables_element(names: list[str]) -> ET.Element:
    el = ET.Element("Variables", NVar=str(len(names)))
    for i, name in enumerate(names):
        expr = name.split("[", 1)[0]
        ET.SubElement(
            el, "Variable", VarIndex=str(i), Expression=expr, Label=name, Title=name,
            Unit="", Internal=name, Type="F",
        )  # fmt: skip
    return el


def model_document(
    model: Model, title: str = "PyLSTM", extra: ET.Element | None = None
) -> ET.Element:
    """The whole ``<MethodSetup>`` document."""
    root = ET.Element("MethodSetup", Method=f"PyLSTM::{title}")
    info = ET.SubElement(root, "GeneralInfo")
    for name, value in (
        ("Creator", "tmva_lstm"),
        ("tmva_lstm version", __version__),
        ("Date", datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")),
        ("AnalysisType", TMVA_NAMES[model.analysis_type]),
    ):
        ET.SubElement(info, "Info", name=name, value=value)
    opts = ET.SubElement(root, "Options")
    for token in model.options.to_string().split(":"):
        if "=" in token:
            key, value = token.split("=", 1)
            ET.SubElement(opts, "Option", name=key, modified="Yes").text = value
        else:
            ET.SubElement(opts, "Option", name=token.lstrip("!"), modified="Yes").text = (
                "False" if token.startswith("!") else "True"
            )
    root.append(_variables_element(model.variable_names))
    ET.SubElement(root, "Spectators", NSpec="0")
    kind = model.analysis_type
    names = {"CLASSIFICATION": ["Signal", "Background"], "MULTICLASS": model.class_names}
    class_names = names.get(kind, ["Regression"])  # regression: one class
    classes = ET.SubElement(root, "Classes", NClass=str(len(class_names)))
    for i, name in enumerate(class_names):
        ET.SubElement(classes, "Class", Name=name, Index=str(i))
    if kind == "REGRESSION":  # TMVA's <Targets> block
        targets = ET.SubElement(root, "Targets", NTrgt=str(len(model.target_names)))
        for i, name in enumerate(model.target_names):
            ET.SubElement(
                targets, "Target", TargetIndex=str(i), Expression=name, Label=name, Title=name,
                Unit="", Internal=name, Type="F",
            )  # fmt: skip
    ET.SubElement(root, "Transformations", NTransformations="0")
    ET.SubElement(root, "MVAPdfs")
    weights = ET.SubElement(root, "Weights")
    weights.append(model_to_element(model, extra))
    return root


def document_bytes(root: ET.Element) -> bytes:
    ET.indent(root, space=" ")
    return b'<?xml version="1.0"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n"


_TITLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_title(title: str) -> str:
    """A method title becomes a branch, a histogram prefix and a file name: an identifier."""
    if not isinstance(title, str) or not _TITLE.match(title):
        raise OptionError(
            f"title {title!r} is not a valid branch name: use letters, digits and '_', not "
            "starting with a digit (e.g. LSTM_10)"
        )
    return title


def save_model(
    model: Model, path: str | Path, title: str = "PyLSTM", extra: ET.Element | None = None
) -> Path:
    """Write the model file atomically and return its path."""
    check_title(title)
    return atomic_write_bytes(path, document_bytes(model_document(model, title, extra)))


def read_document(path: str | Path) -> tuple[ET.Element, str]:
    """Read and safely parse an XML file; return its root and a name for messages."""
    path = Path(path)
    source = str(path)
    if path.is_dir():
        raise ModelFileError(
            f"{source} is a directory; give the model file (weights/....weights.xml)"
        )
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ModelFileError(f"{source}: {size} bytes is too large for a model file")
        data = path.read_bytes()
    except FileNotFoundError:
        raise ModelFileError(f"model file {source} does not exist; check the path") from None
    except PermissionError:
        raise ModelFileError(
            f"model file {source} is not readable; check its permissions"
        ) from None
    if not data.strip():
        raise ModelFileError(f"model file {source} is empty; retrain or restore it")
    return parse_xml(data, source), source


def find_model_element(root: ET.Element, source: str) -> ET.Element:
    if root.tag == "Model":
        return root
    found = root.find("./Weights/Model")
    if found is None:
        found = root.find(".//Model")
    if found is None:
        raise ModelFileError(
            f"{source}: no tmva_lstm model inside (no <Weights>/<Model>); is it a PyLSTM weight file?"
        )
    return found


def model_title(path: str | Path) -> str:
    """The method title a model file was saved with (``MethodSetup Method="PyLSTM::<title>"``)."""
    root, _ = read_document(path)
    method = root.get("Method", "") if root.tag == "MethodSetup" else ""
    return method.partition("::")[2] or "PyLSTM"


def load_model(path: str | Path) -> Model:
    """Read a model file (ours, or a TMVA weight file written by the PyLSTM method)."""
    root, source = read_document(path)
    return model_from_element(find_model_element(root, source), source)
