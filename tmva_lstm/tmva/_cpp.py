"""C++ glue declared through cling: the method's C++ shim, the creator trampoline, bulk copies.

One copy of the glue is declared per (TMVA namespace, base class) pair, in the C++ namespace
``tmva_lstm_glue::<tag>``. The namespace is normally ``TMVA``; tests point it at a stand-in.
What is in C++, and why:

* ``MethodPyLSTMShim`` derives from ``TMVA::PyMethodBase`` or ``TMVA::MethodBase`` and is the
  class Python derives from. cppyy generates overrides ("dispatchers") only for virtuals declared
  in the *direct* C++ base of a Python class; a protected pure virtual further up (TMVA's
  ``IMethod::GetHelpMessage``) is left unimplemented, and the Python class could not even be
  instantiated. So the shim redeclares every virtual that Python implements, with TMVA's exact
  signature and ``override`` (cling rejects a signature that does not match the base class).
  The shim also owns the C++ storage the option declarations bind to (``std::deque`` keeps
  references stable), and implements the pointer plumbing: ``GetMvaValue`` sets the error
  estimates to -1 (``NoErrorCalc``) and computes the number. One event at a time (the
  Reader's ``EvaluateMVA``) runs no Python: on the first call Python compiles the model's
  standalone response class (:mod:`tmva_lstm.makeclass`) with cling and hands its address
  over (``PrepareResponse``); where that fails, every call asks Python (``ScoreCurrentEvent``).
  ``MakeClass`` writes that same class (``MakeClassSpecific`` asks Python for its code).
* ``ClassifierFactory::Register`` wants a plain C function pointer. cppyy cannot turn a Python
  callable into one when the parameter types live in a namespace (the wrapper it generates uses
  unqualified names and does not compile), and it refuses a cppyy-wrapped C++ function as well.
  So ``CreateMethod`` is a C++ function whose address is registered from C++ (``RegisterMethod``).
  It forwards to a ``CreatorHook``, a C++ interface that Python implements; the hook object is
  kept in a function-local static.
* ``CopyTrainingEvents`` / ``CopyTrainingTargets`` / ``CopyEvents`` / ``CopyCurrentEvent`` fill
  NumPy buffers (passed as ``Float_t*`` etc.) in one C++ loop over TMVA's events; no Python code
  runs per event.
* ``GetMulticlassValues`` / ``GetRegressionValues`` return references to the shim's vectors,
  filled by Python (``EventOutputs``); regression targets go back through TMVA's
  ``TransformationHandler::InverseTransform`` here, as MethodDL does.

Lifetime: the Python object created by the hook gets ``__python_owns__ = False``. cppyy then
holds a strong reference from the C++ object to its Python half for as long as the C++ object
lives, so TMVA may keep the bare ``IMethod*``; when TMVA ``delete``s it (the Factory does after
training, to re-read the weight file) the dispatcher's destructor releases the Python half.
"""

from __future__ import annotations

from dataclasses import dataclass

from tmva_lstm._cling import declare

__all__ = ["GlueSpec", "glue_source", "declare_glue"]

# Declared once per tag per process.
_declared: dict[str, object] = {}


@dataclass(frozen=True)
class GlueSpec:
    """Where TMVA lives and how it is shaped in this process."""

    namespace: str  # C++ namespace holding TMVA's classes: "TMVA" or a test stand-in
    base: str  # "PyMethodBase" or "MethodBase"
    types_singleton: bool  # older TMVA: Types::Instance().AddTypeMapping(...)
    includes: tuple[str, ...] = ()  # headers to include first (real TMVA)

    @property
    def tag(self) -> str:
        return f"{self.namespace.replace('::', '_')}_{self.base}"


