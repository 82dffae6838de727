"""A standalone C++17 response class for a trained model, as TMVA's ``MethodBase::MakeClass``.

The file ``<job>_<title>.class.C`` holds a class ``Read<title>`` derived from TMVA's
``IClassifierReader`` with ``GetMvaValue(const std::vector<double>&)``, in the layout TMVA gives
its classic methods (BDT, MLP, ...): an analysis framework compiles it with nothing but the
C++ standard library. The weights are inline (hexadecimal floating literals: exact), the
forward pass is plain C++ computed in double, the model's input transformation is included,
and models of the jagged layout get an overload ``GetMvaValue(inputValues, nSteps)`` that
reads only the first ``nSteps`` time steps (the rest count as padding, as a mask does).

Layers are written by emitters, one per layer kind (:data:`EMITTERS`, in
:mod:`tmva_lstm.cpp_layers`): an emitter returns the static weight arrays and a member function
``void Layer<i>(const double* in, size_t nSteps, double* out) const``. A model with a layer kind that has no emitter is refused with an
:class:`~tmva_lstm.errors.OptionError`, never written half right.

Two entry points: :func:`make_class` writes the whole file (``tmva-lstm make-class``);
:func:`class_specific` is the part ``MethodBase::MakeClass`` asks a method for
(``MakeClassSpecific``), which the TMVA binding returns.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from ._cling import declare
from .cpp_layers import EMITTERS, LayerCode, _array
from .errors import OptionError

__all__ = ["EMITTERS", "LayerCode", "class_specific", "make_class", "class_source"]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _is_jagged(model) -> bool:
    return str(getattr(model, "data_layout", "")).strip().lower().startswith("jagged")


def _check_name(name: str, what: str) -> str:
    if not _IDENT.match(name):
        raise OptionError(
            f"make-class: {what} {name!r} is not a C++ identifier (letters, digits, '_'); "
            "choose another method title"
        )
    return name


def class_specific(model, class_name: str) -> str:
    """The method-specific part of TMVA's class file, for ``MakeClassSpecific``: private
    members, the end of the class, and ``Initialize``, ``Clear`` and ``GetMvaValue__``.
    Also declares the ``(inputValues, nSteps)`` overload. Raises OptionError for a layer kind
    without an emitter."""
    _check_name(class_name, "class name")
    kind = getattr(model, "analysis_type", "CLASSIFICATION")
    net, params = model.network, model.params
    T, F = net.time_steps, net.features
    codes: list[LayerCode] = []
    indices: list[int] = []
    for i, layer in enumerate(net.layers):
        emit = EMITTERS.get(layer.kind)
        if emit is None:
            raise OptionError(
                f"make-class: layer {layer.name} ({layer.kind}) has no C++ emitter in "
                f"tmva_lstm.makeclass; supported: {', '.join(EMITTERS)}"
            )
        code = emit(i, layer, params.get(layer.name, {}), T)
        if code is not None:
            codes.append(code)
            indices.append(i)
    tr = model.transform
    if tr.kind == "NONE":
        transform = "x[i] = inputValues[i];"
        tr_members = ""
    else:
        transform = "x[i] = (inputValues[i] - kOffset[i]) * kScale[i];"
        tr_members = _array("kOffset", tr.offset) + _array("kScale", tr.scale)
    width = max([T * F] + [c.width for c in codes])
    calls = []
    src = "x.data()"
    for k, i in enumerate(indices):
        dst = "a.data()" if k % 2 == 0 else "b.data()"
        calls.append(f"      Layer{i}({src}, nSteps, {dst});")
        src = dst
    head = f"""
   // the network: {net.to_layout()}; input {T} steps x {F} features (variable j*{F}+k: step j,
   // feature k); computed in double
   static constexpr size_t kSteps = {T}, kFeatures = {F}, kWidth = {width};
   // through std::exp, a few times cheaper than std::tanh; absolute error below 1e-15
   static double Sigmoid(double v) {{ return 1.0 / (1.0 + std::exp(-v)); }}
   static double Tanh(double v) {{ return 1.0 - 2.0 / (1.0 + std::exp(2.0 * v)); }}
{tr_members}{"".join(c.members for c in codes)}{"".join(c.function for c in codes)}"""
    forward = f"""      std::vector<double> x(kWidth, 0.0), a(kWidth, 0.0), b(kWidth, 0.0);
      for (size_t i = 0; i < nSteps * kFeatures; ++i) {transform}
{chr(10).join(calls)}"""
    result = src.replace(".data()", "")
    if kind == "MULTICLASS":
        return head + _multiclass_tail(class_name, forward, result, net.n_outputs)
    if kind == "REGRESSION":
        return head + _regression_tail(class_name, forward, result, net.n_outputs, model)
    return (
        head
        + f"""
 public:
   // the response for an event whose first nSteps time steps are valid (the others are
   // padding: their values are not read), as the jagged layout's mask
   double GetMvaValue(const std::vector<double>& inputValues, size_t nSteps) const
   {{
      if (!IsStatusClean()) {{
         std::cout << "Problem in class \\"" << fClassName << "\\": cannot return classifier response"
                   << " because status is dirty" << std::endl;
         return 0;
      }}
      return GetMvaValue__(inputValues, nSteps);
   }}

 private:
   double GetMvaValue__(const std::vector<double>& inputValues, size_t nSteps) const
   {{
      if (nSteps > kSteps) nSteps = kSteps;
      if (inputValues.size() < nSteps * kFeatures) {{
         std::cout << "Problem in class \\"" << fClassName << "\\": " << inputValues.size()
                   << " input values for " << nSteps << " steps of " << kFeatures << std::endl;
         return -999;
      }}
{forward}
      const double score = Sigmoid({result}[0]);
      return std::isnan(score) ? -999 : score;
   }}
}};

