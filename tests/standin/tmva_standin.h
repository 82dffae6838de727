// =====================================================================================
//  STAND-IN for the parts of ROOT's TMVA that the PyLSTM method touches.
//
//  This is NOT TMVA. It exists because the ROOT wheel of the test environment has no
//  libTMVA, and it checks tmva_lstm's BINDING (cross-inheritance, the creator trampoline,
//  option handling, bulk copies, weight XML), not TMVA itself.
//
//  Everything lives in namespace `tmva_standin` (see TMVA_STANDIN_NS below), never `TMVA`,
//  so it cannot clash with a real TMVA.
//  The signatures of what our method overrides or calls are those of the TMVA headers
//  (tmva/tmva/inc/TMVA/{IMethod,MethodBase,Configurable,ClassifierFactory,Types,DataSet,
//  DataSetInfo,Event}.h and tmva/pymva/inc/TMVA/PyMethodBase.h, ROOT 6.3x-6.40), including
//  const-ness, default arguments, access levels and the virtual base `IMethod`. Their
//  bodies are simplified re-implementations of the behaviour PyLSTM depends on:
//    * Configurable::ParseOptions / CheckForUnusedOptions: '~' marks consumed tokens,
//      "name=value", bare and negated ("!name") booleans, kFATAL on negating a
//      non-boolean and on unused tokens;
//    * MethodBase::SetupMethod -> InitBase, DeclareBaseOptions, Init, DeclareOptions;
//      ProcessSetup -> ProcessBaseOptions, ProcessOptions; CheckSetup -> unused options;
//    * the weight file written and read with ROOT's TXMLEngine and `void*` node handles,
//      <MethodSetup Method="Type::Title"> with <Options>, <Variables>, <Weights>;
//    * ClassifierFactory and the Types name map, including the "Plugins" -> kPlugins
//      mapping that real TMVA registers at library load (MethodPlugins.cxx);
//    * Factory::BookMethod / TrainAllMethods (write weights, delete, re-create from the
//      weight file) / TestAllMethods, and Reader::BookMVA / EvaluateMVA.
//  Not modelled: variable transformations (GetEvent returns the untransformed event),
//  MVA PDFs, ROOT output files, ranking, boosting, categories, multiclass, regression.
//  kFATAL throws std::runtime_error("FATAL: ...") (real TMVA throws after printing).
//
//  The namespace is TMVA_STANDIN_NS (default tmva_standin). There is deliberately no include
//  guard, so that a test can declare a second, independent copy (own ClassifierFactory and
//  Types map) under another name: #define TMVA_STANDIN_NS other_name, then #include.
//  Additions that TMVA does not have are marked "STAND-IN accessor" / "STAND-IN only".
// =====================================================================================
#ifndef TMVA_STANDIN_NS
#define TMVA_STANDIN_NS tmva_standin
#define TMVA_STANDIN_NS_DEFAULTED
#endif

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <deque>
#include <fstream>
#include <iosfwd>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "Rtypes.h"
#include "TString.h"
#include "TSystem.h"
#include "TXMLEngine.h"

class TFile;

namespace TMVA_STANDIN_NS {

// ---------------------------------------------------------------- messages (MsgLogger.h)
enum EMsgType { kDEBUG = 1, kVERBOSE = 2, kINFO = 3, kWARNING = 4, kERROR = 5, kFATAL = 6, kSILENT = 7, kHEADER = 8 };

class MsgLogger {
public:
   explicit MsgLogger(const TString &source = "") : fSource(source) {}
   void SetSource(const TString &source) { fSource = source; }
   MsgLogger &operator<<(EMsgType type)
   {
      fType = type;
      return *this;
   }
   MsgLogger &operator<<(MsgLogger &(*manip)(MsgLogger &)) { return manip(*this); }
   template <class T>
   MsgLogger &operator<<(const T &value)
   {
      fBuffer << value;
      return *this;
   }
   MsgLogger &operator<<(const TString &value)
   {
      fBuffer << value.Data();
      return *this;
   }
   void Send()
   {
      const std::string text = fBuffer.str();
      fBuffer.str("");
      const EMsgType type = fType;
      fType = kINFO;
      if (type == kFATAL)
         throw std::runtime_error("FATAL: " + text);
      if (type >= kINFO)
         std::cout << "<" << (type == kWARNING ? "WARNING" : type == kERROR ? "ERROR" : "INFO") << "> "
                   << fSource.Data() << " : " << text << std::endl;
   }

private:
   TString fSource;
   EMsgType fType = kINFO;
   std::ostringstream fBuffer;
};

inline MsgLogger &Endl(MsgLogger &logger)
{
   logger.Send();
   return logger;
}

// ---------------------------------------------------------------- Types.h (namespace form)
namespace Types {
enum EMVA {
   kVariable = 0, kCuts, kLikelihood, kPDERS, kHMatrix, kFisher, kKNN, kCFMlpANN, kTMlpANN, kBDT, kDT, kRuleFit,
   kSVM, kMLP, kBayesClassifier, kFDA, kBoost, kPDEFoam, kLD, kPlugins, kCategory, kDNN, kDL, kPyRandomForest,
   kPyAdaBoost, kPyGTB, kPyKeras, kPyTorch, kC50, kRSNNS, kRSVM, kRXGB, kCrossValidation, kMaxMethod
};
enum EVariableTransform { kIdentity = 0, kDecorrelated, kNormalized, kPCA, kRearranged, kGauss, kUniform, kMaxVariableTransform };
enum EAnalysisType { kClassification = 0, kRegression, kMulticlass, kNoAnalysisType, kMaxAnalysisType };
enum ESBType { kSignal = 0, kBackground, kSBBoth, kMaxSBType, kTrueType };
enum ETreeType { kTraining = 0, kTesting, kMaxTreeType, kValidation, kTrainingOriginal };

inline std::map<TString, EMVA> &NameMap()
{
   static std::map<TString, EMVA> map; // ordered by name, as in TMVA's Types.cxx
   return map;
}
inline MsgLogger &TypesLog()
{
   static MsgLogger logger("Types");
   return logger;
}
inline Bool_t AddTypeMapping(Types::EMVA method, const TString &methodname)
{
   if (NameMap().count(methodname)) {
      TypesLog() << kFATAL << "Cannot add method " << methodname
                 << " to the name->type map because it exists already" << Endl;
      return kFALSE;
   }
   NameMap()[methodname] = method;
   return kTRUE;
}
inline Types::EMVA GetMethodType(const TString &method)
{
   auto it = NameMap().find(method);
   if (it == NameMap().end()) {
      TypesLog() << kFATAL << "Unknown method in map: " << method << Endl;
      return kVariable;
   }
   return it->second;
}
// Linear scan in name order: the alphabetically first name mapped to `method` wins.
inline TString GetMethodName(Types::EMVA method)
{
   for (const auto &entry : NameMap())
      if (entry.second == method)
         return entry.first;
   TypesLog() << kFATAL << "Unknown method index in map: " << Int_t(method) << Endl;
   return "";
}
} // namespace Types

// ---------------------------------------------------------------- Event.h
class Event {
public:
   Event() = default;
   explicit Event(const std::vector<Float_t> &values, UInt_t theClass, Double_t weight = 1.0, Double_t boostweight = 1.0)
      : fValues(values), fClass(theClass), fWeight(weight), fBoostWeight(boostweight)
   {
   }
   Double_t GetWeight() const { return fWeight * fBoostWeight; }
   UInt_t GetClass() const { return fClass; }
   UInt_t GetNVariables() const { return fValues.size(); }
   Float_t GetValue(UInt_t ivar) const { return fValues.at(ivar); }
   std::vector<Float_t> &GetValues() { return fValues; }
   const std::vector<Float_t> &GetValues() const { return fValues; }

private:
   std::vector<Float_t> fValues;
   UInt_t fClass = 0;
   Double_t fWeight = 1.0;
   Double_t fBoostWeight = 1.0;
};

// ---------------------------------------------------------------- DataSet.h
class DataSet {
public:
   DataSet() : fCollections(4) {}
   ~DataSet()
   {
      for (auto &collection : fCollections)
         for (Event *ev : collection)
            delete ev;
   }
   void AddEvent(Event *ev, Types::ETreeType type) { fCollections.at(TreeIndex(type)).push_back(ev); }