def glue_source(spec: GlueSpec) -> str:
    """Return the C++ source of the glue for ``spec``."""
    ns = spec.namespace
    types = f"{ns}::Types::Instance()." if spec.types_singleton else f"{ns}::Types::"
    # ReadModelFromFile is a pure virtual of PyMethodBase; for MethodBase it is new here.
    read_model = (
        "void ReadModelFromFile() override = 0;"
        if spec.base == "PyMethodBase"
        else "virtual void ReadModelFromFile() = 0;"
    )
    includes = "\n".join(f'#include "{h}"' for h in spec.includes)
    return f"""
{includes}
#include <algorithm>
#include <deque>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>
#include "TString.h"

namespace tmva_lstm_glue {{ namespace {spec.tag} {{

class MethodPyLSTMShim;

// Implemented in Python. ClassifierFactory's creator calls it through CreateMethod below.
class CreatorHook {{
public:
   virtual ~CreatorHook() {{}}
   virtual MethodPyLSTMShim *CreateForTraining(const TString &job, const TString &title,
                                               {ns}::DataSetInfo &dsi, const TString &option) = 0;
   virtual MethodPyLSTMShim *CreateFromWeightFile({ns}::DataSetInfo &dsi, const TString &weightFile) = 0;
}};

inline CreatorHook *&Hook() {{ static CreatorHook *hook = nullptr; return hook; }}
inline {ns}::Types::EMVA &MethodType() {{ static {ns}::Types::EMVA type = {ns}::Types::kPlugins; return type; }}

class MethodPyLSTMShim : public {ns}::{spec.base} {{
public:
   MethodPyLSTMShim(const TString &job, const TString &title, {ns}::DataSetInfo &dsi, const TString &option)
      : {ns}::{spec.base}(job, MethodType(), title, dsi, option) {{}}
   MethodPyLSTMShim({ns}::DataSetInfo &dsi, const TString &weightFile)
      : {ns}::{spec.base}(MethodType(), dsi, weightFile) {{}}
   virtual ~MethodPyLSTMShim() {{}}

   // ---- implemented in Python
   void Train() override = 0;
   void Init() override = 0;
   void DeclareOptions() override = 0;
   void ProcessOptions() override = 0;
   const {ns}::Ranking *CreateRanking() override = 0;
   Bool_t HasAnalysisType({ns}::Types::EAnalysisType type, UInt_t numberClasses, UInt_t numberTargets) override = 0;
   // The score of the event GetEvent() returns (the Reader's event or the data set's current one).
   virtual Double_t ScoreCurrentEvent() = 0;
   // Compile the model's response class and SetResponse() its address; false: not possible.
   virtual Bool_t PrepareResponse() = 0;
   // The method-specific part of the standalone class (tmva_lstm.makeclass.class_specific).
   virtual std::string ClassSpecificCode(const std::string &className) const = 0;
   // Multiclass: the K class probabilities of the event GetEvent() returns; Regression: its M
   // targets in the space of the events the method sees (TMVA's transformed targets).
   virtual void EventOutputs(std::vector<Float_t> &outputs) = 0;

   // ---- implemented here
   using {ns}::{spec.base}::GetMvaValue;  // keep MethodBase's GetMvaValue(const Event*, ...) visible
   Double_t GetMvaValue(Double_t *errLower = nullptr, Double_t *errUpper = nullptr) override
   {{
      this->NoErrorCalc(errLower, errUpper);
      if (fResponseState == 0)
         fResponseState = PrepareResponse() && fResponse ? 1 : 2;
      if (fResponseState == 1) {{  // compiled C++: no Python per event
         const std::vector<Float_t> &values = this->GetEvent()->GetValues();
         fValues.assign(values.begin(), values.end());
         return fResponse(fValues);
      }}
      return ScoreCurrentEvent();
   }}
   const std::vector<Float_t> &GetMulticlassValues() override
   {{
      EventOutputs(fOutputs);
      return fOutputs;
   }}
   // As TMVA's MethodDL: the targets go back through the inverse of the variable transformation.
   using {ns}::{spec.base}::GetRegressionValues;  // keep GetRegressionValues(const Event*) visible
   const std::vector<Float_t> &GetRegressionValues() override
   {{
      EventOutputs(fOutputs);
      {ns}::Event event(*this->GetEvent());
      for (UInt_t i = 0; i < fOutputs.size(); ++i)
         event.SetTarget(i, fOutputs[i]);
      const {ns}::Event *original = this->GetTransformationHandler().InverseTransform(&event);
      fRegressionValues.clear();
      for (UInt_t i = 0; i < fOutputs.size(); ++i)
         fRegressionValues.push_back(original->GetTarget(i));
      return fRegressionValues;
   }}
   // 0 Classification, 1 Regression, 2 Multiclass (TMVA's Types::EAnalysisType), 3 not set.
   Int_t AnalysisTypeCode() const {{ return static_cast<Int_t>(this->GetAnalysisType()); }}

   // address: of a function double(const std::vector<double>&); 0 forgets it (new weights).
   void SetResponse(Long64_t address)
   {{
      fResponse = reinterpret_cast<Double_t (*)(const std::vector<Double_t> &)>(address);
      fResponseState = 0;
      if (!fResponse)
         fResponseState = address == 0 ? 0 : 2;
   }}
   void UseResponse(Bool_t use) {{ fResponseState = use ? (fResponse ? 1 : 0) : 2; }}

   // ---- helpers for Python: bulk copies (no per-event Python), options, logging
   UInt_t NVariables() const {{ return this->DataInfo().GetNVariables(); }}
   Long64_t NTrainingEvents() const {{ return this->Data()->GetNTrainingEvents(); }}
   Long64_t NEventsCurrentType() const {{ return this->Data()->GetNEvents(); }}
   Bool_t CurrentTypeIsTraining() const {{ return this->Data()->GetCurrentType() == {ns}::Types::kTraining; }}
   std::string DataSetName() const {{ return this->DataInfo().GetName(); }}
   std::vector<std::string> VariableNames() const
   {{
      std::vector<std::string> names;
      for (UInt_t i = 0; i < NVariables(); ++i)
         names.push_back(this->DataInfo().GetVariableInfo(i).GetInternalName().Data());
      return names;
   }}
   UInt_t NTargets() const {{ return this->DataInfo().GetNTargets(); }}
   std::vector<std::string> TargetNames() const
   {{
      std::vector<std::string> names;
      for (UInt_t i = 0; i < NTargets(); ++i)
         names.push_back(this->DataInfo().GetTargetInfo(i).GetInternalName().Data());
      return names;
   }}
   std::vector<std::string> ClassNames() const
   {{
      std::vector<std::string> names;
      for (UInt_t i = 0; i < this->DataInfo().GetNClasses(); ++i)
         names.push_back(this->DataInfo().GetClassInfo(i)->GetName());
      return names;
   }}

   // x: (N, NVar) row-major; y: Classification 1 signal / 0 background, Multiclass the class
   // index (DataSetInfo's class order); w: event weights; N = NTrainingEvents().
   // Events as the method sees them (after TMVA's split, weights and variable transformation).
   void CopyTrainingEvents(Float_t *x, Int_t *y, Double_t *w) const
   {{
      const Long64_t n = NTrainingEvents();
      const UInt_t nvar = NVariables();
      const Bool_t multiclass = this->GetAnalysisType() == {ns}::Types::kMulticlass;
      for (Long64_t i = 0; i < n; ++i) {{
         const {ns}::Event *ev = this->GetTrainingEvent(i);
         CopyValues(ev, x + i * nvar, nvar);
         y[i] = multiclass ? Int_t(ev->GetClass()) : this->DataInfo().IsSignal(ev) ? 1 : 0;
         w[i] = ev->GetWeight();
      }}
   }}
   // t: (N, NTargets) row-major, the training events' (transformed) targets.
   void CopyTrainingTargets(Float_t *t) const
   {{
      const Long64_t n = NTrainingEvents();
      const UInt_t ntgt = NTargets();
      for (Long64_t i = 0; i < n; ++i) {{
         const {ns}::Event *ev = this->GetTrainingEvent(i);
         if (ev->GetNTargets() != ntgt)
            throw std::runtime_error("PyLSTM: an event has " + std::to_string(ev->GetNTargets()) +
                                     " targets, the data set declares " + std::to_string(ntgt));
         for (UInt_t j = 0; j < ntgt; ++j)
            t[i * ntgt + j] = ev->GetTarget(j);
      }}
   }}
   // x: (last - first, NVar) row-major; events [first, last) of the data set's current tree type.
   void CopyEvents(Long64_t first, Long64_t last, Float_t *x) const
   {{
      const UInt_t nvar = NVariables();
      for (Long64_t i = first; i < last; ++i) {{
         this->Data()->SetCurrentEvent(i);
         CopyValues(this->GetEvent(), x + (i - first) * nvar, nvar);
      }}
   }}
   void CopyCurrentEvent(Float_t *x) const {{ CopyValues(this->GetEvent(), x, NVariables()); }}
   std::vector<Double_t> MakeValues(const Double_t *values, Long64_t n) const
   {{
      return std::vector<Double_t>(values, values + n);
   }}

   void DeclareStringOption(const TString &name, const TString &value, const TString &description)
   {{
      fStringOptions.push_back(value);
      this->DeclareOptionRef(fStringOptions.back(), name, description);
   }}
   void DeclareFlagOption(const TString &name, Bool_t value, const TString &description)
   {{
      fFlagOptions.push_back(value);
      this->DeclareOptionRef(fFlagOptions.back(), name, description);
   }}
   void LogInfo(const TString &text) const {{ this->Log() << {ns}::kINFO << text << {ns}::Endl; }}
   void LogWarning(const TString &text) const {{ this->Log() << {ns}::kWARNING << text << {ns}::Endl; }}
   void LogError(const TString &text) const {{ this->Log() << {ns}::kERROR << text << {ns}::Endl; }}

protected:
   // ---- implemented in Python
   void AddWeightsXMLTo(void *parent) const override = 0;
   void ReadWeightsFromXML(void *wghtnode) override = 0;
   {read_model}
   std::vector<Double_t> GetMvaValues(Long64_t firstEvt = 0, Long64_t lastEvt = -1, Bool_t logProgress = false) override = 0;
   void GetHelpMessage() const override = 0;

   // ---- implemented here
   // Old text weight files: PyLSTM only ever writes XML ones.
   void ReadWeightsFromStream(std::istream &) override
   {{
      throw std::runtime_error("PyLSTM keeps its model in XML weight files; a text weight file cannot be read");
   }}
   // MakeClass: the network in plain C++ (tmva_lstm.makeclass), written by Python.
   void MakeClassSpecific(std::ostream &fout, const TString &className = "") const override
   {{
      fout << ClassSpecificCode(className.Data());
   }}

private:
   static void CopyValues(const {ns}::Event *ev, Float_t *out, UInt_t nvar)
   {{
      const std::vector<Float_t> &values = ev->GetValues();
      if (values.size() != nvar)
         throw std::runtime_error("PyLSTM: an event has " + std::to_string(values.size()) +
                                  " variables, the data set declares " + std::to_string(nvar));
      std::copy(values.begin(), values.end(), out);
   }}
   std::deque<TString> fStringOptions;
   std::deque<Bool_t> fFlagOptions;
   Double_t (*fResponse)(const std::vector<Double_t> &) = nullptr;  // see PrepareResponse
   Int_t fResponseState = 0;  // 0: not tried yet, 1: compiled, 2: through Python
   std::vector<Double_t> fValues;
   std::vector<Float_t> fOutputs;  // GetMulticlassValues, EventOutputs
   std::vector<Float_t> fRegressionValues;
}};

inline {ns}::IMethod *CreateMethod(const TString &job, const TString &title, {ns}::DataSetInfo &dsi,
                                   const TString &option)
{{
   CreatorHook *hook = Hook();
   if (!hook)
      return nullptr;
   // As TMVA's REGISTER_METHOD: empty job and title mean "re-create from the weight file in option".
   MethodPyLSTMShim *method = (job == "" && title == "") ? hook->CreateFromWeightFile(dsi, option)
                                                        : hook->CreateForTraining(job, title, dsi, option);
   return method;
}}

// Registers `name` with ClassifierFactory and the Types name map. Returns the method type used,
// or -1 when `name` is already known to ClassifierFactory (nothing is changed then).
// Type: kPlugins when free. Real TMVA maps "Plugins" -> kPlugins at library load
// (MethodPlugins.cxx), and Types::GetMethodName returns the alphabetically first name of a type,
// "Plugins" before "PyLSTM"; the Factory's re-creation from the weight file and Reader::BookMVA
// would then call the "Plugins" creator. So when "Plugins" is registered the value after
// kMaxMethod is used, a type no name maps to, which keeps GetMethodName(type) == name.
inline Int_t RegisterMethod(CreatorHook *hook, const char *name)
{{
   {ns}::ClassifierFactory &factory = {ns}::ClassifierFactory::Instance();
   const std::vector<std::string> known = factory.List();
   auto isKnown = [&known](const std::string &n) {{ return std::find(known.begin(), known.end(), n) != known.end(); }};
   if (isKnown(name))
      return -1;
   const {ns}::Types::EMVA type = isKnown("Plugins")
      ? static_cast<{ns}::Types::EMVA>(static_cast<Int_t>({ns}::Types::kMaxMethod) + 1)
      : {ns}::Types::kPlugins;
   Hook() = hook;
   MethodType() = type;
   factory.Register(name, &CreateMethod);
   {types}AddTypeMapping(type, name);
   return static_cast<Int_t>(type);
}}

}} }}  // namespace tmva_lstm_glue::{spec.tag}
"""


def declare_glue(spec: GlueSpec):
    """Declare the glue for ``spec`` through cling (once) and return its C++ namespace proxy."""
    import ROOT

    if spec.tag not in _declared:
        if not declare(glue_source(spec)):
            raise RuntimeError(
                f"cling could not compile the PyLSTM glue for {spec.namespace}::{spec.base}; "
                "its messages are printed above"
            )
        _declared[spec.tag] = getattr(ROOT.tmva_lstm_glue, spec.tag)
    return _declared[spec.tag]