inline void {class_name}::Initialize() {{}}

inline void {class_name}::Clear() {{}}

inline double {class_name}::GetMvaValue__(const std::vector<double>& inputValues) const
{{
   return GetMvaValue__(inputValues, kSteps);
}}
"""
    )


_CHECK_VALUES = """      if (nSteps > kSteps) nSteps = kSteps;
      if (inputValues.size() < nSteps * kFeatures) {{
         std::cout << "Problem in class \\"" << fClassName << "\\": " << inputValues.size()
                   << " input values for " << nSteps << " steps of " << kFeatures << std::endl;
         return {error};
      }}
"""


def _multiclass_tail(class_name: str, forward: str, result: str, k: int) -> str:
    """``GetMulticlassValues``: the softmax of the K network outputs (TMVA's MakeClass for
    multiclass declares ``GetMulticlassValues`` and ``GetMulticlassValues__``)."""
    check = _CHECK_VALUES.format(error="std::vector<double>()")
    return f"""
 public:
   static constexpr size_t kClasses = {k};
   // the class probabilities of an event whose first nSteps time steps are valid (the others
   // are padding: their values are not read), as the jagged layout's mask
   std::vector<double> GetMulticlassValues(const std::vector<double>& inputValues,
                                           size_t nSteps) const
   {{
      if (!IsStatusClean()) {{
         std::cout << "Problem in class \\"" << fClassName << "\\": cannot return classifier response"
                   << " because status is dirty" << std::endl;
         return std::vector<double>();
      }}
      return GetMulticlassValues__(inputValues, nSteps);
   }}

 private:
   std::vector<double> GetMulticlassValues__(const std::vector<double>& inputValues,
                                             size_t nSteps) const
   {{
{check}{forward}
      // softmax, shifted by the largest output (no overflow)
      double zmax = {result}[0];
      for (size_t c = 1; c < kClasses; ++c) if ({result}[c] > zmax) zmax = {result}[c];
      std::vector<double> p(kClasses);
      double sum = 0.0;
      for (size_t c = 0; c < kClasses; ++c) sum += (p[c] = std::exp({result}[c] - zmax));
      for (size_t c = 0; c < kClasses; ++c) p[c] /= sum;
      return p;
   }}
}};

inline void {class_name}::Initialize() {{}}

inline void {class_name}::Clear() {{}}

inline std::vector<double> {class_name}::GetMulticlassValues__(const std::vector<double>& inputValues) const
{{
   return GetMulticlassValues__(inputValues, kSteps);
}}
"""


def _regression_tail(class_name: str, forward: str, result: str, m: int, model) -> str:
    """``GetRegressionValues``: the M target values (the network's linear outputs, transformed
    back to the targets' units when the model normalised them); ``GetMvaValue`` is the first,
    as TMVA's MakeClass gives a regression method's response."""
    check = _CHECK_VALUES.format(error="std::vector<double>()")
    tt = model.target_transform
    if tt.kind == "NONE":
        members, back = "", f"{result}[j]"
    else:
        members = _array("kTargetOffset", tt.offset) + _array("kTargetScale", tt.scale)
        back = f"{result}[j] / kTargetScale[j] + kTargetOffset[j]"
    return f"""{members}
 public:
   static constexpr size_t kTargets = {m};
   // the target values of an event whose first nSteps time steps are valid (the others are
   // padding: their values are not read), as the jagged layout's mask
   std::vector<double> GetRegressionValues(const std::vector<double>& inputValues,
                                           size_t nSteps = kSteps) const
   {{
      if (!IsStatusClean()) {{
         std::cout << "Problem in class \\"" << fClassName << "\\": cannot return regression values"
                   << " because status is dirty" << std::endl;
         return std::vector<double>();
      }}
      if (inputValues.size() != GetNvar() && nSteps == kSteps) {{
         std::cout << "Problem in class \\"" << fClassName << "\\": " << inputValues.size()
                   << " input values, expected " << GetNvar() << std::endl;
         return std::vector<double>();
      }}
      return GetRegressionValues__(inputValues, nSteps);
   }}

   // the first target, for an event whose first nSteps time steps are valid
   double GetMvaValue(const std::vector<double>& inputValues, size_t nSteps) const
   {{
      const std::vector<double> v = GetRegressionValues(inputValues, nSteps);
      return v.empty() ? -999 : v[0];
   }}

 private:
   std::vector<double> GetRegressionValues__(const std::vector<double>& inputValues,
                                             size_t nSteps) const
   {{
{check}{forward}
      std::vector<double> v(kTargets);
      for (size_t j = 0; j < kTargets; ++j) v[j] = {back};
      return v;
   }}
}};