   Long64_t GetNEvents(Types::ETreeType type = Types::kMaxTreeType) const { return GetEventCollection(type).size(); }
   Long64_t GetNTrainingEvents() const { return GetNEvents(Types::kTraining); }
   Long64_t GetNTestEvents() const { return GetNEvents(Types::kTesting); }

   const Event *GetEvent() const { return fCollections.at(fCurrentTreeIdx).at(fCurrentEventIdx); }
   const Event *GetEvent(Long64_t ievt) const
   {
      fCurrentEventIdx = ievt;
      return GetEvent();
   }
   const Event *GetTrainingEvent(Long64_t ievt) const { return GetEvent(ievt, Types::kTraining); }
   const Event *GetTestEvent(Long64_t ievt) const { return GetEvent(ievt, Types::kTesting); }
   const Event *GetEvent(Long64_t ievt, Types::ETreeType type) const
   {
      fCurrentTreeIdx = TreeIndex(type);
      fCurrentEventIdx = ievt;
      return GetEvent();
   }

   UInt_t GetNVariables() const { return fNVariables; }
   void SetNVariables(UInt_t n) { fNVariables = n; }

   void SetCurrentEvent(Long64_t ievt) const { fCurrentEventIdx = ievt; }
   void SetCurrentType(Types::ETreeType type) const { fCurrentTreeIdx = TreeIndex(type); }
   Types::ETreeType GetCurrentType() const
   {
      switch (fCurrentTreeIdx) {
      case 0: return Types::kTraining;
      case 1: return Types::kTesting;
      case 2: return Types::kValidation;
      case 3: return Types::kTrainingOriginal;
      }
      return Types::kMaxTreeType;
   }
   const std::vector<Event *> &GetEventCollection(Types::ETreeType type = Types::kMaxTreeType) const
   {
      return fCollections.at(TreeIndex(type));
   }
   UInt_t TreeIndex(Types::ETreeType type) const
   {
      switch (type) {
      case Types::kTraining: return 0;
      case Types::kTesting: return 1;
      case Types::kValidation: return 2;
      case Types::kTrainingOriginal: return 3;
      default: return fCurrentTreeIdx;
      }
   }

private:
   std::vector<std::vector<Event *>> fCollections;
   UInt_t fNVariables = 0;
   mutable UInt_t fCurrentTreeIdx = 0;
   mutable Long64_t fCurrentEventIdx = 0;
};

// ---------------------------------------------------------------- VariableInfo.h / ClassInfo.h
class VariableInfo {
public:
   explicit VariableInfo(const TString &expression = "") : fExpression(expression) {}
   const TString &GetExpression() const { return fExpression; }
   const TString &GetInternalName() const { return fExpression; }
   const TString &GetLabel() const { return fExpression; }
   const char *GetTitle() const { return fExpression.Data(); }

private:
   TString fExpression;
};

class ClassInfo {
public:
   ClassInfo(const TString &name, UInt_t number) : fName(name), fNumber(number) {}
   const char *GetName() const { return fName.Data(); }
   UInt_t GetNumber() const { return fNumber; }

private:
   TString fName;
   UInt_t fNumber;
};

// ---------------------------------------------------------------- DataSetInfo.h
class DataSetInfo {
public:
   DataSetInfo(const TString &name = "Default") : fName(name) {}
   ~DataSetInfo() = default;
   DataSetInfo(const DataSetInfo &) = delete;
   DataSetInfo &operator=(const DataSetInfo &) = delete;

