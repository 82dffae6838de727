"""TMVA option strings <-> configuration dataclasses.

One parser serves the TMVA method (``BookMethod(..., "PyLSTM", title, options)``) and the
command line, so the same string works in both::

    !H:!V:VarTransform=None:InputLayout=10|30:Layout=LSTM|10|30|10|0|1,RESHAPE|FLAT,DENSE|64|TANH,LINEAR
    :TrainingStrategy=LearningRate=1e-3,BatchSize=100,MaxEpochs=20,Optimizer=ADAM:RandomSeed=1234

Syntax, as TMVA's ``Configurable``: ``:``-separated tokens, ``Key=Value`` or a boolean
``Key`` / ``!Key``; keys are case-insensitive; enumerated values are TMVA's upper-case names
(accepted in any case, stored upper-case). A bare token that is a value of exactly one
enumerated option sets that option (TMVA's loose checking: ``:CPU`` means
``Architecture=CPU``).

Training keys can be given TMVA ``MethodDL``-style inside ``TrainingStrategy=`` (phases
separated by ``|``, ``Key=Value`` pairs by ``,``) or PyKeras-style at top level
(``NumEpochs=20:BatchSize=100``); top-level keys apply to every phase.
``MethodOptions.to_string()`` prints the canonical string, which parses back to an equal object.
"""

from __future__ import annotations

import ast
import dataclasses
import math
import operator
import warnings
from dataclasses import dataclass, field
from typing import Any

from .errors import OptionError, TmvaLstmWarning, close_matches

__all__ = [
    "TrainingOptions",
    "LayerSpec",
    "MethodOptions",
    "parse_layout",
    "parse_validation_size",
    "help_text",
    "differences",
]

OPTIMIZERS = ("ADAM", "SGD", "RMSPROP", "ADAGRAD", "ADADELTA")
REGULARIZATIONS = ("NONE", "L1", "L2")
INITIALIZATIONS = ("XAVIER", "XAVIERUNIFORM", "GAUSS", "UNIFORM", "IDENTITY", "ZERO")
ERROR_STRATEGIES = ("CROSSENTROPY", "SUMOFSQUARES", "MUTUALEXCLUSIVE")  # see nn/heads.py
ANALYSIS_TYPES = ("CLASSIFICATION", "MULTICLASS", "REGRESSION")
ARCHITECTURES = ("CPU", "STANDARD")
VAR_TRANSFORMS = ("NONE", "N")  # N: TMVA's Normalise, linear map of each variable to [-1, 1]
DATA_SOURCES = ("TMVA", "UPROOT")
NON_FINITE = ("STOP", "DROP")
RECURRENT = ("LSTM", "GRU", "RNN")  # MethodDL's recurrent layer types
ACTIVATIONS = ("TANH", "RELU", "SIGMOID", "SYMMRELU", "SOFTSIGN", "GAUSS", "LINEAR", "IDENTITY")


# --------------------------------------------------------------------------- training


@dataclass
class TrainingOptions:
    """One training phase, with TMVA ``MethodDL``'s names and defaults."""

    max_epochs: int = 2000  # MaxEpochs (alias NumEpochs)
    batch_size: int = 30  # BatchSize: events per gradient step
    learning_rate: float = 1e-3  # LearningRate
    momentum: float = 0.0  # Momentum: SGD and RMSPROP only
    optimizer: str = "ADAM"  # Optimizer: ADAM | SGD | RMSPROP | ADAGRAD | ADADELTA
    weight_decay: float = 0.0  # WeightDecay: lambda of the regularisation term
    regularization: str = "NONE"  # Regularization: NONE | L1 | L2 (dense layers, as TMVA)
    convergence_steps: int = 100  # ConvergenceSteps: early-stopping patience in epochs
    test_repetitions: int = 1  # TestRepetitions: validate every N epochs
    clip_grad_norm: float = 0.0  # ClipGradNorm: global gradient-norm clip; 0 = off

    def validate(self) -> None:
        """Raise OptionError for values that cannot train."""
        for name in ("max_epochs", "batch_size", "convergence_steps", "test_repetitions"):
            if getattr(self, name) <= 0:
                raise OptionError(
                    f"{_KEY_OF[name]}={getattr(self, name)} must be a positive integer"
                )
        if not self.learning_rate > 0:
            raise OptionError(f"LearningRate={self.learning_rate} must be positive")
        for name in ("momentum", "weight_decay", "clip_grad_norm"):
            if getattr(self, name) < 0:
                raise OptionError(f"{_KEY_OF[name]}={getattr(self, name)} must not be negative")


