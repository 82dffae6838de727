"""The PyLSTM method class: a Python class that TMVA drives like any of its own methods.

``method_class(glue)`` builds, once per glue (see :mod:`tmva_lstm.tmva._cpp`), a Python class
derived through cppyy's cross-inheritance from the C++ shim, which derives from
``TMVA::PyMethodBase`` or ``TMVA::MethodBase``. TMVA calls, in this order:

* booking (``Factory::BookMethod``): constructor, ``HasAnalysisType``, ``SetupMethod`` (our
  ``Init``, ``DeclareOptions``), ``ParseOptions``, ``ProcessSetup`` (our ``ProcessOptions``),
  ``CheckSetup`` (unused option tokens are fatal);
* training (``TrainMethod``): ``Train``, then ``GetMvaValues`` on the training sample and
  ``AddWeightsXMLTo`` for the weight file;
* re-creation from the weight file (Factory after training, ``Reader::BookMVA``): the
  weight-file constructor, ``Init``, ``DeclareOptions``, then ``ReadWeightsFromXML``;
  ``ProcessOptions`` is *not* called on this path;
* application: ``GetMvaValues`` (TestTree) or ``GetMvaValue`` per event (Reader).

Options: the option string is parsed by :class:`tmva_lstm.options.MethodOptions`, the parser the
command line uses. TMVA's ``Configurable`` checks every ``:``-separated token of the booking
string: a token that no declared option consumes is fatal in ``CheckSetup``, and ``!Key`` for a
declared option that is not boolean is fatal already in ``ParseOptions``. Therefore:

* ``DeclareOptions`` declares each key of ``MethodOptions.known_keys()`` that ``MethodBase`` does
  not declare itself, bound to C++ storage in the shim: as a boolean when the booking string uses
  it as a flag (``Key`` or ``!Key``), else as a string. TMVA then consumes those tokens, prints
  them and records them under ``<Options>`` in the weight file.
* ``ProcessOptions`` hands our parser the tokens with our keys and any token TMVA did not consume
  (our parser raises :class:`~tmva_lstm.errors.OptionError` naming an unknown key and listing the
  valid ones). Tokens of options TMVA acts on itself are left to TMVA: ``VarTransform`` (the
  copied events are already transformed), ``CreateMVAPdfs``, ``VerbosityLevel`` and the options
  of TMVA's MVA PDFs. Then it marks every token as consumed (``SetOptions``), so ``CheckSetup``
  passes exactly when our parser accepted the string.
* The weight file keeps the canonical option string (``MethodOptions.to_string()``) in
  ``<Weights Options="...">``; that, not ``<Options>``, is what the model is rebuilt from.
"""

from __future__ import annotations

import importlib
import time
import warnings
import xml.etree.ElementTree as ET

import numpy as np

from tmva_lstm.errors import DataError, ModelFileError, OptionError
from tmva_lstm.tmva import METHOD_NAME, _xml

__all__ = [
    "METHOD_NAME",
    "WEIGHTS_FORMAT",
    "WEIGHTS_FORMAT_VERSION",
    "method_class",
    "tmva_base_options",
]

WEIGHTS_FORMAT = "tmva_lstm"
WEIGHTS_FORMAT_VERSION = "1"

# Options declared by TMVA::MethodBase::DeclareBaseOptions for every method (lower case).
_BASE_OPTIONS = (
    "v",
    "verbositylevel",
    "vartransform",
    "h",
    "createmvapdfs",
    "ignorenegweightsintraining",
)

# Of those, the ones TMVA alone acts on: the events PyLSTM copies are already transformed by
# TMVA (VarTransform), and TMVA makes the output PDFs and sets its own verbosity. They are not
# passed to our parser, which would otherwise transform the variables a second time.
_TMVA_ONLY_OPTIONS = ("vartransform", "createmvapdfs", "verbositylevel")

_classes: dict[str, type] = {}

# TMVA's Types::EAnalysisType values, as AnalysisTypeCode() returns them.
_ANALYSIS_TYPES = {0: "CLASSIFICATION", 1: "REGRESSION", 2: "MULTICLASS"}