   virtual const char *GetName() const { return fName.Data(); }
   DataSet *GetDataSet() const
   {
      if (!fDataSet) {
         fDataSet.reset(new DataSet());
         fDataSet->SetNVariables(GetNVariables());
      }
      return fDataSet.get();
   }
   VariableInfo &AddVariable(const TString &expression)
   {
      fVariables.emplace_back(expression);
      return fVariables.back();
   }
   ClassInfo *AddClass(const TString &className)
   {
      if (ClassInfo *known = GetClassInfo(className))
         return known;
      fClasses.emplace_back(new ClassInfo(className, fClasses.size()));
      if (className == "Signal")
         fSignalClass = fClasses.back()->GetNumber();
      return fClasses.back().get();
   }
   VariableInfo &GetVariableInfo(Int_t i) { return fVariables.at(i); }
   const VariableInfo &GetVariableInfo(Int_t i) const { return fVariables.at(i); }
   UInt_t GetNVariables() const { return fVariables.size(); }
   UInt_t GetNTargets() const { return 0; }
   UInt_t GetNClasses() const { return fClasses.size(); }
   ClassInfo *GetClassInfo(Int_t clNum) const
   {
      return (clNum >= 0 && clNum < Int_t(fClasses.size())) ? fClasses[clNum].get() : nullptr;
   }
   ClassInfo *GetClassInfo(const TString &name) const
   {
      for (const auto &cls : fClasses)
         if (name == cls->GetName())
            return cls.get();
      return nullptr;
   }
   Bool_t IsSignal(const Event *ev) const { return ev->GetClass() == fSignalClass; }
   UInt_t GetSignalClassIndex() { return fSignalClass; }
   std::vector<TString> GetListOfVariables() const
   {
      std::vector<TString> names;
      for (const auto &var : fVariables)
         names.push_back(var.GetExpression());
      return names;
   }

private:
   TString fName;
   std::vector<VariableInfo> fVariables;
   std::vector<std::unique_ptr<ClassInfo>> fClasses;
   UInt_t fSignalClass = 0;
   mutable std::unique_ptr<DataSet> fDataSet;
};

// ---------------------------------------------------------------- DataLoader.h (subset)
class DataLoader {
public:
   explicit DataLoader(const TString &name = "default") : fName(name), fDataSetInfo(name) {}
   const char *GetName() const { return fName.Data(); }
   DataSetInfo &GetDataSetInfo() { return fDataSetInfo; }

private:
   TString fName;
   DataSetInfo fDataSetInfo;
};

// ---------------------------------------------------------------- Option.h / Configurable.h
class OptionBase {
public:
   OptionBase(const TString &name, const TString &desc) : fName(name), fNameLower(name), fDescription(desc)
   {
      fNameLower.ToLower();
   }
   virtual ~OptionBase() {}
   const char *GetName() const { return fNameLower.Data(); }
   const char *TheName() const { return fName.Data(); }
   Bool_t IsSet() const { return fIsSet; }
   Bool_t SetValue(const TString &value)
   {
      fIsSet = kTRUE;
      SetValueLocal(value);
      return kTRUE;
   }
   virtual TString GetValue() const = 0;
   virtual Bool_t IsBool() const { return kFALSE; }
   void ResetSet() { fIsSet = kFALSE; }

protected:
   virtual void SetValueLocal(const TString &value) = 0;

private:
   TString fName, fNameLower, fDescription;
   Bool_t fIsSet = kFALSE;
};

template <class T>
class Option : public OptionBase {
public:
   Option(T &ref, const TString &name, const TString &desc) : OptionBase(name, desc), fRef(ref) {}
   TString GetValue() const override
   {
      std::ostringstream out;
      out << fRef;
      return out.str().c_str();
   }

protected:
   void SetValueLocal(const TString &value) override
   {
      std::istringstream in(value.Data());
      in >> fRef;
   }

private:
   T &fRef;
};

template <>
class Option<TString> : public OptionBase {
public:
   Option(TString &ref, const TString &name, const TString &desc) : OptionBase(name, desc), fRef(ref) {}
   TString GetValue() const override { return fRef; }

protected:
   void SetValueLocal(const TString &value) override { fRef = value; }

private:
   TString &fRef;
};

template <>
class Option<Bool_t> : public OptionBase {
public:
   Option(Bool_t &ref, const TString &name, const TString &desc) : OptionBase(name, desc), fRef(ref) {}
   TString GetValue() const override { return fRef ? "True" : "False"; }
   Bool_t IsBool() const override { return kTRUE; }

protected:
   void SetValueLocal(const TString &value) override
   {
      TString v(value);
      v.ToLower();
      fRef = (v == "1" || v == "t" || v == "true" || v == "y" || v == "yes");
   }

private:
   Bool_t &fRef;
};

class Configurable {
public:
   Configurable(const TString &theOption = "") : fOptions(theOption), fLogger(new MsgLogger("Configurable")) {}
   virtual ~Configurable()
   {
      for (OptionBase *opt : fListOfOptions)
         delete opt;
   }

   virtual void ParseOptions();

   virtual const char *GetName() const { return GetConfigName(); }
   const char *GetConfigName() const { return fConfigName.Data(); }
   void SetConfigName(const char *n)
   {
      fConfigName = TString(n);
      fLogger->SetSource(fConfigName);
   }

   template <class T>
   OptionBase *DeclareOptionRef(T &ref, const TString &name, const TString &desc = "")
   {
      OptionBase *o = new Option<T>(ref, name, desc);
      fListOfOptions.push_back(o);
      return o;
   }

   void CheckForUnusedOptions() const;

   const TString &GetOptions() const { return fOptions; }
   void SetOptions(const TString &s) { fOptions = s; }

   void AddOptionsXMLTo(void *parent) const;
   void ReadOptionsFromXML(void *node);