inline void {class_name}::Initialize() {{}}

inline void {class_name}::Clear() {{}}

inline double {class_name}::GetMvaValue__(const std::vector<double>& inputValues) const
{{
   const std::vector<double> v = GetRegressionValues__(inputValues, kSteps);
   return v.empty() ? -999 : v[0];
}}
"""


def _cpp_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def class_source(model, title: str = "PyLSTM", job: str = "TMVAClassification") -> str:
    """The whole class file, in the layout of TMVA's ``MethodBase::MakeClass``."""
    class_name = "Read" + _check_name(title, "method title")
    names = list(model.variable_names)
    nvar = len(names)
    T, F = model.input_layout
    if nvar != T * F:
        raise OptionError(f"make-class: {nvar} variable names for {T} x {F} inputs")
    var_list = ", ".join(f'"{_cpp_string(n)}"' for n in names)
    jagged = _is_jagged(model)
    layout_note = (
        f"// Jagged layout ({model.data_layout}): call GetMvaValue(inputValues, nSteps) with the\n"
        "// number of valid steps (objects); GetMvaValue(inputValues) counts every step as valid.\n"
        if jagged
        else ""
    )
    from . import __version__

    multi = getattr(model, "analysis_type", "CLASSIFICATION") == "MULTICLASS"
    # TMVA's MakeClass: a Multiclass class answers GetMulticlassValues instead of GetMvaValue
    response = (
        "std::vector<double> GetMulticlassValues( const std::vector<double>& inputValues ) const"
        if multi
        else "double GetMvaValue( const std::vector<double>& inputValues ) const"
    )
    private_response = (
        "std::vector<double> GetMulticlassValues__( const std::vector<double>& inputValues ) const"
        if multi
        else "double GetMvaValue__( const std::vector<double>& inputValues ) const"
    )
    outer = (
        "std::vector<double> {0}::GetMulticlassValues( const std::vector<double>& inputValues ) const"
        if multi
        else "double {0}::GetMvaValue( const std::vector<double>& inputValues ) const"
    ).format(class_name)
    retval, error, inner = (
        ("std::vector<double> retval;", "retval = std::vector<double>();",
         "GetMulticlassValues__( inputValues )")
        if multi
        else ("double retval = 0;", "retval = -999;", "GetMvaValue__( inputValues )")
    )  # fmt: skip
    usage = (
        "std::vector<double> p = reader.GetMulticlassValues(values);   // class probabilities"
        if multi
        else "double mva = reader.GetMvaValue(values);"
    )
    kind = getattr(model, "analysis_type", "CLASSIFICATION")
    if kind == "REGRESSION":
        usage += "   // the first target; all: GetRegressionValues(values)"
    targets = (
        f"// Outputs: {kind.title()}"
        + (f", classes {', '.join(model.class_names)}" if kind == "MULTICLASS" else "")
        + (f", targets {', '.join(model.target_names)}" if kind == "REGRESSION" else "")
        + "\n"
    )

    return f"""// Class: {class_name}
// Automatically generated by tmva_lstm {__version__} (the layout of TMVA's MethodBase::MakeClass)
//
// Method: PyLSTM::{title} (job {job}); network {model.network.to_layout()}
// Inputs: {nvar} variables = {T} time steps x {F} features; variable j*{F}+k is step j, feature k.
// Input transformation: {model.transform.kind} (included below).
{targets}{layout_note}//
// Standalone C++17: needs only the standard library. Usage:
//   std::vector<std::string> names = {{ ... the {nvar} variable names ... }};
//   {class_name} reader(names);
//   {usage}   // values: std::vector<double> of {nvar}

#include <array>
#include <vector>
#include <cmath>
#include <string>
#include <iostream>

#ifndef IClassifierReader__def
#define IClassifierReader__def

class IClassifierReader {{

 public:

   // constructor
   IClassifierReader() : fStatusIsClean( true ) {{}}
   virtual ~IClassifierReader() {{}}

   // return classifier response
   virtual {response} = 0;

   // returns classifier status
   bool IsStatusClean() const {{ return fStatusIsClean; }}

 protected:

   bool fStatusIsClean;
}};

#endif

class {class_name} : public IClassifierReader {{

 public:

   // constructor
   {class_name}( std::vector<std::string>& theInputVars )
      : IClassifierReader(),
        fClassName( "{class_name}" ),
        fNvars( {nvar} )
   {{
      // the training input variables
      const char* inputVars[] = {{ {var_list} }};

      // sanity checks
      if (theInputVars.size() <= 0) {{
         std::cout << "Problem in class \\"" << fClassName << "\\": empty input vector" << std::endl;
         fStatusIsClean = false;
      }}

      if (theInputVars.size() != fNvars) {{
         std::cout << "Problem in class \\"" << fClassName << "\\": mismatch in number of input values: "
                   << theInputVars.size() << " != " << fNvars << std::endl;
         fStatusIsClean = false;
      }}

      // validate input variables
      for (size_t ivar = 0; ivar < theInputVars.size() && ivar < fNvars; ivar++) {{
         if (theInputVars[ivar] != inputVars[ivar]) {{
            std::cout << "Problem in class \\"" << fClassName << "\\": mismatch in input variable names" << std::endl
                      << " for variable [" << ivar << "]: " << theInputVars[ivar].c_str() << " != " << inputVars[ivar] << std::endl;
            fStatusIsClean = false;
         }}
      }}

      // initialize constants
      Initialize();
   }}

   // destructor
   virtual ~{class_name}() {{
      Clear(); // method-specific
   }}

   // the classifier response
   // "inputValues" is a vector of input values in the same order as the
   // variables given to the constructor
   {response} override;

 private:

   // method-specific destructor
   void Clear();

   // common member variables
   const char* fClassName;

   const size_t fNvars;
   size_t GetNvar()           const {{ return fNvars; }}

   // initialize internal variables
   void Initialize();
   {private_response};

   // private members (method specific)
{class_specific(model, class_name)}
inline {outer}
{{
   // classifier response value
   {retval}

   // classifier response, sanity check first
   if (!IsStatusClean()) {{
      std::cout << "Problem in class \\"" << fClassName << "\\": cannot return classifier response"
                << " because status is dirty" << std::endl;
   }}
   else if (inputValues.size() != fNvars) {{
      std::cout << "Problem in class \\"" << fClassName << "\\": " << inputValues.size()
                << " input values, expected " << fNvars << std::endl;
      {error}
   }}
   else {{
      retval = {inner};
   }}

   return retval;
}}
"""