# TMVA key -> (field, type, choices). Keys are matched case-insensitively.
_TRAINING_KEYS: dict[str, tuple[str, type, tuple[str, ...] | None]] = {
    "MaxEpochs": ("max_epochs", int, None),
    "BatchSize": ("batch_size", int, None),
    "LearningRate": ("learning_rate", float, None),
    "Momentum": ("momentum", float, None),
    "Optimizer": ("optimizer", str, OPTIMIZERS),
    "WeightDecay": ("weight_decay", float, None),
    "Regularization": ("regularization", str, REGULARIZATIONS),
    "ConvergenceSteps": ("convergence_steps", int, None),
    "TestRepetitions": ("test_repetitions", int, None),
    "ClipGradNorm": ("clip_grad_norm", float, None),
}
_TRAINING_ALIASES = {"NUMEPOCHS": "MaxEpochs"}
# Keys of old TMVA examples that MethodDL reads and ignores; accepted for compatibility.
_TRAINING_IGNORED = (
    "REPETITIONS",
    "MULTITHREADING",
    "DROPREPETITIONS",
    "RENORMALIZE",
    "DROPCONFIG",
)
_KEY_OF = {f: k for k, (f, _, _) in _TRAINING_KEYS.items()}


def _convert(key: str, raw: str, typ: type, choices: tuple[str, ...] | None, where: str) -> Any:
    raw = raw.strip()
    if choices is not None:
        value = raw.upper()
        if value not in choices:
            raise OptionError(
                f"bad value {raw!r} for option {key}{where}; valid: {' | '.join(choices)}"
                + close_matches(value, choices)
            )
        return value
    if typ is str:
        return raw
    if typ is bool:
        low = raw.lower()
        if low in ("1", "true", "t", "yes", "y", "on", "kTRUE".lower()):
            return True
        if low in ("0", "false", "f", "no", "n", "off", "kFALSE".lower()):
            return False
        raise OptionError(f"bad value {raw!r} for boolean option {key}{where}; use {key} or !{key}")
    try:
        number = float(raw)
        if not math.isfinite(number) or (typ is int and number != int(number)):
            raise ValueError
        return int(number) if typ is int else number
    except ValueError:
        kind = "an integer" if typ is int else "a finite number"
        raise OptionError(f"bad value {raw!r} for option {key}{where}; expected {kind}") from None


def _parse_training_strategy(text: str) -> list[dict[str, Any]]:
    """``TrainingStrategy`` -> one dict of field overrides per phase."""
    phases = []
    for phase in text.replace(" ", "").split("|"):
        if not phase:
            continue
        values: dict[str, Any] = {}
        for pair in phase.split(","):
            if not pair:
                continue
            if "=" not in pair:
                raise OptionError(
                    f"bad TrainingStrategy entry {pair!r}: expected Key=Value pairs separated by ','"
                )
            key, raw = pair.split("=", 1)
            canon = _canonical_training_key(key, "TrainingStrategy")
            if canon is None:
                continue
            fld, typ, choices = _TRAINING_KEYS[canon]
            value = _convert(canon, raw, typ, choices, " in TrainingStrategy")
            if fld in values and values[fld] != value:
                _warn_twice(canon, values[fld], value, " in one TrainingStrategy phase")
            values[fld] = value
        phases.append(values)
    return phases or [{}]


def _warn_twice(key: str, first: Any, last: Any, where: str = "") -> None:
    """A key given twice with different values: TMVA keeps the last one; say so."""
    warnings.warn(
        f"option {key} is given twice{where} ({key}={first} and {key}={last}); "
        f"using {key}={last}: remove one of them",
        TmvaLstmWarning,
        stacklevel=4,
    )


def _shown(value: Any) -> Any:
    return f"{value[0]}|{value[1]}" if isinstance(value, tuple) else value