   // STAND-IN accessor (not in TMVA): the declared option names, as written to the weight file.
   std::vector<std::string> DeclaredOptionNames() const
   {
      std::vector<std::string> names;
      for (const OptionBase *opt : fListOfOptions)
         names.push_back(opt->TheName());
      return names;
   }
   // STAND-IN accessor (not in TMVA): the current value of a declared option ("" if none).
   TString DeclaredOptionValue(const TString &name) const
   {
      const OptionBase *opt = Find(name);
      return opt ? opt->GetValue() : TString("");
   }

protected:
   MsgLogger &Log() const { return *fLogger; }

private:
   OptionBase *Find(const TString &name) const
   {
      TString lower(name);
      lower.ToLower();
      for (OptionBase *opt : fListOfOptions)
         if (lower == opt->GetName())
            return opt;
      return nullptr;
   }
   static std::vector<TString> Split(const TString &options)
   {
      std::vector<TString> tokens;
      TString rest(options);
      while (rest.Length() > 0) {
         const Ssiz_t colon = rest.First(':');
         if (colon < 0) {
            tokens.push_back(rest);
            break;
         }
         tokens.push_back(rest(0, colon));
         rest = rest(colon + 1, rest.Length());
      }
      return tokens;
   }

   TString fOptions;
   std::vector<OptionBase *> fListOfOptions;
   TString fConfigName = "Configurable";
   std::unique_ptr<MsgLogger> fLogger;
};

inline void Configurable::ParseOptions()
{
   fOptions = fOptions.Strip(TString::kLeading, ':');
   const std::vector<TString> tokens = Split(fOptions);
   fOptions = "";
   for (TString s : tokens) {
      const Bool_t preserveTilde = s.BeginsWith("~");
      s = s.Strip(TString::kLeading, '~');
      Bool_t parsed = kFALSE;
      if (s.Contains('=')) {
         const TString name = s(0, s.First('='));
         const TString value = s(s.First('=') + 1, s.Length());
         if (OptionBase *opt = Find(name)) {
            opt->SetValue(value);
            parsed = kTRUE;
         }
      }
      Bool_t preserveNot = kFALSE;
      if (!parsed) {
         TString name(s);
         const Bool_t negated = name.BeginsWith("!");
         if (negated) {
            name.Remove(0, 1);
            preserveNot = kTRUE;
            s = name;
         }
         if (OptionBase *opt = Find(name)) {
            if (opt->IsBool()) {
               opt->SetValue(negated ? "0" : "1");
               parsed = kTRUE;
            } else if (negated) {
               Log() << kFATAL << "Negating a non-boolean variable " << name << ", please check the options for method: "
                     << GetName() << Endl;
            }
         }
      }
      if (fOptions != "")
         fOptions += ":";
      if (parsed || preserveTilde)
         fOptions += "~";
      if (preserveNot)
         fOptions += "!";
      fOptions += s;
   }
}

inline void Configurable::CheckForUnusedOptions() const
{
   TString unused;
   for (const TString &s : Split(fOptions.Strip(TString::kLeading, ':'))) {
      if (!s.BeginsWith("~")) {
         if (unused != "")
            unused += ":";
         unused += s;
      }
   }
   if (unused != "")
      Log() << kFATAL << "The following options were specified, but could not be interpreted: '" << unused
            << "', please check!" << Endl;
}

inline void Configurable::AddOptionsXMLTo(void *parent) const
{
   if (!parent)
      return;
   TXMLEngine xml;
   void *opts = xml.NewChild(parent, nullptr, "Options");
   for (const OptionBase *opt : fListOfOptions) {
      void *node = xml.NewChild(opts, nullptr, "Option", opt->GetValue().Data());
      xml.NewAttr(node, nullptr, "name", opt->TheName());
      xml.NewAttr(node, nullptr, "modified", opt->IsSet() ? "Yes" : "No");
   }
}

inline void Configurable::ReadOptionsFromXML(void *node)
{
   TXMLEngine xml;
   fOptions = "";
   for (void *opt = xml.GetChild(node); opt; opt = xml.GetNext(opt)) {
      if (fOptions.Length())
         fOptions += ":";
      const char *content = xml.GetNodeContent(opt);
      fOptions += TString(xml.GetAttr(opt, "name")) + "=" + (content ? content : "");
   }
}

// ---------------------------------------------------------------- IMethod.h (exact virtuals)
class Ranking;

class IMethod {
public:
   IMethod() {}
   virtual ~IMethod() {}
   virtual const char *GetName() const = 0;
   virtual Double_t GetMvaValue(Double_t *err = nullptr, Double_t *errUpper = nullptr) = 0;
   virtual void Train(void) = 0;
   virtual void ReadWeightsFromStream(std::istream &) = 0;
   virtual void WriteMonitoringHistosToFile(void) const = 0;
   virtual void MakeClass(const TString &classFileName = TString("")) const = 0;
   virtual const Ranking *CreateRanking() = 0;
   virtual void PrintHelpMessage() const = 0;
   virtual void Init() = 0;
   virtual void DeclareOptions() = 0;
   virtual void ProcessOptions() = 0;
   virtual Bool_t HasAnalysisType(Types::EAnalysisType type, UInt_t numberClasses, UInt_t numberTargets) = 0;

protected:
   virtual void MakeClassSpecific(std::ostream &, const TString &) const = 0;
   virtual void GetHelpMessage() const = 0;
};

// ---------------------------------------------------------------- MethodBase.h
struct StandinDriver; // STAND-IN only: the tests' C++ driver, a friend as TMVA's Factory is

class MethodBase : virtual public IMethod, public Configurable {
   friend class Factory;
   friend class Reader;
   friend struct StandinDriver;

public:
   MethodBase(const TString &jobName, Types::EMVA methodType, const TString &methodTitle, DataSetInfo &dsi,
              const TString &theOption = "")
      : Configurable(theOption), fDataSetInfo(dsi), fJobName(jobName), fMethodName(methodTitle),
        fMethodType(methodType), fFileDir("weights")
   {
   }
   MethodBase(Types::EMVA methodType, DataSetInfo &dsi, const TString &weightFile)
      : Configurable(""), fDataSetInfo(dsi), fJobName(""), fMethodName("MethodBase"), fMethodType(methodType),
        fConstructedFromWeightFile(kTRUE), fWeightFile(weightFile)
   {
   }
   virtual ~MethodBase()
   {
      // TMVA issues kFATAL here; a throwing destructor would terminate, so the stand-in only warns.
      if (!fSetupCompleted)
         std::cout << "<WARNING> STAND-IN: destructor of a method that was never set up" << std::endl;
   }