def tmva_base_options() -> tuple[str, ...]:
    """Option keys (lower case) that TMVA's MethodBase declares for every method."""
    return _BASE_OPTIONS


def _engine():
    """``(MethodOptions, train, Model)``, imported when first needed (tests substitute this)."""
    options = importlib.import_module("tmva_lstm.options")
    train = importlib.import_module("tmva_lstm.training")
    model = importlib.import_module("tmva_lstm.model")
    return options.MethodOptions, train.train, model.Model


class _LogStream:
    """A text stream whose lines go to the method's TMVA logger (kINFO), for training progress.

    Our warning lines are left out: the Python warnings they accompany are forwarded as kWARNING.
    """

    def __init__(self, method) -> None:
        self._method = method
        self._pending = ""

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.replace("\r", "\n").split("\n")
        for line in lines:
            if line.strip() and "WARNING:" not in line:
                self._method.LogInfo(line.removeprefix("PyLSTM: "))  # the logger names us
        return len(text)

    def flush(self) -> None:
        pass


def _train_logged(method, train, *args, **kwargs):
    """``train(*args, progress=..., **kwargs)`` with its output and warnings in TMVA's log."""
    progress_cls = importlib.import_module("tmva_lstm.training").Progress
    progress = progress_cls(args[3], _LogStream(method))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            return train(*args, progress=progress, **kwargs)
        finally:
            for warning in caught:
                method.LogWarning(f"PyLSTM {method.GetName()}: {warning.message}")


def _split(option_string: str) -> list[str]:
    return [t for t in str(option_string).split(":") if t]


def _key(token: str) -> str:
    """The lower-case option key of a token: ``~!Key``, ``Key=value`` -> ``key``."""
    return token.lstrip("~").lstrip("!").split("=", 1)[0].strip().lower()


def _default_values(method_options) -> dict[str, str]:
    """Default value of each option (lower-case key) as the canonical string prints it."""
    try:
        text = method_options.from_string("").to_string()
    except (OptionError, ValueError):  # defaults that need a value: leave them blank
        return {}
    values = {}
    for token in _split(text):
        if "=" in token:
            key, value = token.split("=", 1)
            values[key.strip().lower()] = value
    return values


def _input_layout(opts, n_variables: int) -> tuple[int, int]:
    """``(T, F)`` for the events' ``n_variables``: InputLayout, or one time step of all variables."""
    layout = opts.input_layout
    if layout is None:
        return 1, n_variables
    n_steps, n_features = (int(v) for v in layout)
    if n_steps * n_features != n_variables:
        raise OptionError(
            f"InputLayout={n_steps}|{n_features} needs {n_steps * n_features} input variables, "
            f"the DataLoader declares {n_variables}; variable j*F+k is time step j, feature k"
        )
    return n_steps, n_features


def method_class(glue):
    """Return the PyLSTM method class for the C++ glue namespace ``glue`` (built once)."""
    tag = glue.__cpp_name__ if hasattr(glue, "__cpp_name__") else str(glue)
    if tag not in _classes:
        _classes[tag] = _build_class(glue)
    return _classes[tag]


def _analysis_type(options, tmva_code: int, explicit: bool, where: str):
    """``options`` with TMVA's analysis type (the Factory's ``AnalysisType``; ``tmva_code`` 3:
    TMVA set none). An ``AnalysisType`` given in the booking string (``explicit``) must agree."""
    tmva_type = _ANALYSIS_TYPES.get(int(tmva_code))
    if tmva_type is None or tmva_type == options.analysis_type:
        return options
    if explicit:
        raise OptionError(
            f"{where}: AnalysisType={options.analysis_type.capitalize()}, but TMVA runs this "
            f"method as {tmva_type.capitalize()} (the Factory's option AnalysisType); "
            "give the analysis type to the Factory and leave it out of the method's options"
        )
    return options.replace(analysis_type=tmva_type)