def _canonical_training_key(key: str, where: str) -> str | None:
    up = key.strip().upper()
    up = _TRAINING_ALIASES.get(up, up).upper()
    for k in _TRAINING_KEYS:
        if k.upper() == up:
            return k
    if up in _TRAINING_IGNORED:
        return None
    valid = list(_TRAINING_KEYS) + ["NumEpochs"]
    raise OptionError(
        f"unknown key {key!r} in {where}{close_matches(key, valid)}; valid: {', '.join(valid)}"
    )


def parse_validation_size(text: str, n_events: int) -> int:
    """TMVA's ``ValidationSize``: ``"20%"``, a fraction ``0.2`` (< 1) or a count ``100``."""
    raw = str(text).strip()
    try:
        value = float(raw[:-1]) / 100.0 if raw.endswith("%") else float(raw)
        if not math.isfinite(value):
            raise ValueError(raw)
        n = int(n_events * value) if raw.endswith("%") or value < 1 else int(value)
    except ValueError:
        raise OptionError(
            f"bad ValidationSize {raw!r}; use a percentage ('20%'), a fraction (0.2) or a count (100)"
        ) from None
    if n < 0:
        raise OptionError(f"ValidationSize={raw} must not be negative")
    return n


# --------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class LayerSpec:
    """One layer of ``Layout``. ``kind`` is LSTM, GRU, RNN, FLATTEN or DENSE.

    LSTM, GRU, RNN: ``units`` = state size H, ``return_sequences``; ``input_size``/``time_steps``
    as written (0 = follow the input); GRU: ``reset_after`` (TMVA's ``resetGateAfter``). DENSE: ``units`` (0 = the output size, 1 for two classes)
    and ``activation``.
    """

    kind: str
    units: int = 0
    activation: str = "LINEAR"
    return_sequences: bool = False
    input_size: int = 0
    time_steps: int = 0
    reset_after: bool = False  # GRU only: TMVA's resetGateAfter (reset gate after the matmul)

    def to_string(self) -> str:
        if self.kind in RECURRENT:
            text = (
                f"{self.kind}|{self.units}|{self.input_size}|{self.time_steps}|0|"
                f"{int(self.return_sequences)}"
            )
            return text + (f"|{int(self.reset_after)}" if self.kind == "GRU" else "")
        if self.kind == "FLATTEN":
            return "RESHAPE|FLAT"
        return f"DENSE|{self.units}|{self.activation}"


_FORMULA_OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
}