   void SetupMethod();
   void ProcessSetup();
   virtual void CheckSetup() { CheckForUnusedOptions(); }

   void TrainMethod();
   virtual void Train() = 0;

   virtual void Init() = 0;
   virtual void DeclareOptions() = 0;
   virtual void ProcessOptions() = 0;
   virtual void DeclareCompatibilityOptions() {}
   virtual void Reset() { return; }

   virtual Double_t GetMvaValue(Double_t *errLower = nullptr, Double_t *errUpper = nullptr) = 0;
   Double_t GetMvaValue(const Event *const ev, Double_t *err = nullptr, Double_t *errUpper = nullptr)
   {
      fTmpEvent = ev;
      const Double_t value = GetMvaValue(err, errUpper);
      fTmpEvent = nullptr;
      return value;
   }

protected:
   void NoErrorCalc(Double_t *const err, Double_t *const errUpper)
   {
      if (err)
         *err = -1;
      if (errUpper)
         *errUpper = -1;
   }
   virtual std::vector<Double_t> GetMvaValues(Long64_t firstEvt = 0, Long64_t lastEvt = -1, Bool_t logProgress = false);

public:
   virtual const Ranking *CreateRanking() = 0;
   virtual void MakeClass(const TString &classFileName = TString("")) const;
   void PrintHelpMessage() const { GetHelpMessage(); }

   void WriteStateToFile() const;
   void ReadStateFromFile();

protected:
   virtual void AddWeightsXMLTo(void *parent) const = 0;
   virtual void ReadWeightsFromXML(void *wghtnode) = 0;
   virtual void ReadWeightsFromStream(std::istream &) = 0;
   virtual void ReadWeightsFromStream(TFile &) {}

public:
   virtual void WriteMonitoringHistosToFile() const {}

   const TString &GetJobName() const { return fJobName; }
   const TString &GetMethodName() const { return fMethodName; }
   TString GetMethodTypeName() const { return Types::GetMethodName(fMethodType); }
   Types::EMVA GetMethodType() const { return fMethodType; }
   const char *GetName() const { return fMethodName.Data(); }
   TString GetWeightFileName() const
   {
      if (fWeightFile != "")
         return fWeightFile;
      return fFileDir + "/" + fJobName + "_" + fMethodName + ".weights.xml";
   }
   UInt_t GetNvar() const { return DataInfo().GetNVariables(); }
   UInt_t GetNVariables() const { return DataInfo().GetNVariables(); }

   DataSet *Data() const { return fTmpData ? fTmpData : DataInfo().GetDataSet(); }
   DataSetInfo &DataInfo() const { return fDataSetInfo; }

   UInt_t GetNEvents() const { return Data()->GetNEvents(); }
   const Event *GetEvent() const { return fTmpEvent ? fTmpEvent : Data()->GetEvent(); }
   const Event *GetEvent(const Event *ev) const { return ev; }
   const Event *GetEvent(Long64_t ievt) const { return Data()->GetEvent(ievt); }
   const Event *GetEvent(Long64_t ievt, Types::ETreeType type) const { return Data()->GetEvent(ievt, type); }
   const Event *GetTrainingEvent(Long64_t ievt) const { return GetEvent(ievt, Types::kTraining); }
   const Event *GetTestingEvent(Long64_t ievt) const { return GetEvent(ievt, Types::kTesting); }
   const std::vector<Event *> &GetEventCollection(Types::ETreeType type) { return Data()->GetEventCollection(type); }

   virtual void SetAnalysisType(Types::EAnalysisType type) { fAnalysisType = type; }
   Types::EAnalysisType GetAnalysisType() const { return fAnalysisType; }
   void SetModelPersistence(Bool_t status) { fModelPersistence = status; }
   Bool_t IsModelPersistence() const { return fModelPersistence; }

   // STAND-IN accessors (not in TMVA) for the tests.
   const std::vector<Double_t> &StandinTrainScores() const { return fTrainScores; }

protected:
   void SetWeightFileDir(TString fileDir)
   {
      fFileDir = fileDir;
      gSystem->mkdir(fFileDir, kTRUE); // as TMVA's MethodBase::SetWeightFileDir
   }
   const TString &GetWeightFileDir() const { return fFileDir; }
   Bool_t Verbose() const { return fVerbose; }
   Bool_t Help() const { return fHelp; }
   Bool_t IgnoreEventsWithNegWeightsInTraining() const { return fIgnoreNegWeightsInTraining; }
   Bool_t IsConstructedFromWeightFile() const { return fConstructedFromWeightFile; }

   virtual void MakeClassSpecific(std::ostream &, const TString & = "") const {}
   virtual void MakeClassSpecificHeader(std::ostream &, const TString & = "") const {}

   mutable const Event *fTmpEvent = nullptr;
   DataSet *fTmpData = nullptr;
   UInt_t fSignalClass = 0;
   UInt_t fBackgroundClass = 1;

private:
   void InitBase();
   void DeclareBaseOptions();
   void ProcessBaseOptions();

   DataSetInfo &fDataSetInfo;
   TString fJobName;
   TString fMethodName;
   Types::EMVA fMethodType;
   Types::EAnalysisType fAnalysisType = Types::kNoAnalysisType;
   Bool_t fConstructedFromWeightFile = kFALSE;
   TString fFileDir;
   TString fWeightFile;
   Bool_t fModelPersistence = kTRUE;
   Bool_t fSetupCompleted = kFALSE;

   Bool_t fVerbose = kFALSE;
   TString fVerbosityLevelString = "Default";
   TString fVarTransformString = "None";
   Bool_t fHelp = kFALSE;
   Bool_t fHasMVAPdfs = kFALSE;
   Bool_t fIgnoreNegWeightsInTraining = kFALSE;