def _build_class(glue):
    shim = glue.MethodPyLSTMShim

    class MethodPyLSTM(shim):
        """TMVA method ``PyLSTM``: an LSTM network (Classification, Multiclass or Regression)
        trained by tmva_lstm in NumPy."""

        def __init__(self, *args):
            super().__init__(*args)
            self._options = None  # MethodOptions, after ProcessOptions or ReadWeightsFromXML
            self._model = None  # tmva_lstm.model.Model, after Train or reading the weights
            self.SetResponse(0)
            self._shape = None  # (T, F)
            self._our_keys = ()  # lower-case keys our parser knows

        # ---------------------------------------------------------------- setup
        def Init(self):
            self._options = None
            self._model = None

        def HasAnalysisType(self, analysis_type, n_classes, n_targets):
            kind = _ANALYSIS_TYPES.get(int(analysis_type))
            if kind == "CLASSIFICATION":
                return int(n_classes) == 2
            if kind == "MULTICLASS":
                return int(n_classes) >= 2
            return kind == "REGRESSION" and int(n_targets) >= 1

        def DeclareOptions(self):
            method_options, _, _ = _engine()
            defaults = _default_values(method_options)
            flags = {
                _key(t)
                for t in _split(self.GetOptions())
                if "=" not in t and _key(t) not in _BASE_OPTIONS
            }
            keys = []
            for key in method_options.known_keys():
                lower = key.lower()
                keys.append(lower)
                if lower in _BASE_OPTIONS:
                    continue  # declared by TMVA::MethodBase already
                description = f"tmva_lstm option {key} (see tmva_lstm.options)"
                if lower in flags:
                    self.DeclareFlagOption(key, True, description)
                else:
                    self.DeclareStringOption(key, defaults.get(lower, ""), description)
            self._our_keys = tuple(keys)

        def ProcessOptions(self):
            method_options, _, _ = _engine()
            tokens = _split(self.GetOptions())
            ours = [
                t.lstrip("~")
                for t in tokens
                if _key(t) not in _TMVA_ONLY_OPTIONS
                and (_key(t) in self._our_keys or not t.startswith("~"))
            ]
            try:
                self._options = _analysis_type(
                    method_options.from_string(":".join(ours)),
                    self.AnalysisTypeCode(),
                    any(_key(t) == "analysistype" for t in tokens),
                    f"PyLSTM {self.GetName()}",
                )
            except OptionError as err:
                # Also through TMVA's logger: PyROOT reports an exception raised inside an
                # overloaded C++ call given Python str arguments (Factory::BookMethod) as
                # "could not convert argument 2", and the message would be lost.
                self.LogError(f"PyLSTM option string {self.GetOptions()!s}: {err}")
                raise
            # Every token is now interpreted, by TMVA or by our parser: mark all as consumed.
            self.SetOptions(":".join("~" + t.lstrip("~") for t in tokens))

        # ---------------------------------------------------------------- training
        def Train(self):
            _, train, _ = _engine()
            n_events = int(self.NTrainingEvents())
            n_variables = int(self.NVariables())
            if n_events == 0:
                raise DataError(f"PyLSTM {self.GetName()}: the training sample is empty")
            if self._options is None:
                raise RuntimeError("PyLSTM: Train() called before ProcessOptions()")
            n_steps, n_features = _input_layout(self._options, n_variables)
            kind = self._options.analysis_type
            x = np.empty((n_events, n_variables), dtype=np.float32)
            y = np.empty(n_events, dtype=np.int32)
            w = np.empty(n_events, dtype=np.float64)
            self.CopyTrainingEvents(x, y, w)
            labels, outputs = y.astype(np.int64), {}
            if kind == "MULTICLASS":
                outputs["class_names"] = [str(n) for n in self.ClassNames()]
            elif kind == "REGRESSION":
                targets = np.empty((n_events, int(self.NTargets())), dtype=np.float32)
                self.CopyTrainingTargets(targets)
                labels = targets.astype(np.float64)
                outputs["target_names"] = [str(n) for n in self.TargetNames()]
            self.LogInfo(
                f"Training on {n_events} events of {n_variables} variables "
                f"as {n_steps} time steps x {n_features} features ({kind.capitalize()})"
            )
            names = [str(n) for n in self.VariableNames()]
            self._model = _train_logged(
                self,
                train,
                x.reshape(n_events, n_steps, n_features),
                labels,
                w,
                self._options,
                variable_names=names,
                **outputs,
            )
            self._shape = (n_steps, n_features)
            self.SetResponse(0)

        # ---------------------------------------------------------------- application
        def _require_model(self):
            if self._model is None:
                self.ReadModelFromFile()
            if self._shape is None:
                self._shape = _input_layout(self._options, int(self.NVariables()))
            return self._model

        def _current_event(self):
            """``(model, output)`` for the event ``GetEvent()`` returns."""
            model = self._require_model()
            x = np.empty((1, int(self.NVariables())), dtype=np.float32)
            self.CopyCurrentEvent(x)
            return model, model.predict(x.reshape(1, *self._shape))[0]

        def ScoreCurrentEvent(self):
            model, output = self._current_event()
            if model.analysis_type != "CLASSIFICATION":
                raise ModelFileError(
                    f"PyLSTM {self.GetName()} is a {model.analysis_type.capitalize()} model: "
                    "read it with Reader::EvaluateMulticlass or Reader::EvaluateRegression, "
                    "not EvaluateMVA"
                )
            return float(output)

        def EventOutputs(self, outputs):
            model, output = self._current_event()
            if model.analysis_type == "CLASSIFICATION":
                raise ModelFileError(
                    f"PyLSTM {self.GetName()} is a Classification model: read it with "
                    "Reader::EvaluateMVA, not EvaluateMulticlass or EvaluateRegression"
                )
            outputs.clear()
            for value in np.atleast_1d(output):
                outputs.push_back(float(value))

        def PrepareResponse(self):
            """Compile the model's C++ response class (once per model) for GetMvaValue."""
            if self._require_model().analysis_type != "CLASSIFICATION":
                return False  # GetMvaValue is a classification score: ScoreCurrentEvent says so
            try:
                from tmva_lstm.makeclass import compiled_response

                self.SetResponse(compiled_response(self._require_model()))
                return True
            except Exception as err:  # noqa: BLE001 - any failure: score through Python
                self.LogInfo(f"PyLSTM {self.GetName()}: events are scored in Python ({err})")
                return False

        def ClassSpecificCode(self, class_name):
            """The network's C++ for MakeClass; a model it cannot write gives a file that
            stops compilation with the reason (TMVA calls MakeClass after every training)."""
            from tmva_lstm.makeclass import class_specific

            try:
                return class_specific(self._require_model(), str(class_name))
            except Exception as err:  # noqa: BLE001 - never fail TMVA's training for this
                reason = str(err).replace('"', "'").replace("\n", " ")
                self.LogWarning(f"PyLSTM {self.GetName()}: no standalone C++ class: {reason}")
                return f'\n#error "PyLSTM (tmva_lstm): no standalone C++ class: {reason}"\n'

        def GetMvaValues(self, first=0, last=-1, log_progress=False):
            model = self._require_model()
            n_all = int(self.NEventsCurrentType())
            first, last = int(first), int(last)
            if first > last or last > n_all:
                last = n_all
            first = max(first, 0)
            n = last - first
            start = time.perf_counter()
            if log_progress:
                sample = "training" if self.CurrentTypeIsTraining() else "testing"
                self.LogInfo(
                    f"Dataset[{self.DataSetName()}] : Evaluation of {self.GetName()} "
                    f"on {sample} sample ({n} events)"
                )
            scores = np.zeros(0, dtype=np.float64)
            if n > 0:
                x = np.empty((n, int(self.NVariables())), dtype=np.float32)
                self.CopyEvents(first, last, x)
                scores = np.ascontiguousarray(model.predict(x.reshape(n, *self._shape)), np.float64)
            if log_progress:
                self.LogInfo(
                    f"Dataset[{self.DataSetName()}] : Elapsed time for evaluation of {n} events: "
                    f"{time.perf_counter() - start:.3g} sec"
                )
            return self.MakeValues(scores, n)

        # ---------------------------------------------------------------- weights
        def AddWeightsXMLTo(self, parent):
            if self._model is None:
                raise RuntimeError(f"PyLSTM {self.GetName()}: no trained model to write")
            weights = ET.Element(
                "Weights",
                {
                    "Format": WEIGHTS_FORMAT,
                    "FormatVersion": WEIGHTS_FORMAT_VERSION,
                    "NVar": str(int(self.NVariables())),
                    "Options": self._options.to_string(),
                },
            )
            weights.append(self._model.to_xml_element())
            _xml.append_element(parent, weights)

        def ReadWeightsFromXML(self, node):
            self._read_weights(_xml.read_element(node), source=self.GetWeightFileName())
            # The model and its options come from <Weights>; the <Options> block TMVA parsed
            # before is informative, so none of its tokens may fail CheckSetup (e.g. a key that
            # an older tmva_lstm knew).
            self.SetOptions(":".join("~" + t.lstrip("~") for t in _split(self.GetOptions())))

        def ReadModelFromFile(self):
            """Read the model from this method's weight file (if nothing has read it yet)."""
            if self._model is not None:
                return
            path = str(self.GetWeightFileName())
            try:
                root = ET.parse(path).getroot()
            except (OSError, ET.ParseError) as err:
                raise ModelFileError(f"cannot read PyLSTM weight file {path}: {err}") from err
            weights = root.find("Weights")
            if weights is None:
                raise ModelFileError(f"{path}: no <Weights> element under <{root.tag}>")
            self._read_weights(weights, source=path)

        def _read_weights(self, weights: ET.Element, source) -> None:
            """Rebuild options and model from ``<Weights>``: ours (attributes Format, NVar,
            Options) or a model file written by ``Model.save`` (a bare ``<Weights><Model>``)."""
            method_options, _, model_cls = _engine()
            if weights.get("Format", WEIGHTS_FORMAT) != WEIGHTS_FORMAT:
                raise ModelFileError(
                    f"{source}: <Weights Format={weights.get('Format')!r}> is not a "
                    f"{WEIGHTS_FORMAT!r} model"
                )
            children = list(weights)
            if len(children) != 1:
                raise ModelFileError(f"{source}: <Weights> must hold one model element")
            model = model_cls.from_xml_element(children[0])
            if "Options" in weights.attrib:
                options = method_options.from_string(weights.get("Options"))
            else:
                options = getattr(model, "options", None) or method_options.from_string("")
            if "NVar" in weights.attrib:
                n_var = int(weights.get("NVar"))
            else:
                n_var = len(getattr(model, "variable_names", ()))
            if n_var != int(self.NVariables()):
                raise ModelFileError(
                    f"{source}: the model was trained on {n_var} variables, "
                    f"{int(self.NVariables())} are declared"
                )
            tmva_type = _ANALYSIS_TYPES.get(int(self.AnalysisTypeCode()))
            if tmva_type not in (None, model.analysis_type):
                raise ModelFileError(
                    f"{source}: a {model.analysis_type.capitalize()} model, but TMVA reads it "
                    f"as {tmva_type.capitalize()}"
                )
            self._options, self._model = options, model
            self.SetResponse(0)  # new weights: compile again on the next GetMvaValue
            self._shape = _input_layout(options, n_var)

        # ---------------------------------------------------------------- information
        def CreateRanking(self):
            import ROOT

            return ROOT.nullptr  # an LSTM gives no per-variable ranking

        def GetHelpMessage(self):
            for line in _HELP.strip().splitlines():
                self.LogInfo(line)

    MethodPyLSTM.__name__ = MethodPyLSTM.__qualname__ = "MethodPyLSTM"
    return MethodPyLSTM


_HELP = """
PyLSTM: recurrent networks (LSTM, GRU, RNN layers) written in NumPy (package tmva_lstm),
booked as method "PyLSTM". Classification (two classes), Multiclass (softmax output,
Reader::EvaluateMulticlass) and Regression (Reader::EvaluateRegression), as the Factory's
AnalysisType says. The input variables of an event are a sequence: with InputLayout=T|F,
variable j*F+k is time step j, feature k (as MethodDL's RNN layout).
Options use the same syntax in the Factory and on the tmva-lstm command line, e.g.
  !H:!V:InputLayout=10|30:Layout=LSTM|10,DENSE|64|TANH,LINEAR:MaxEpochs=5
The trained model is stored in the XML weight file under <Weights>; apply it with
TMVA::Reader after tmva_lstm.tmva.register().
"""