def make_class(
    model, path: str | Path | None = None, *, title: str = "PyLSTM", job: str = "TMVAClassification"
) -> Path:
    """Write the class file (default ``<job>_<title>.class.C`` in the working directory),
    atomically; returns its path."""
    text = class_source(model, title=title, job=job)
    path = Path(path) if path is not None else Path(f"{job}_{title}.class.C")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


_responses: dict[str, int] = {}  # sha256 of a class's code -> address of its response function


def compiled_response(model) -> int:
    """Compile the model's class with cling (once per distinct model in a process) and return
    the address of a C++ function ``double(const std::vector<double>&)`` giving its score:
    what the TMVA binding's ``GetMvaValue`` calls, so that no Python runs per event.

    ``TMVA_LSTM_KERNEL=numpy`` (nothing compiled) refuses with a RuntimeError.
    """
    import hashlib

    from .nn import lstm

    if lstm.kernel_name() == "numpy":
        raise RuntimeError("TMVA_LSTM_KERNEL=numpy: no compiled code")
    if getattr(model, "analysis_type", "CLASSIFICATION") != "CLASSIFICATION":
        raise RuntimeError("the compiled response is a classifier's GetMvaValue")
    body = class_source(model, title="TmvaLstmResponse")
    key = hashlib.sha256(body.encode()).hexdigest()[:16]
    if key in _responses:
        return _responses[key]
    import ROOT

    title = f"TmvaLstmResponse_{key}"
    names = ", ".join(f'"{_cpp_string(n)}"' for n in model.variable_names)
    code = (  # cling compiles declarations without optimisation unless asked
        "#pragma cling optimize(2)\n"
        + class_source(model, title=title)
        + f"""
namespace tmva_lstm_response_{key} {{
inline double Response(const std::vector<double>& values)
{{
   static std::vector<std::string> names = {{ {names} }};
   static const Read{title} reader(names);
   return reader.GetMvaValue(values);
}}
inline long long Address() {{ return reinterpret_cast<long long>(&Response); }}
}}
"""
    )
    if not declare(code):
        raise RuntimeError("cling could not compile the response class (messages above)")
    address = int(getattr(ROOT, f"tmva_lstm_response_{key}").Address())
    _responses[key] = address
    return address