   std::vector<Double_t> fTrainScores;
};

inline void MethodBase::InitBase()
{
   SetConfigName((TString("Method") + GetMethodTypeName()).Data());
   if (DataInfo().GetClassInfo("Signal"))
      fSignalClass = DataInfo().GetClassInfo("Signal")->GetNumber();
   if (DataInfo().GetClassInfo("Background"))
      fBackgroundClass = DataInfo().GetClassInfo("Background")->GetNumber();
}

inline void MethodBase::DeclareBaseOptions()
{
   DeclareOptionRef(fVerbose, "V", "Verbose output");
   DeclareOptionRef(fVerbosityLevelString = "Default", "VerbosityLevel", "Verbosity level");
   DeclareOptionRef(fVarTransformString, "VarTransform", "List of variable transformations");
   DeclareOptionRef(fHelp, "H", "Print method-specific help message");
   DeclareOptionRef(fHasMVAPdfs, "CreateMVAPdfs", "Create PDFs for classifier outputs");
   DeclareOptionRef(fIgnoreNegWeightsInTraining, "IgnoreNegWeightsInTraining", "Ignore negative weights in training");
}

inline void MethodBase::ProcessBaseOptions()
{
   // TMVA creates the variable transformations and the MVA PDFs here; the stand-in does not.
}

inline void MethodBase::SetupMethod()
{
   if (fSetupCompleted)
      Log() << kFATAL << "Calling SetupMethod for the second time" << Endl;
   InitBase();
   DeclareBaseOptions();
   Init();
   DeclareOptions();
   fSetupCompleted = kTRUE;
}

inline void MethodBase::ProcessSetup()
{
   ProcessBaseOptions();
   ProcessOptions();
}

inline void MethodBase::TrainMethod()
{
   Data()->SetCurrentType(Types::kTraining);
   Train();
   // TMVA fills the TrainTree from the in-memory method right after Train().
   Data()->SetCurrentType(Types::kTraining);
   fTrainScores = GetMvaValues(0, Data()->GetNTrainingEvents(), kTRUE);
   if (fModelPersistence)
      WriteStateToFile();
   if (fModelPersistence)
      MakeClass();
}

inline std::vector<Double_t> MethodBase::GetMvaValues(Long64_t firstEvt, Long64_t lastEvt, Bool_t)
{
   const Long64_t nEvents = Data()->GetNEvents();
   if (firstEvt > lastEvt || lastEvt > nEvents)
      lastEvt = nEvents;
   if (firstEvt < 0)
      firstEvt = 0;
   std::vector<Double_t> values(lastEvt - firstEvt);
   for (Long64_t ievt = firstEvt; ievt < lastEvt; ievt++) {
      Data()->SetCurrentEvent(ievt);
      values[ievt - firstEvt] = GetMvaValue();
   }
   return values;
}

inline void MethodBase::MakeClass(const TString &classFileName) const
{
   const TString name = classFileName == "" ? fFileDir + "/" + fJobName + "_" + fMethodName + ".class.C" : classFileName;
   std::ofstream fout(name.Data());
   fout << "// STAND-IN standalone class for " << fMethodName.Data() << "\n";
   MakeClassSpecific(fout, TString("Read") + fMethodName);
}

inline void MethodBase::WriteStateToFile() const
{
   TXMLEngine xml;
   void *doc = xml.NewDoc();
   void *root = xml.NewChild(nullptr, nullptr, "MethodSetup");
   xml.DocSetRootElement(doc, root);
   xml.NewAttr(root, nullptr, "Method", (GetMethodTypeName() + "::" + GetMethodName()).Data());
   void *gi = xml.NewChild(root, nullptr, "GeneralInfo");
   void *info = xml.NewChild(gi, nullptr, "Info");
   xml.NewAttr(info, nullptr, "name", "AnalysisType");
   xml.NewAttr(info, nullptr, "value", "Classification");
   AddOptionsXMLTo(root);
   void *vars = xml.NewChild(root, nullptr, "Variables");
   xml.NewAttr(vars, nullptr, "NVar", TString::Format("%u", GetNvar()).Data());
   for (UInt_t i = 0; i < GetNvar(); ++i) {
      void *var = xml.NewChild(vars, nullptr, "Variable");
      xml.NewAttr(var, nullptr, "VarIndex", TString::Format("%u", i).Data());
      xml.NewAttr(var, nullptr, "Expression", DataInfo().GetVariableInfo(i).GetExpression().Data());
   }
   void *trf = xml.NewChild(root, nullptr, "Transformations");
   xml.NewAttr(trf, nullptr, "NTransformations", "0");
   xml.NewChild(root, nullptr, "MVAPdfs");
   AddWeightsXMLTo(root);
   xml.SaveDoc(doc, GetWeightFileName().Data());
   xml.FreeDoc(doc);
}

inline void MethodBase::ReadStateFromFile()
{
   TXMLEngine xml;
   void *doc = xml.ParseFile(GetWeightFileName().Data());
   if (!doc)
      Log() << kFATAL << "Could not parse weight file " << GetWeightFileName() << Endl;
   void *root = xml.DocGetRootElement(doc);
   TString method = xml.GetAttr(root, "Method");
   fMethodName = method(method.Index("::") + 2, method.Length());
   for (void *ch = xml.GetChild(root); ch; ch = xml.GetNext(ch)) {
      const TString nodeName = xml.GetNodeName(ch);
      if (nodeName == "GeneralInfo" || nodeName == "Transformations" || nodeName == "MVAPdfs") {
         continue;
      } else if (nodeName == "Options") {
         ReadOptionsFromXML(ch);
         ParseOptions();
      } else if (nodeName == "Variables") {
         const UInt_t nvar = TString(xml.GetAttr(ch, "NVar")).Atoi();
         if (nvar != GetNvar())
            Log() << kFATAL << "You declared " << GetNvar() << " variables in the Reader"
                  << " while there are " << nvar << " variables declared in the file" << Endl;
         UInt_t i = 0;
         for (void *var = xml.GetChild(ch); var; var = xml.GetNext(var), ++i)
            if (TString(xml.GetAttr(var, "Expression")) != DataInfo().GetVariableInfo(i).GetExpression())
               Log() << kFATAL << "Variable " << i << " differs from the weight file" << Endl;
      } else if (nodeName == "Weights") {
         ReadWeightsFromXML(ch);
      } else {
         Log() << kWARNING << "Unparsed XML node: '" << nodeName << "'" << Endl;
      }
   }
   xml.FreeDoc(doc);
}

// ---------------------------------------------------------------- PyMethodBase.h (newest virtuals)
// The interpreter helpers (PyRunString, Eval, Serialize, fLocalNS, ...) are not used by PyLSTM
// and are left out.
class PyMethodBase : public MethodBase {
   friend class Factory;

public:
   PyMethodBase(const TString &jobName, Types::EMVA methodType, const TString &methodTitle, DataSetInfo &dsi,
                const TString &theOption = "")
      : MethodBase(jobName, methodType, methodTitle, dsi, theOption)
   {
   }
   PyMethodBase(Types::EMVA methodType, DataSetInfo &dsi, const TString &weightFile)
      : MethodBase(methodType, dsi, weightFile)
   {
   }
   virtual ~PyMethodBase() {}