def _eval_width(expr: str, n_inputs: int) -> int:
    """A DENSE width as TMVA writes it: an integer or arithmetic in ``N`` (number of inputs)."""

    def ev(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return node.value
        if isinstance(node, ast.Name) and node.id in ("N", "n"):
            return n_inputs
        if isinstance(node, ast.BinOp) and type(node.op) in _FORMULA_OPS:
            return _FORMULA_OPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            v = ev(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        raise ValueError(expr)

    try:
        value = ev(ast.parse(expr, mode="eval"))
        if not math.isfinite(value):
            raise ValueError(expr)
    except (SyntaxError, ValueError, ZeroDivisionError, OverflowError, RecursionError):
        raise OptionError(
            f"bad layer width {expr!r} in Layout; use an integer or a formula in N such as (N+100)*2"
        ) from None
    return int(value)


def parse_layout(text: str, n_inputs: int = 0) -> list[LayerSpec]:
    """Parse TMVA's ``Layout`` into layer specs.

    Layers are separated by ``,``, tokens by ``|``; the first token picks the layer:
    ``LSTM|H|inputSize|timeSteps|rememberState|returnSequence`` (unspecified positions are 0;
    ``RNN`` the same, ``GRU`` with a seventh field ``resetGateAfter``),
    ``RESHAPE|FLAT``, ``DENSE|width|activation`` (tokens in any order). As in TMVA, any other
    first token starts a DENSE layer, so a bare ``LINEAR`` is a linear output layer.
    ``n_inputs`` is the number of input variables, used for widths written with ``N``.
    """
    layers: list[LayerSpec] = []
    for raw_layer in text.replace(" ", "").split(","):
        if not raw_layer:
            continue
        tokens = [t for t in raw_layer.split("|")]
        head = tokens[0].upper()
        if head in RECURRENT:
            layers.append(_parse_recurrent(head, tokens, raw_layer))
        elif head == "RESHAPE":
            if "FLAT" not in (t.upper() for t in tokens[1:]):
                raise OptionError(f"layer {raw_layer!r} in Layout: only RESHAPE|FLAT is supported")
            layers.append(LayerSpec("FLATTEN"))
        elif head in ("CONV", "MAXPOOL", "BNORM"):
            raise OptionError(
                f"layer type {head} in Layout is not supported by PyLSTM; "
                "use LSTM, GRU, RNN, RESHAPE|FLAT and DENSE layers"
            )
        else:
            dense_tokens = tokens[1:] if head == "DENSE" else tokens
            activation, width = "TANH", None  # TMVA's DENSE default activation
            for t in dense_tokens:
                up = t.upper()
                if up in ACTIVATIONS:
                    activation = "LINEAR" if up == "IDENTITY" else up
                elif t and width is None:
                    width = _eval_width(t, n_inputs)
                elif t:
                    raise OptionError(
                        f"bad DENSE layer {raw_layer!r} in Layout: {t!r} is neither a width nor an "
                        f"activation ({', '.join(ACTIVATIONS)})" + close_matches(up, ACTIVATIONS)
                    )
            if width is not None and width < 0:
                raise OptionError(f"DENSE layer {raw_layer!r} in Layout has a negative width")
            layers.append(LayerSpec("DENSE", units=width or 0, activation=activation))
    if not layers:
        raise OptionError("Layout is empty; e.g. Layout=LSTM|10,DENSE|64|TANH,LINEAR")
    if layers[-1].kind != "DENSE":
        raise OptionError(
            f"Layout {text!r} must end with a DENSE layer that gives the output, e.g. add ',LINEAR'"
        )
    return layers


def _parse_recurrent(kind: str, tokens: list[str], raw_layer: str) -> LayerSpec:
    """MethodDL's ``ParseRecurrentLayer``: ``TYPE|stateSize|inputSize|timeSteps|rememberState
    |returnSequence|resetGateAfter``, positional, unspecified positions 0 (false)."""
    fields = "stateSize|inputSize|timeSteps|rememberState|returnSequence|resetGateAfter"
    nums = []
    for t in tokens[1:]:
        try:
            nums.append(abs(int(t)))
        except ValueError:
            raise OptionError(
                f"bad {kind} layer {raw_layer!r} in Layout; use {kind}|{fields}"
            ) from None
    if len(nums) > 6:
        raise OptionError(
            f"{kind} layer {raw_layer!r} in Layout has {len(nums)} numbers; at most 6: "
            f"{kind}|{fields}"
        )
    if kind != "GRU" and len(nums) == 6 and nums[5]:
        raise OptionError(
            f"{kind} layer {raw_layer!r}: resetGateAfter (the sixth number) applies to GRU "
            "layers only; set it to 0 or remove it"
        )
    nums += [0] * (6 - len(nums))
    units, input_size, time_steps, remember, return_seq, reset_after = nums[:6]
    if units <= 0:
        raise OptionError(
            f"{kind} layer {raw_layer!r} in Layout needs a positive state size, e.g. {kind}|10"
        )
    if remember:
        raise OptionError(
            f"{kind} layer {raw_layer!r}: rememberState=1 (state carried across batches) "
            "is not supported; set the fourth number to 0"
        )
    return LayerSpec(
        kind,
        units=units,
        return_sequences=bool(return_seq),
        input_size=input_size,
        time_steps=time_steps,
        reset_after=bool(reset_after),
    )


def LSTMSpec(
    units: int, return_sequences: bool, input_size: int = 0, time_steps: int = 0
) -> LayerSpec:
    """Shorthand for an LSTM layer spec."""
    return LayerSpec(
        "LSTM",
        units=units,
        return_sequences=return_sequences,
        input_size=input_size,
        time_steps=time_steps,
    )


def parse_input_layout(text: str) -> tuple[int, int] | None:
    """``InputLayout``: ``T|F`` (time steps | features), ``1|T|F`` or ``W`` (one step); all 0 = unset."""
    raw = text.replace(" ", "")
    try:
        dims = [abs(int(t)) for t in raw.split("|") if t != ""]
    except ValueError:
        raise OptionError(
            f"bad InputLayout {text!r}; use time steps | features, e.g. InputLayout=10|30"
        ) from None
    if not dims or all(d == 0 for d in dims):
        return None
    if len(dims) == 1:
        dims = [1, dims[0]]
    elif len(dims) == 3:
        if dims[0] == 1:
            dims = dims[1:]
        elif dims[1] == 1:
            dims = [dims[0], dims[2]]
        else:
            raise OptionError(
                f"InputLayout {text!r} has three dimensions; PyLSTM takes time steps | features"
            )
    if len(dims) != 2 or 0 in dims:
        raise OptionError(
            f"bad InputLayout {text!r}; use two positive sizes, time steps | features, e.g. 10|30"
        )
    return dims[0], dims[1]


# --------------------------------------------------------------------------- the method


@dataclass
class MethodOptions:
    """Every option of the PyLSTM method (TMVA names in the comments)."""

    help: bool = False  # H: print the method's help message
    verbose: bool = False  # V: verbose output
    silent: bool = False  # Silent: no progress output at all
    verbosity_level: str = "Default"  # VerbosityLevel (TMVA base option; kept for compatibility)
    var_transform: str = "NONE"  # VarTransform: NONE | N (normalise each variable to [-1, 1])
    create_mva_pdfs: bool = False  # CreateMVAPdfs (TMVA base option; TMVA handles it)
    ignore_neg_weights: bool = False  # IgnoreNegWeightsInTraining: drop events with weight < 0
    input_layout: tuple[int, int] | None = None  # InputLayout: time steps | features
    layout: str = "LSTM|10,DENSE|64|TANH,LINEAR"  # Layout: LSTM last state -> dense -> output
    analysis_type: str = "CLASSIFICATION"  # AnalysisType: CLASSIFICATION | MULTICLASS | REGRESSION
    error_strategy: str = "CROSSENTROPY"  # ErrorStrategy: the loss per analysis type (nn/heads.py)
    weight_initialization: str = "XAVIER"  # WeightInitialization: TMVA's default
    random_seed: int = 0  # RandomSeed: 0 draws a fresh seed (recorded in the model), as TMVA
    validation_size: str = "20%"  # ValidationSize: random, stratified by class
    architecture: str = "CPU"  # Architecture: the NumPy path runs on the CPU
    data_source: str = "TMVA"  # DataSource: TMVA (events from the DataLoader) | UPROOT (files)
    non_finite: str = "STOP"  # NonFinite: STOP on NaN/Inf inputs | DROP those events
    training: list[TrainingOptions] = field(default_factory=lambda: [TrainingOptions()])

    # ---- the key table: TMVA key -> (field, type, choices)
    _KEYS = {
        "H": ("help", bool, None),
        "V": ("verbose", bool, None),
        "Silent": ("silent", bool, None),
        "VerbosityLevel": ("verbosity_level", str, None),
        "VarTransform": ("var_transform", str, VAR_TRANSFORMS),
        "CreateMVAPdfs": ("create_mva_pdfs", bool, None),
        "IgnoreNegWeightsInTraining": ("ignore_neg_weights", bool, None),
        "InputLayout": ("input_layout", str, None),
        "BatchLayout": (None, str, None),  # accepted and ignored: batches are (N, T, F)
        "Layout": ("layout", str, None),
        "AnalysisType": ("analysis_type", str, ANALYSIS_TYPES),
        "ErrorStrategy": ("error_strategy", str, ERROR_STRATEGIES),
        "WeightInitialization": ("weight_initialization", str, INITIALIZATIONS),
        "RandomSeed": ("random_seed", int, None),
        "ValidationSize": ("validation_size", str, None),
        "Architecture": ("architecture", str, ARCHITECTURES),
        "DataSource": ("data_source", str, DATA_SOURCES),
        "NonFinite": ("non_finite", str, NON_FINITE),
        "TrainingStrategy": ("training", str, None),
    }

    @classmethod
    def known_keys(cls) -> list[str]:
        """Every key the parser accepts (TMVA spelling), training keys and NumEpochs included."""
        return list(cls._KEYS) + list(_TRAINING_KEYS) + ["NumEpochs"]

    @classmethod
    def _canonical(cls, key: str) -> str:
        up = key.strip().upper()
        for k in cls._KEYS:
            if k.upper() == up:
                return k
        up = _TRAINING_ALIASES.get(up, up).upper()
        for k in _TRAINING_KEYS:
            if k.upper() == up:
                return k
        valid = cls.known_keys()
        raise OptionError(
            f"unknown option {key.strip()!r}{close_matches(key.strip(), valid)}; "
            f"valid options: {', '.join(valid)}"
        )

    @classmethod
    def from_string(cls, text: str) -> MethodOptions:
        """Parse a TMVA option string; raises OptionError naming the bad key or value."""
        if text is not None and not isinstance(text, str):
            raise OptionError(
                f"options must be a TMVA option string such as 'MaxEpochs=20:BatchSize=100', "
                f"not {type(text).__name__} {text!r}"
            )
        opts = cls()
        phase_overrides: list[dict[str, Any]] | None = None
        top_training: dict[str, Any] = {}
        seen: dict[str, Any] = {}  # key -> value given, to warn about a key given twice
        for token in (text or "").split(":"):
            token = token.strip()
            if not token:
                continue
            if "=" in token:
                key, raw = token.split("=", 1)
                negated = False
            else:
                negated = token.startswith("!")
                key, raw = token.lstrip("!"), None
            try:
                canon = cls._canonical(key)
            except OptionError:
                if raw is None and not negated:
                    loose = cls._loose_value(key)
                    if loose is not None:
                        setattr(opts, *loose)
                        continue
                raise
            if canon in _TRAINING_KEYS:
                if raw is None:
                    raise OptionError(f"option {canon} needs a value, e.g. {canon}=...")
                fld, typ, choices = _TRAINING_KEYS[canon]
                top_training[fld] = _convert(canon, raw, typ, choices, "")
                if canon in seen and seen[canon] != top_training[fld]:
                    _warn_twice(canon, seen[canon], top_training[fld])
                seen[canon] = top_training[fld]
                continue
            fld, typ, choices = cls._KEYS[canon]
            if raw is None:
                if typ is not bool:
                    raise OptionError(f"option {canon} needs a value, e.g. {canon}=...")
                value: Any = not negated
            elif negated:
                raise OptionError(f"'!' negates boolean options only, not {token!r}")
            elif canon == "TrainingStrategy":
                if canon in seen and seen[canon] != raw.strip():
                    _warn_twice(canon, seen[canon], raw.strip())
                seen[canon] = raw.strip()
                phase_overrides = _parse_training_strategy(raw)
                continue
            elif canon == "InputLayout":
                value = parse_input_layout(raw)
            elif canon == "Layout":
                value = raw.replace(" ", "")
                parse_layout(value)  # validate now: a typo is reported at booking time
            elif canon == "ValidationSize":
                value = raw.strip()
                parse_validation_size(value, 100)
            else:
                value = _convert(canon, raw, typ, choices, "")
            if canon in seen and seen[canon] != value:
                _warn_twice(canon, _shown(seen[canon]), _shown(value))
            seen[canon] = value
            if fld is not None:
                setattr(opts, fld, value)
        phases = phase_overrides or [{}]
        for fld, value in top_training.items():  # top-level keys override every phase
            key = _KEY_OF[fld]
            for phase in phases:
                if fld in phase and phase[fld] != value:
                    _warn_twice(key, phase[fld], value, " (in TrainingStrategy and at top level)")
        opts.training = [TrainingOptions(**{**phase, **top_training}) for phase in phases]
        for phase in opts.training:
            phase.validate()
        return opts

    @classmethod
    def _loose_value(cls, token: str) -> tuple[str, str] | None:
        """TMVA's loose checking: a bare value of exactly one enumerated option."""
        up = token.strip().upper()
        hits = [fld for fld, _, choices in cls._KEYS.values() if choices and up in choices]
        return (hits[0], up) if len(hits) == 1 else None

    def to_string(self) -> str:
        """The canonical option string; ``from_string(s.to_string()) == s``."""
        parts = [
            ("" if self.help else "!") + "H",
            ("" if self.verbose else "!") + "V",
        ]
        if self.silent:
            parts.append("Silent")
        defaults = MethodOptions()
        for key, (fld, _, _) in self._KEYS.items():
            if fld is None or key in ("H", "V", "Silent", "TrainingStrategy"):
                continue
            value = getattr(self, fld)
            if isinstance(value, bool):
                if value != getattr(defaults, fld):
                    parts.append(("" if value else "!") + key)
                continue
            if fld == "input_layout":
                if value is None:
                    continue
                value = f"{value[0]}|{value[1]}"
            parts.append(f"{key}={value}")
        phases = []
        for phase in self.training:
            phases.append(
                ",".join(
                    f"{key}={getattr(phase, fld)}" for key, (fld, _, _) in _TRAINING_KEYS.items()
                )
            )
        parts.append("TrainingStrategy=" + "|".join(phases))
        return ":".join(parts)

    def layers(self, n_inputs: int = 0) -> list[LayerSpec]:
        """The parsed ``Layout``."""
        return parse_layout(self.layout, n_inputs)

    def replace(self, **changes: Any) -> MethodOptions:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)


# --------------------------------------------------------------------------- help (option H)

_HELP_ROWS = (
    ("InputLayout", "T|F: time steps | features; variable j*F+k is step j, feature k"),
    ("Layout", "LSTM|H[|inputSize|timeSteps|0|returnSequence], RESHAPE|FLAT, DENSE|width|"
     "activation, ..., LINEAR (the output)"),
    ("MaxEpochs", "maximum number of epochs (alias NumEpochs)"),
    ("BatchSize", "events per gradient step"),
    ("LearningRate", "step size of the optimizer"),
    ("Momentum", "momentum of SGD and RMSPROP"),
    ("Optimizer", " | ".join(OPTIMIZERS)),
    ("WeightDecay", "lambda of the L1/L2 term"),
    ("Regularization", " | ".join(REGULARIZATIONS) + " (on dense weights)"),
    ("ConvergenceSteps", "early stopping: epochs without a better validation loss"),
    ("TestRepetitions", "validate every N epochs"),
    ("ClipGradNorm", "global gradient-norm clip (0: off)"),
    ("ValidationSize", "20%, 0.2 or a count, from the end of the training sample"),
    ("WeightInitialization", " | ".join(INITIALIZATIONS)),
    ("RandomSeed", "0 draws a seed (recorded in the model)"),
    ("VarTransform", "None | N (each variable linearly to [-1, 1])"),
    ("NonFinite", "STOP on NaN/Inf inputs | DROP those events"),
    ("IgnoreNegWeightsInTraining", "drop negative-weight events from training"),
    ("TrainingStrategy", "phases separated by |, each Key=Value,... of the training keys"),
    ("H, V, Silent", "this help, verbose epoch table, no output"),
)  # fmt: skip


def help_text(options: MethodOptions | None = None) -> str:
    """What option ``H`` prints: every option with its value (or default) and meaning."""
    opts = options or MethodOptions()
    phase = opts.training[0]
    lines = [
        "PyLSTM: an LSTM classifier (tmva_lstm), TMVA MethodDL's option syntax:",
        "  Key=Value tokens separated by ':', e.g.",
        "  !H:!V:InputLayout=10|30:Layout=LSTM|10,DENSE|64|TANH,LINEAR:MaxEpochs=20:BatchSize=100",
        "Options (value in use):",
    ]
    for key, meaning in _HELP_ROWS:
        if key in _TRAINING_KEYS:
            value = getattr(phase, _TRAINING_KEYS[key][0])
        elif key in MethodOptions._KEYS and key != "TrainingStrategy":
            value = _shown(getattr(opts, MethodOptions._KEYS[key][0]))
        else:
            value = ""
        shown = f"{key}={value}" if value != "" and value is not None else key
        lines.append(f"  {shown:<34} {meaning}")
    return "\n".join(lines) + "\n"


def differences(old: MethodOptions, new: MethodOptions) -> list[tuple[str, Any, Any]]:
    """``(TMVA key, old value, new value)`` for every option that differs (phases by index)."""
    out = []
    for key, (fld, _, _) in MethodOptions._KEYS.items():
        if fld is None or fld == "training":
            continue
        a, b = getattr(old, fld), getattr(new, fld)
        if a != b:
            out.append((key, _shown(a), _shown(b)))
    if len(old.training) != len(new.training):
        out.append(("TrainingStrategy", f"{len(old.training)} phases", f"{len(new.training)}"))
        return out
    for i, (pa, pb) in enumerate(zip(old.training, new.training, strict=True)):
        where = f" (phase {i + 1})" if len(old.training) > 1 else ""
        for key, (fld, _, _) in _TRAINING_KEYS.items():
            if getattr(pa, fld) != getattr(pb, fld):
                out.append((key + where, getattr(pa, fld), getattr(pb, fld)))
    return out