   void Train() override = 0;
   void Init() override = 0;
   void DeclareOptions() override = 0;
   void ProcessOptions() override = 0;
   const Ranking *CreateRanking() override = 0;
   Double_t GetMvaValue(Double_t *errLower = nullptr, Double_t *errUpper = nullptr) override = 0;
   Bool_t HasAnalysisType(Types::EAnalysisType type, UInt_t numberClasses, UInt_t numberTargets) override = 0;

protected:
   void AddWeightsXMLTo(void *parent) const override = 0;
   void ReadWeightsFromXML(void *wghtnode) override = 0;
   void ReadWeightsFromStream(std::istream &) override = 0;
   void ReadWeightsFromStream(TFile &) override {}
   virtual void ReadModelFromFile() = 0;
   std::vector<Double_t> GetMvaValues(Long64_t firstEvt = 0, Long64_t lastEvt = -1, Bool_t logProgress = false) override = 0;
};

// ---------------------------------------------------------------- ClassifierFactory.h
class ClassifierFactory {
public:
   typedef IMethod *(*Creator)(const TString &job, const TString &title, DataSetInfo &dsi, const TString &option);

   static ClassifierFactory &Instance()
   {
      static ClassifierFactory instance;
      return instance;
   }
   Bool_t Register(const std::string &name, Creator creator)
   {
      if (fCalls.count(name)) {
         std::cerr << "ClassifierFactory<>::Register - " << name << " already exists" << std::endl;
         return false;
      }
      return fCalls.insert(CallMap::value_type(name, creator)).second;
   }
   Bool_t Unregister(const std::string &name) { return fCalls.erase(name) == 1; }
   IMethod *Create(const std::string &name, const TString &job, const TString &title, DataSetInfo &dsi,
                   const TString &option)
   {
      auto it = fCalls.find(name);
      if (it == fCalls.end())
         throw std::runtime_error("ClassifierFactory<>::Create - don't know anything about " + name);
      return (it->second)(job, title, dsi, option);
   }
   IMethod *Create(const std::string &name, DataSetInfo &dsi, const TString &weightfile = "")
   {
      return Create(name, "", "", dsi, weightfile);
   }
   const std::vector<std::string> List() const
   {
      std::vector<std::string> names;
      for (const auto &entry : fCalls)
         names.push_back(entry.first);
      return names;
   }

private:
   ClassifierFactory() {}
   typedef std::map<std::string, Creator> CallMap;
   CallMap fCalls;
};

// What TMVA's MethodPlugins.cxx does when libTMVA loads: the name "Plugins" takes kPlugins.
// STAND-IN only: a test calls LoadLibraryTMVA() to model a libTMVA that has MethodPlugins
// (every ROOT 6 so far); a copy on which it is never called models one without.
namespace detail {
inline IMethod *CreateMethodPlugins(const TString &, const TString &, DataSetInfo &, const TString &)
{
   std::cerr << "Couldn't find plugin handler for TMVA@@MethodBase" << std::endl;
   return nullptr;
}
struct PluginsRegistration {
   PluginsRegistration()
   {
      ClassifierFactory::Instance().Register("Plugins", CreateMethodPlugins);
      Types::AddTypeMapping(Types::kPlugins, "Plugins");
   }
};
inline void LoadLibraryTMVA()
{
   static PluginsRegistration once;
}
} // namespace detail

// ---------------------------------------------------------------- Factory (BookMethod flow)
class Factory {
public:
   explicit Factory(const TString &jobName) : fJobName(jobName) {}
   ~Factory()
   {
      for (MethodBase *m : fMethods)
         delete m;
   }

   MethodBase *BookMethod(DataLoader *loader, TString theMethodName, TString methodTitle, TString theOption = "")
   {
      for (MethodBase *m : fMethods)
         if (m->GetMethodName() == methodTitle)
            Log() << kFATAL << "Booking failed since method with title <" << methodTitle << "> already exists" << Endl;
      Int_t boostNum = 0;
      {
         Configurable conf(theOption);
         conf.DeclareOptionRef(boostNum = 0, "Boost_num", "Number of times the classifier will be boosted");
         conf.ParseOptions();
      }
      DataSetInfo &dsi = loader->GetDataSetInfo();
      IMethod *im = ClassifierFactory::Instance().Create(theMethodName.Data(), fJobName, methodTitle, dsi, theOption);
      MethodBase *method = dynamic_cast<MethodBase *>(im);
      if (method == nullptr)
         return nullptr;
      if (!method->HasAnalysisType(Types::kClassification, dsi.GetNClasses(), dsi.GetNTargets())) {
         Log() << kWARNING << "Method " << method->GetMethodTypeName() << " is not capable of handling classification with "
               << dsi.GetNClasses() << " classes." << Endl;
         return nullptr;
      }
      method->SetWeightFileDir(TString(loader->GetName()) + "/weights");
      method->SetModelPersistence(kTRUE);
      method->SetAnalysisType(Types::kClassification);
      method->SetupMethod();
      method->ParseOptions();
      method->ProcessSetup();
      method->CheckSetup();
      fMethods.push_back(method);
      fLoaders.push_back(loader);
      return method;
   }
   MethodBase *BookMethod(DataLoader *loader, Types::EMVA theMethod, TString methodTitle, TString theOption = "")
   {
      return BookMethod(loader, Types::GetMethodName(theMethod), methodTitle, theOption);
   }

   void TrainAllMethods()
   {
      for (MethodBase *m : fMethods) {
         m->TrainMethod();
         fTrainScores[m->GetMethodName().Data()] = m->StandinTrainScores();
      }
      // "Destroy and recreate all methods via weight files for testing"
      for (size_t i = 0; i < fMethods.size(); ++i) {
         MethodBase *m = fMethods[i];
         const Types::EMVA methodType = m->GetMethodType();
         const TString weightfile = m->GetWeightFileName();
         DataSetInfo &dsi = m->DataInfo();
         delete m;
         m = dynamic_cast<MethodBase *>(
            ClassifierFactory::Instance().Create(Types::GetMethodName(methodType).Data(), dsi, weightfile));
         if (!m)
            Log() << kFATAL << "STAND-IN: re-creating the method from " << weightfile << " gave nullptr" << Endl;
         m->SetWeightFileDir(TString(fLoaders[i]->GetName()) + "/weights");
         m->SetModelPersistence(kTRUE);
         m->SetAnalysisType(Types::kClassification);
         m->SetupMethod();
         m->ReadStateFromFile();
         fMethods[i] = m;
      }
   }

   void TestAllMethods()
   {
      for (MethodBase *m : fMethods) {
         m->Data()->SetCurrentType(Types::kTesting);
         fTestScores[m->GetMethodName().Data()] = m->GetMvaValues(0, m->Data()->GetNTestEvents(), kTRUE);
      }
   }

   MethodBase *GetMethod(const TString &methodTitle) const
   {
      for (MethodBase *m : fMethods)
         if (m->GetMethodName() == methodTitle)
            return m;
      return nullptr;
   }
   // STAND-IN accessors (not in TMVA): the TestTree and TrainTree columns of a method.
   std::vector<Double_t> StandinTestScores(const TString &methodTitle) const
   {
      auto it = fTestScores.find(methodTitle.Data());
      return it == fTestScores.end() ? std::vector<Double_t>() : it->second;
   }
   std::vector<Double_t> StandinTrainScores(const TString &methodTitle) const
   {
      auto it = fTrainScores.find(methodTitle.Data());
      return it == fTrainScores.end() ? std::vector<Double_t>() : it->second;
   }

private:
   MsgLogger &Log() const { return fLogger; }
   TString fJobName;
   std::vector<MethodBase *> fMethods;
   std::vector<DataLoader *> fLoaders;
   std::map<std::string, std::vector<Double_t>> fTestScores;
   std::map<std::string, std::vector<Double_t>> fTrainScores;
   mutable MsgLogger fLogger{"Factory"};
};

// ---------------------------------------------------------------- Reader (BookMVA / EvaluateMVA)
class Reader {
public:
   Reader() : fDataSetInfo("Reader") {}
   ~Reader()
   {
      for (auto &entry : fMethods)
         delete entry.second;
   }
   void AddVariable(const TString &expression) { fDataSetInfo.AddVariable(expression); }
   DataSetInfo &DataInfo() { return fDataSetInfo; }

   IMethod *BookMVA(const TString &methodTag, const TString &weightfile)
   {
      TXMLEngine xml;
      void *doc = xml.ParseFile(weightfile.Data());
      if (!doc)
         throw std::runtime_error(std::string("STAND-IN Reader: cannot parse ") + weightfile.Data());
      TString fullMethodName = xml.GetAttr(xml.DocGetRootElement(doc), "Method");
      xml.FreeDoc(doc);
      const TString typeName = fullMethodName(0, fullMethodName.Index("::"));
      const Types::EMVA methodType = Types::GetMethodType(typeName);
      IMethod *im = ClassifierFactory::Instance().Create(Types::GetMethodName(methodType).Data(), fDataSetInfo, weightfile);
      MethodBase *method = dynamic_cast<MethodBase *>(im);
      if (!method)
         throw std::runtime_error("STAND-IN Reader: ClassifierFactory returned no MethodBase");
      method->SetupMethod();
      method->DeclareCompatibilityOptions();
      method->ReadStateFromFile();
      method->CheckSetup();
      fMethods[methodTag.Data()] = method;
      return method;
   }

   Double_t EvaluateMVA(const std::vector<Float_t> &inputVec, const TString &methodTag, Double_t = 0)
   {
      for (Float_t v : inputVec)
         if (v != v)
            return -999;
      Event tmpEvent(inputVec, 0);
      return fMethods.at(methodTag.Data())->GetMvaValue(&tmpEvent);
   }

private:
   DataSetInfo fDataSetInfo;
   std::map<std::string, MethodBase *> fMethods;
};

// ---------------------------------------------------------------- test data (STAND-IN only)
// Fills a loader with n events: rows of x (n x nvar, row-major), classes cls (0 = Signal,
// 1 = Background) and weights w. The first nTrain events form the training sample.
inline void FillLoader(DataLoader &loader, const Float_t *x, const Int_t *cls, const Double_t *w, Long64_t n,
                       UInt_t nvar, Long64_t nTrain)
{
   DataSetInfo &dsi = loader.GetDataSetInfo();
   if (dsi.GetNVariables() == 0)
      for (UInt_t j = 0; j < nvar; ++j)
         dsi.AddVariable(TString::Format("x%u", j));
   dsi.AddClass("Signal");
   dsi.AddClass("Background");
   DataSet *ds = dsi.GetDataSet();
   ds->SetNVariables(nvar);
   for (Long64_t i = 0; i < n; ++i) {
      std::vector<Float_t> values(x + i * nvar, x + (i + 1) * nvar);
      ds->AddEvent(new Event(values, UInt_t(cls[i]), w[i]), i < nTrain ? Types::kTraining : Types::kTesting);
   }
}

} // namespace TMVA_STANDIN_NS

#ifdef TMVA_STANDIN_NS_DEFAULTED
#undef TMVA_STANDIN_NS
#undef TMVA_STANDIN_NS_DEFAULTED
#endif
