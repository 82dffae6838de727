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
//    * DataLoader (AddVariable, AddVariablesArray, AddSignalTree, AddBackgroundTree,
//      PrepareTrainingAndTestTree) and DataSetFactory's split, normalisation and mixing rules
//      (SplitMode/MixMode Random, Block, Alternate): under Block the method receives its
//      training events class by class, as real TMVA was seen to do;
//    * VariableInfo as TMVA writes it to <Variable> (an AddVariablesArray element carries the
//      array's expression and the internal name "name[k]"), and the Reader's matching of its
//      declared expressions against the weight file's, in order;
//    * Factory::BookMethod / TrainAllMethods (write weights, delete, re-create from the
//      weight file) / TestAllMethods / EvaluateAllMethods (writes only TestTree and TrainTree,
//      with one array leaf per AddVariablesArray array), and Reader::BookMVA / EvaluateMVA.
//  Not modelled: variable transformations (GetEvent returns the untransformed event),
//  MVA PDFs, evaluation histograms, ranking, boosting, categories, multiclass, regression.
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
#include "TCut.h"
#include "TDirectory.h"
#include "TFile.h"
#include "TMath.h"
#include "TRandom3.h"
#include "TString.h"
#include "TSystem.h"
#include "TTree.h"
#include "TTreeFormula.h"
#include "TXMLEngine.h"

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
   Event(const std::vector<Float_t> &values, const std::vector<Float_t> &targets, UInt_t theClass = 0,
         Double_t weight = 1.0, Double_t boostweight = 1.0)
      : fValues(values), fTargets(targets), fClass(theClass), fWeight(weight), fBoostWeight(boostweight)
   {
   }
   Event(const Event &event) = default;
   Double_t GetWeight() const { return fWeight * fBoostWeight; }
   void SetWeight(Double_t w) { fWeight = w; }
   UInt_t GetClass() const { return fClass; }
   UInt_t GetNVariables() const { return fValues.size(); }
   Float_t GetValue(UInt_t ivar) const { return fValues.at(ivar); }
   std::vector<Float_t> &GetValues() { return fValues; }
   const std::vector<Float_t> &GetValues() const { return fValues; }
   UInt_t GetNTargets() const { return fTargets.size(); }
   Float_t GetTarget(UInt_t itgt) const { return fTargets.at(itgt); }
   std::vector<Float_t> &GetTargets() { return fTargets; }
   const std::vector<Float_t> &GetTargets() const { return fTargets; }
   void SetTarget(UInt_t itgt, Float_t value)
   {
      if (fTargets.size() <= itgt)
         fTargets.resize(itgt + 1);
      fTargets.at(itgt) = value;
   }

private:
   std::vector<Float_t> fValues;
   std::vector<Float_t> fTargets;
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
   // STAND-IN only: drop all events (the stand-in's DataSetFactory refills the data set).
   void StandinClear()
   {
      for (auto &collection : fCollections) {
         for (Event *ev : collection)
            delete ev;
         collection.clear();
      }
   }

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
// As TMVA's VariableInfo: the expression (what the Reader matches), the internal name (unique;
// "name[k]" for the elements of DataLoader::AddVariablesArray), label, title, unit, type, range,
// the array bit, and the external link the Reader reads values from.
class VariableInfo {
public:
   explicit VariableInfo(const TString &expression = "", const TString &title = "", const TString &unit = "",
                         char varType = 'F', void *external = nullptr, Double_t min = 0, Double_t max = 0)
      : fExpression(expression), fInternalName(expression), fLabel(expression),
        fTitle(title == "" ? expression : title), fUnit(unit), fVarType(varType), fXmin(min), fXmax(max),
        fExternalData(external)
   {
   }
   const TString &GetExpression() const { return fExpression; }
   const TString &GetInternalName() const { return fInternalName; }
   const TString &GetLabel() const { return fLabel; }
   const TString &GetTitle() const { return fTitle; }
   const TString &GetUnit() const { return fUnit; }
   char GetVarType() const { return fVarType; }
   Double_t GetMin() const { return fXmin; }
   Double_t GetMax() const { return fXmax; }
   void SetInternalName(const char *name) { fInternalName = name; }
   void SetMin(Double_t v) { fXmin = v; }
   void SetMax(Double_t v) { fXmax = v; }
   void *GetExternalLink() const { return fExternalData; }
   void SetExternalLink(void *p) { fExternalData = p; }
   // TMVA sets the bit DataSetInfo::kIsArrayVariable on its TObject base; a flag here.
   Bool_t IsFromArray() const { return fIsArray; }
   void SetFromArray(Bool_t v) { fIsArray = v; }

   // VariableInfo::AddToXML / ReadFromXML: the attributes of <Variable>.
   void AddToXML(void *varnode) const
   {
      TXMLEngine xml;
      xml.NewAttr(varnode, nullptr, "Expression", fExpression.Data());
      xml.NewAttr(varnode, nullptr, "Label", fLabel.Data());
      xml.NewAttr(varnode, nullptr, "Title", fTitle.Data());
      xml.NewAttr(varnode, nullptr, "Unit", fUnit.Data());
      xml.NewAttr(varnode, nullptr, "Internal", fInternalName.Data());
      xml.NewAttr(varnode, nullptr, "Type", TString(fVarType).Data());
      xml.NewAttr(varnode, nullptr, "Min", TString::Format("%.9e", fXmin).Data());
      xml.NewAttr(varnode, nullptr, "Max", TString::Format("%.9e", fXmax).Data());
   }
   void ReadFromXML(void *varnode)
   {
      TXMLEngine xml;
      auto attr = [&xml, varnode](const char *name) {
         const char *v = xml.GetAttr(varnode, name);
         return TString(v ? v : "");
      };
      fExpression = attr("Expression");
      fLabel = attr("Label");
      fTitle = attr("Title");
      fUnit = attr("Unit");
      fInternalName = attr("Internal");
      fVarType = attr("Type").Length() ? attr("Type")[0] : 'F';
      fXmin = attr("Min").Atof();
      fXmax = attr("Max").Atof();
   }

private:
   TString fExpression, fInternalName, fLabel, fTitle, fUnit;
   char fVarType = 'F';
   Double_t fXmin = 0, fXmax = 0;
   void *fExternalData = nullptr;
   Bool_t fIsArray = kFALSE;
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
   VariableInfo &AddVariable(const TString &expression, const TString &title = "", const TString &unit = "",
                             Double_t min = 0, Double_t max = 0, char varType = 'F', Bool_t normalized = kTRUE,
                             void *external = nullptr)
   {
      (void)normalized;
      TString regexpr = expression; // remove possible blanks
      regexpr.ReplaceAll(" ", "");
      fVariables.emplace_back(regexpr, title, unit, varType, external, min, max);
      return fVariables.back();
   }
   // As TMVA: `size` variables that all carry the array's expression; the internal name of element
   // k is "expression[k]", its title "[k]" (title + "[k]").
   void AddVariablesArray(const TString &expression, Int_t size, const TString &title = "", const TString &unit = "",
                          Double_t min = 0, Double_t max = 0, char varType = 'F', Bool_t normalized = kTRUE,
                          void *external = nullptr)
   {
      (void)normalized;
      TString regexpr = expression;
      regexpr.ReplaceAll(" ", "");
      for (Int_t i = 0; i < size; ++i) {
         fVariables.emplace_back(regexpr, title + TString::Format("[%d]", i), unit, varType, external, min, max);
         fVariables.back().SetFromArray(kTRUE);
         fVariables.back().SetInternalName((fVariables.back().GetInternalName() + TString::Format("[%d]", i)).Data());
      }
      fVarArrays[regexpr] = size;
   }
   Bool_t IsVariableFromArray(Int_t i) const { return GetVariableInfo(i).IsFromArray(); }
   Int_t GetVarArraySize(const TString &expression) const
   {
      auto it = fVarArrays.find(expression);
      return it == fVarArrays.end() ? -1 : it->second;
   }
   std::vector<VariableInfo> &GetVariableInfos() { return fVariables; }
   const std::vector<VariableInfo> &GetVariableInfos() const { return fVariables; }
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
   UInt_t GetNTargets() const { return fTargets.size(); }
   VariableInfo &AddTarget(const TString &expression, const TString &title, const TString &unit, Double_t min,
                           Double_t max, Bool_t normalized = kTRUE, void *external = nullptr)
   {
      (void)normalized;
      TString regexpr = expression;
      regexpr.ReplaceAll(" ", "");
      fTargets.emplace_back(regexpr, title, unit, 'F', external, min, max);
      return fTargets.back();
   }
   VariableInfo &GetTargetInfo(Int_t i) { return fTargets.at(i); }
   const VariableInfo &GetTargetInfo(Int_t i) const { return fTargets.at(i); }
   std::vector<VariableInfo> &GetTargetInfos() { return fTargets; }
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
   std::vector<VariableInfo> fTargets;
   std::map<TString, Int_t> fVarArrays;
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
   DataSetInfo &DefaultDataSetInfo() { return fDataSetInfo; }

   void AddVariable(const TString &expression, const TString &title, const TString &unit, char type = 'F',
                    Double_t min = 0, Double_t max = 0)
   {
      fDataSetInfo.AddVariable(expression, title, unit, min, max, type);
   }
   void AddVariable(const TString &expression, char type = 'F', Double_t min = 0, Double_t max = 0)
   {
      fDataSetInfo.AddVariable(expression, "", "", min, max, type);
   }
   void AddVariablesArray(const TString &expression, int size, char type = 'F', Double_t min = 0, Double_t max = 0)
   {
      fDataSetInfo.AddVariablesArray(expression, size, "", "", min, max, type);
   }
   void AddTarget(const TString &expression, const TString &title = "", const TString &unit = "", Double_t min = 0,
                  Double_t max = 0)
   {
      fDataSetInfo.AddTarget(expression, title, unit, min, max);
   }
   void AddRegressionTree(TTree *tree, Double_t weight = 1.0, Types::ETreeType treetype = Types::kMaxTreeType)
   {
      AddTree(tree, "Regression", weight, "", treetype);
   }
   // The class is registered when its first tree is added: Signal is class 0 when added first.
   void AddTree(TTree *tree, const TString &className, Double_t weight = 1.0, const TCut &cut = "",
                Types::ETreeType tt = Types::kMaxTreeType)
   {
      (void)cut;
      fDataSetInfo.AddClass(className);
      fTrees.push_back({tree, className, weight, tt});
   }
   void AddSignalTree(TTree *signal, Double_t weight = 1.0, Types::ETreeType treetype = Types::kMaxTreeType)
   {
      AddTree(signal, "Signal", weight, "", treetype);
   }
   void AddBackgroundTree(TTree *background, Double_t weight = 1.0, Types::ETreeType treetype = Types::kMaxTreeType)
   {
      AddTree(background, "Background", weight, "", treetype);
   }
   // Builds the training and test samples as TMVA's DataSetFactory does (below).
   void PrepareTrainingAndTestTree(const TCut &cut, const TString &splitOpt);

   struct InputTree {
      TTree *tree;
      TString className;
      Double_t weight;
      Types::ETreeType type;
   };

private:
   TString fName;
   DataSetInfo fDataSetInfo;
   std::vector<InputTree> fTrees;
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

// ---------------------------------------------------------------- DataSetFactory.cxx (the split and mix rules)
// What TMVA's DataSetFactory does between the input trees and the method's training sample,
// as far as PyLSTM sees it (BuildEventVector, MixEvents, RenormEvents, InitOptions):
//  * events are read class by class, in the order the classes were added, tree by tree, entry
//    by entry; the variables of an AddVariablesArray array are the elements of that branch;
//  * split: per class, nTrain_<class> / nTest_<class> events (0: half of the rest each);
//    SplitMode=Random shuffles each class's events (TRandom3(SplitSeed), std::random_shuffle's
//    swap rule) before taking them, Block takes them in order, Alternate alternates;
//  * NormMode (NumEvents, EqualNumEvents, None) rescales the training weights per class;
//  * mix: MixMode (default SameAsSplitMode) Block concatenates the classes (all events of class
//    0, then class 1: the method receives its training events class by class), Alternate
//    interleaves them, Random shuffles the concatenated samples.
// Not modelled: weight expressions, per-class cuts, TrainTestSplit_<class>, ScaleWithPreselEff.
namespace detail {
// std::random_shuffle(first, last, TMVA::RandomGenerator<TRandom3>(seed)), as in MixEvents.
template <class It>
void RandomShuffle(It first, It last, TRandom3 &rndm)
{
   if (first == last)
      return;
   for (It i = first + 1; i != last; ++i)
      std::iter_swap(i, first + rndm.Integer(UInt_t((i - first) + 1)));
}
} // namespace detail

inline void DataLoader::PrepareTrainingAndTestTree(const TCut &cut, const TString &splitOpt)
{
   DataSetInfo &dsi = fDataSetInfo;
   MsgLogger log("DataSetFactory");
   const UInt_t nclasses = dsi.GetNClasses(), nvars = dsi.GetNVariables();

   // ---- InitOptions
   TString splitMode = "Random", mixMode = "SameAsSplitMode", normMode = "EqualNumEvents", verboseLevel = "Info";
   UInt_t splitSeed = 100;
   Bool_t verbose = kFALSE, correlations = kTRUE, calcCorrelations = kTRUE, scaleWithPreselEff = kFALSE;
   std::vector<Int_t> nTrain(nclasses, 0), nTest(nclasses, 0);
   std::vector<Double_t> trainTestSplit(nclasses, 0);
   {
      Configurable splitSpecs(splitOpt);
      splitSpecs.SetConfigName("DataSetFactory");
      splitSpecs.DeclareOptionRef(splitMode, "SplitMode");
      splitSpecs.DeclareOptionRef(mixMode, "MixMode");
      splitSpecs.DeclareOptionRef(splitSeed, "SplitSeed");
      splitSpecs.DeclareOptionRef(normMode, "NormMode");
      splitSpecs.DeclareOptionRef(scaleWithPreselEff, "ScaleWithPreselEff");
      for (UInt_t cl = 0; cl < nclasses; ++cl) {
         const TString name = dsi.GetClassInfo(cl)->GetName();
         splitSpecs.DeclareOptionRef(nTrain[cl], "nTrain_" + name);
         splitSpecs.DeclareOptionRef(nTest[cl], "nTest_" + name);
         splitSpecs.DeclareOptionRef(trainTestSplit[cl], "TrainTestSplit_" + name);
      }
      splitSpecs.DeclareOptionRef(verbose, "V");
      splitSpecs.DeclareOptionRef(verboseLevel, "VerboseLevel");
      splitSpecs.DeclareOptionRef(correlations, "Correlations");
      splitSpecs.DeclareOptionRef(calcCorrelations, "CalcCorrelations");
      splitSpecs.ParseOptions();
      splitSpecs.CheckForUnusedOptions();
   }
   splitMode.ToUpper();
   mixMode.ToUpper();
   normMode.ToUpper();
   if (mixMode == "SAMEASSPLITMODE")
      mixMode = splitMode;

   // ---- BuildEventVector: [tree type: 0 training, 1 testing, 2 undefined][class]
   std::vector<std::vector<std::vector<Event *>>> events(3, std::vector<std::vector<Event *>>(nclasses));
   std::vector<Int_t> element(nvars, 0); // index within its array (AddVariablesArray), else 0
   for (UInt_t i = 1; i < nvars; ++i)
      if (dsi.IsVariableFromArray(i) && dsi.IsVariableFromArray(i - 1) &&
          dsi.GetVariableInfo(i).GetExpression() == dsi.GetVariableInfo(i - 1).GetExpression())
         element[i] = element[i - 1] + 1;
   for (UInt_t cl = 0; cl < nclasses; ++cl) {
      for (const InputTree &input : fTrees) {
         if (input.className != dsi.GetClassInfo(cl)->GetName())
            continue;
         TTree *tree = input.tree;
         std::map<TString, std::unique_ptr<TTreeFormula>> formulas;
         for (UInt_t i = 0; i < nvars; ++i) {
            const TString expr = dsi.GetVariableInfo(i).GetExpression();
            if (!formulas.count(expr)) {
               formulas[expr].reset(new TTreeFormula("Formula" + expr, expr, tree));
               if (formulas[expr]->GetNdim() <= 0)
                  log << kFATAL << "Expression " << expr << " could not be resolved to a valid formula. " << Endl;
            }
         }
         std::vector<std::unique_ptr<TTreeFormula>> targetFormulas;
         for (UInt_t t = 0; t < dsi.GetNTargets(); ++t) {
            const TString expr = dsi.GetTargetInfo(t).GetExpression();
            targetFormulas.emplace_back(new TTreeFormula("Target" + expr, expr, tree));
            if (targetFormulas.back()->GetNdim() <= 0)
               log << kFATAL << "Expression " << expr << " could not be resolved to a valid formula. " << Endl;
         }
         std::unique_ptr<TTreeFormula> cutFormula;
         if (TString(cut.GetTitle()) != "")
            cutFormula.reset(new TTreeFormula("CutClass", cut.GetTitle(), tree));
         const Int_t type = input.type == Types::kTraining ? 0 : input.type == Types::kTesting ? 1 : 2;
         for (Long64_t entry = 0; entry < tree->GetEntries(); ++entry) {
            tree->LoadTree(entry);
            tree->GetEntry(entry);
            if (cutFormula && cutFormula->EvalInstance(0) < 0.5)
               continue;
            std::vector<Float_t> values(nvars);
            for (UInt_t i = 0; i < nvars; ++i) {
               TTreeFormula &f = *formulas[dsi.GetVariableInfo(i).GetExpression()];
               f.GetNdata();
               values[i] = f.EvalInstance(element[i]);
               if (!TMath::Finite(values[i]))
                  log << kFATAL << "How am I supposed to train a NaN or +-inf?!" << Endl;
            }
            std::vector<Float_t> targets(targetFormulas.size());
            for (size_t t = 0; t < targets.size(); ++t) {
               targetFormulas[t]->GetNdata();
               targets[t] = targetFormulas[t]->EvalInstance(0);
            }
            events[type][cl].push_back(new Event(values, targets, cl, input.weight));
         }
      }
   }

   // ---- MixEvents: split
   TRandom3 rndm(splitSeed);
   if (splitMode.Contains("RANDOM"))
      for (UInt_t cl = 0; cl < nclasses; ++cl)
         detail::RandomShuffle(events[2][cl].begin(), events[2][cl].end(), rndm);
   for (UInt_t cl = 0; cl < nclasses; ++cl) {
      std::vector<Event *> &training = events[0][cl], &testing = events[1][cl], &undefined = events[2][cl];
      const Int_t availableTraining = training.size(), availableTesting = testing.size(),
                  availableUndefined = undefined.size();
      Int_t requestedTraining = nTrain[cl], requestedTesting = nTest[cl];
      const Int_t allAvailable = availableUndefined + availableTraining + availableTesting;
      Int_t useForTraining = 0, useForTesting = 0;
      if (requestedTraining == 0 && requestedTesting == 0) { // case C: balance training and testing
         if (availableUndefined >= TMath::Abs(availableTraining - availableTesting)) {
            useForTraining = useForTesting = allAvailable / 2;
         } else {
            useForTraining = availableTraining;
            useForTesting = availableTesting;
            if (availableTraining < availableTesting)
               useForTraining += availableUndefined;
            else
               useForTesting += availableUndefined;
         }
         requestedTraining = useForTraining;
         requestedTesting = useForTesting;
      } else if (requestedTesting == 0) { // case B
         useForTraining = TMath::Max(requestedTraining, availableTraining);
         if (allAvailable < useForTraining)
            log << kFATAL << "Dataset[" << dsi.GetName() << "] : More events requested for training ("
                << requestedTraining << ") than available (" << allAvailable << ")!" << Endl;
         useForTesting = allAvailable - useForTraining;
         requestedTesting = useForTesting;
      } else if (requestedTraining == 0) { // case B
         useForTesting = TMath::Max(requestedTesting, availableTesting);
         if (allAvailable < useForTesting)
            log << kFATAL << "Dataset[" << dsi.GetName() << "] : More events requested for testing ("
                << requestedTesting << ") than available (" << allAvailable << ")!" << Endl;
         useForTraining = allAvailable - useForTesting;
         requestedTraining = useForTraining;
      } else { // case A
         const Int_t stillNeedForTraining = TMath::Max(requestedTraining - availableTraining, 0);
         const Int_t stillNeedForTesting = TMath::Max(requestedTesting - availableTesting, 0);
         Int_t nFree = availableUndefined - stillNeedForTraining - stillNeedForTesting;
         if (nFree < 0)
            nFree = 0;
         useForTraining = TMath::Max(requestedTraining, availableTraining) + nFree / 2;
         useForTesting = allAvailable - useForTraining;
      }
      if (splitMode == "ALTERNATE") {
         Int_t nTraining = availableTraining;
         for (auto it = undefined.begin(); it != undefined.end();) {
            ++nTraining;
            if (nTraining <= requestedTraining)
               training.push_back(*it++);
            if (it != undefined.end())
               testing.push_back(*it++);
         }
      } else {
         if (availableUndefined < (useForTraining - availableTraining) ||
             availableUndefined < (useForTesting - availableTesting) ||
             availableUndefined < (useForTraining + useForTesting - availableTraining - availableTesting))
            log << kFATAL << "Dataset[" << dsi.GetName() << "] : More events requested than available!" << Endl;
         if (useForTraining > availableTraining) {
            training.insert(training.end(), undefined.begin(), undefined.begin() + useForTraining - availableTraining);
            undefined.erase(undefined.begin(), undefined.begin() + useForTraining - availableTraining);
         }
         if (useForTesting > availableTesting)
            testing.insert(testing.end(), undefined.begin(), undefined.begin() + useForTesting - availableTesting);
      }
      // the undefined events not taken are dropped
      for (Event *ev : undefined)
         if (std::find(training.begin(), training.end(), ev) == training.end() &&
             std::find(testing.begin(), testing.end(), ev) == testing.end())
            delete ev;
      undefined.clear();
      // shorten to the requested sizes: random events (Random) or from the end
      for (auto *sample : {&training, &testing}) {
         const UInt_t requested = sample == &training ? requestedTraining : requestedTesting;
         if (sample->size() < requested && !splitMode.Contains("RANDOM"))
            log << kWARNING << "Dataset[" << dsi.GetName() << "] : DataSetFactory/requested number of "
                << (sample == &training ? "training" : "testing") << " samples larger than size of eventVector"
                << (sample == &training ? "Training" : "Testing") << "." << Endl;
         if (sample->size() <= requested)
            continue;
         if (splitMode.Contains("RANDOM")) {
            std::vector<UInt_t> indices(sample->size());
            for (UInt_t i = 0; i < indices.size(); ++i)
               indices[i] = i;
            detail::RandomShuffle(indices.begin(), indices.end(), rndm);
            indices.erase(indices.begin() + (sample->size() - requested), indices.end());
            for (UInt_t i : indices) {
               delete sample->at(i);
               sample->at(i) = nullptr;
            }
            sample->erase(std::remove(sample->begin(), sample->end(), nullptr), sample->end());
         } else {
            for (auto it = sample->begin() + requested; it != sample->end(); ++it)
               delete *it;
            sample->erase(sample->begin() + requested, sample->end());
         }
      }
   }

   // ---- RenormEvents (training events only)
   if (normMode != "NONE") {
      if (normMode != "NUMEVENTS" && normMode != "EQUALNUMEVENTS")
         log << kFATAL << "<PrepareForTrainingAndTesting> Unknown NormMode: " << normMode << Endl;
      for (UInt_t cl = 0; cl < nclasses; ++cl) {
         Double_t sum = 0;
         for (const Event *ev : events[0][cl])
            sum += ev->GetWeight();
         const Double_t n = normMode == "NUMEVENTS" ? events[0][cl].size() : events[0][0].size();
         for (Event *ev : events[0][cl])
            ev->SetWeight(ev->GetWeight() * n / sum);
      }
   }

   // ---- MixEvents: mix
   std::vector<Event *> trainingEvents, testingEvents;
   for (Int_t type = 0; type < 2; ++type) {
      std::vector<Event *> &out = type == 0 ? trainingEvents : testingEvents;
      if (mixMode == "ALTERNATE") {
         out.insert(out.end(), events[type][0].begin(), events[type][0].end());
         for (UInt_t cl = 1; cl < nclasses; ++cl) {
            Long64_t target = -1; // one before begin
            for (auto it = events[type][cl].begin(); it != events[type][cl].end(); ++it) {
               if (Long64_t(out.size()) - target < Long64_t(cl + 1)) {
                  out.insert(out.end(), it, events[type][cl].end());
                  break;
               }
               target += cl + 1;
               out.insert(out.begin() + target, *it);
            }
         }
      } else {
         for (UInt_t cl = 0; cl < nclasses; ++cl)
            out.insert(out.end(), events[type][cl].begin(), events[type][cl].end());
      }
   }
   if (mixMode == "RANDOM") {
      detail::RandomShuffle(trainingEvents.begin(), trainingEvents.end(), rndm);
      detail::RandomShuffle(testingEvents.begin(), testingEvents.end(), rndm);
   }
   DataSet *ds = dsi.GetDataSet();
   ds->StandinClear();
   ds->SetNVariables(nvars);
   for (Event *ev : trainingEvents)
      ds->AddEvent(ev, Types::kTraining);
   for (Event *ev : testingEvents)
      ds->AddEvent(ev, Types::kTesting);
   for (UInt_t cl = 0; cl < nclasses; ++cl)
      log << kINFO << "Dataset[" << dsi.GetName() << "] : " << dsi.GetClassInfo(cl)->GetName() << " -- training events: "
          << events[0][cl].size() << ", testing events: " << events[1][cl].size() << Endl;
   log << kINFO << "Dataset[" << dsi.GetName() << "] : SplitMode=" << splitMode << ", MixMode=" << mixMode << Endl;
}

// ---------------------------------------------------------------- TransformationHandler.h (subset)
// STAND-IN: no variable transformations; InverseTransform returns the event itself (TMVA returns the
// event as given when the handler holds no transformation).
class TransformationHandler {
public:
   const Event *Transform(const Event *ev) const { return ev; }
   const Event *InverseTransform(const Event *ev, Bool_t suppressIfNoTargets = true) const
   {
      (void)suppressIfNoTargets;
      return ev;
   }
};

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
   // regression response
   const std::vector<Float_t> &GetRegressionValues(const Event *const ev)
   {
      fTmpEvent = ev;
      const std::vector<Float_t> *ptr = &GetRegressionValues();
      fTmpEvent = nullptr;
      return (*ptr);
   }
   virtual const std::vector<Float_t> &GetRegressionValues()
   {
      std::vector<Float_t> *ptr = new std::vector<Float_t>(0);
      return (*ptr);
   }
   // multiclass classification response
   virtual const std::vector<Float_t> &GetMulticlassValues()
   {
      std::vector<Float_t> *ptr = new std::vector<Float_t>(0);
      return (*ptr);
   }

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
   UInt_t GetNTargets() const { return DataInfo().GetNTargets(); }
   TransformationHandler &GetTransformationHandler(Bool_t takeReroutedIfAvailable = true)
   {
      (void)takeReroutedIfAvailable;
      return fTransformation;
   }
   const TransformationHandler &GetTransformationHandler(Bool_t takeReroutedIfAvailable = true) const
   {
      (void)takeReroutedIfAvailable;
      return fTransformation;
   }

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
   Bool_t DoRegression() const { return fAnalysisType == Types::kRegression; }
   Bool_t DoMulticlass() const { return fAnalysisType == Types::kMulticlass; }
   void SetModelPersistence(Bool_t status) { fModelPersistence = status; }
   Bool_t IsModelPersistence() const { return fModelPersistence; }

   // STAND-IN accessors (not in TMVA) for the tests.
   const std::vector<Double_t> &StandinTrainScores() const { return fTrainScores; }
   // STAND-IN: TMVA's AddMulticlassOutput / AddRegressionOutput loop (one call per event of the
   // current tree type); row i holds event i's class probabilities or target values.
   std::vector<std::vector<Float_t>> StandinOutputs()
   {
      std::vector<std::vector<Float_t>> rows(Data()->GetNEvents());
      for (Long64_t ievt = 0; ievt < Long64_t(rows.size()); ievt++) {
         Data()->SetCurrentEvent(ievt);
         rows[ievt] = DoMulticlass() ? GetMulticlassValues() : GetRegressionValues();
      }
      return rows;
   }
   const std::vector<std::vector<Float_t>> &StandinTrainOutputs() const { return fTrainOutputs; }

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
   std::vector<std::vector<Float_t>> fTrainOutputs;
   TransformationHandler fTransformation;
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
   if (DoMulticlass() || DoRegression())
      fTrainOutputs = StandinOutputs();
   else
      fTrainScores = GetMvaValues(0, Data()->GetNTrainingEvents(), kTRUE);
   if (fModelPersistence)
      WriteStateToFile();
   if (!DoRegression() && fModelPersistence) // "presently only supported for classification"
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
   xml.NewAttr(info, nullptr, "value", DoRegression() ? "Regression" : DoMulticlass() ? "Multiclass" : "Classification");
   AddOptionsXMLTo(root);
   void *vars = xml.NewChild(root, nullptr, "Variables");
   xml.NewAttr(vars, nullptr, "NVar", TString::Format("%u", GetNvar()).Data());
   for (UInt_t i = 0; i < GetNvar(); ++i) {
      void *var = xml.NewChild(vars, nullptr, "Variable");
      xml.NewAttr(var, nullptr, "VarIndex", TString::Format("%u", i).Data());
      DataInfo().GetVariableInfo(i).AddToXML(var);
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
      if (nodeName == "GeneralInfo") {
         for (void *info = xml.GetChild(ch); info; info = xml.GetNext(info)) {
            if (TString(xml.GetAttr(info, "name")) != "AnalysisType")
               continue;
            const TString value = xml.GetAttr(info, "value");
            SetAnalysisType(value == "Regression" ? Types::kRegression
                            : value == "Multiclass" ? Types::kMulticlass
                                                    : Types::kClassification);
         }
      } else if (nodeName == "Transformations" || nodeName == "MVAPdfs") {
         continue;
      } else if (nodeName == "Options") {
         ReadOptionsFromXML(ch);
         ParseOptions();
      } else if (nodeName == "Variables") {
         const UInt_t nvar = TString(xml.GetAttr(ch, "NVar")).Atoi();
         if (nvar != GetNvar())
            Log() << kFATAL << "You declared " << GetNvar() << " variables in the Reader"
                  << " while there are " << nvar << " variables declared in the file" << Endl;
         // MethodBase::ReadVariablesFromXML: the expressions must match in order; the file's
         // variable info (internal name, title, ...) then replaces the declared one.
         UInt_t i = 0;
         for (void *var = xml.GetChild(ch); var; var = xml.GetNext(var), ++i) {
            VariableInfo readVarInfo;
            readVarInfo.ReadFromXML(var);
            VariableInfo &existingVarInfo = DataInfo().GetVariableInfo(i);
            if (existingVarInfo.GetExpression() == readVarInfo.GetExpression()) {
               readVarInfo.SetExternalLink(existingVarInfo.GetExternalLink());
               readVarInfo.SetFromArray(existingVarInfo.IsFromArray());
               existingVarInfo = readVarInfo;
            } else {
               Log() << kINFO << "ERROR in <ReadVariablesFromXML>" << Endl;
               Log() << kINFO << "The definition (or the order) of the variables found in the input file is" << Endl;
               Log() << kINFO << "not the same as the one declared in the Reader (which is necessary for the" << Endl;
               Log() << kINFO << "correct working of the method):" << Endl;
               Log() << kINFO << "   var #" << i << " declared in Reader: " << existingVarInfo.GetExpression() << Endl;
               Log() << kINFO << "   var #" << i << " declared in file  : " << readVarInfo.GetExpression() << Endl;
               Log() << kFATAL << "The expression declared to the Reader needs to be checked (name or order are wrong)"
                     << Endl;
            }
         }
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
   explicit Factory(const TString &jobName) : fJobName(jobName) {} // STAND-IN only: no output file
   Factory(TString theJobName, TFile *theTargetFile, TString theOption = "")
      : fJobName(theJobName), fTargetFile(theTargetFile)
   {
      // The options of TMVA's Factory; the stand-in acts on AnalysisType only.
      Configurable conf(theOption);
      conf.SetConfigName("Factory");
      Bool_t verbose = kFALSE, silent = kFALSE, color = kTRUE, drawProgressBar = kTRUE, correlations = kFALSE;
      Bool_t roc = kTRUE, modelPersistence = kTRUE;
      TString transformations = "", verboseLevel = "Info", analysisType = "Auto";
      conf.DeclareOptionRef(verbose, "V");
      conf.DeclareOptionRef(verboseLevel, "VerboseLevel");
      conf.DeclareOptionRef(silent, "Silent");
      conf.DeclareOptionRef(color, "Color");
      conf.DeclareOptionRef(drawProgressBar, "DrawProgressBar");
      conf.DeclareOptionRef(transformations, "Transformations");
      conf.DeclareOptionRef(correlations, "Correlations");
      conf.DeclareOptionRef(roc, "ROC");
      conf.DeclareOptionRef(modelPersistence, "ModelPersistence");
      conf.DeclareOptionRef(analysisType, "AnalysisType");
      conf.ParseOptions();
      conf.CheckForUnusedOptions();
      analysisType.ToLower();
      if (analysisType == "classification")
         fAnalysisType = Types::kClassification;
      else if (analysisType == "regression")
         fAnalysisType = Types::kRegression;
      else if (analysisType == "multiclass")
         fAnalysisType = Types::kMulticlass;
      else if (analysisType == "auto")
         fAnalysisType = Types::kNoAnalysisType;
      else
         Log() << kFATAL << "STAND-IN Factory: unknown AnalysisType=" << analysisType << Endl;
   }
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
      // As TMVA's Factory::BookMethod: AnalysisType=Auto means Regression with targets, Multiclass
      // with more than two classes, Classification otherwise.
      if (fAnalysisType == Types::kNoAnalysisType)
         fAnalysisType = dsi.GetNTargets() > 0   ? Types::kRegression
                         : dsi.GetNClasses() > 2 ? Types::kMulticlass
                                                 : Types::kClassification;
      IMethod *im = ClassifierFactory::Instance().Create(theMethodName.Data(), fJobName, methodTitle, dsi, theOption);
      MethodBase *method = dynamic_cast<MethodBase *>(im);
      if (method == nullptr)
         return nullptr;
      if (!method->HasAnalysisType(fAnalysisType, dsi.GetNClasses(), dsi.GetNTargets())) {
         Log() << kWARNING << "Method " << method->GetMethodTypeName() << " is not capable of handling ";
         if (fAnalysisType == Types::kMulticlass)
            Log() << "multiclass classification with " << dsi.GetNClasses() << " classes." << Endl;
         else
            Log() << "classification with " << dsi.GetNClasses() << " classes." << Endl;
         return nullptr;
      }
      method->SetWeightFileDir(TString(loader->GetName()) + "/weights");
      method->SetModelPersistence(kTRUE);
      method->SetAnalysisType(fAnalysisType);
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
         fTrainOutputs[m->GetMethodName().Data()] = m->StandinTrainOutputs();
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
         m->SetAnalysisType(fAnalysisType);
         m->SetupMethod();
         m->ReadStateFromFile();
         fMethods[i] = m;
      }
   }

   void TestAllMethods()
   {
      for (MethodBase *m : fMethods) {
         m->Data()->SetCurrentType(Types::kTesting);
         if (m->DoMulticlass() || m->DoRegression())
            fTestOutputs[m->GetMethodName().Data()] = m->StandinOutputs();
         else
            fTestScores[m->GetMethodName().Data()] = m->GetMvaValues(0, m->Data()->GetNTestEvents(), kTRUE);
      }
   }

   // The stand-in evaluates nothing; it writes <dataset>/TestTree and TrainTree to the output file
   // as TMVA's Factory does at the end of EvaluateAllMethods (DataSet::GetTree): classID/I,
   // className/C, one leaf per variable (one array leaf "name[size]/F" per AddVariablesArray
   // array), weight/F, and one leaf "<title>/F" per method.
   void EvaluateAllMethods()
   {
      if (!fTargetFile)
         return;
      std::vector<DataLoader *> done;
      for (DataLoader *loader : fLoaders) {
         if (std::find(done.begin(), done.end(), loader) != done.end())
            continue;
         done.push_back(loader);
         TDirectory *dir = fTargetFile->GetDirectory(loader->GetName());
         if (!dir)
            dir = fTargetFile->mkdir(loader->GetName());
         dir->cd();
         for (Types::ETreeType type : {Types::kTesting, Types::kTraining})
            WriteTree(*loader, type);
      }
   }

   // STAND-IN: the weighted area under the ROC curve of the test sample (Mann-Whitney, ties
   // counted half), not TMVA's ROCCurve integral (they differ by about 1/(2N)).
   Double_t GetROCIntegral(DataLoader *loader, TString theMethodName, UInt_t iClass = 0,
                           Types::ETreeType type = Types::kTesting)
   {
      (void)iClass;
      MethodBase *m = GetMethod(theMethodName);
      if (!m)
         Log() << kFATAL << "Method not found: " << theMethodName << Endl;
      const auto &all = type == Types::kTraining ? fTrainScores : fTestScores;
      const std::vector<Double_t> &scores = all.at(theMethodName.Data());
      const std::vector<Event *> &events = loader->GetDataSetInfo().GetDataSet()->GetEventCollection(type);
      std::vector<std::pair<Double_t, size_t>> order;
      for (size_t i = 0; i < scores.size(); ++i)
         order.emplace_back(scores[i], i);
      std::sort(order.begin(), order.end());
      Double_t below = 0, total = 0, sumS = 0, sumB = 0;
      for (size_t i = 0; i < order.size();) {
         size_t j = i;
         Double_t tieS = 0, tieB = 0;
         for (; j < order.size() && order[j].first == order[i].first; ++j) {
            const Event *ev = events.at(order[j].second);
            (loader->GetDataSetInfo().IsSignal(ev) ? tieS : tieB) += ev->GetWeight();
         }
         total += tieS * (below + 0.5 * tieB);
         below += tieB;
         sumS += tieS;
         sumB += tieB;
         i = j;
      }
      return total / (sumS * sumB);
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
   // Multiclass and Regression: row i is event i's class probabilities or target values.
   std::vector<std::vector<Float_t>> StandinTestOutputs(const TString &methodTitle) const
   {
      auto it = fTestOutputs.find(methodTitle.Data());
      return it == fTestOutputs.end() ? std::vector<std::vector<Float_t>>() : it->second;
   }
   std::vector<std::vector<Float_t>> StandinTrainOutputs(const TString &methodTitle) const
   {
      auto it = fTrainOutputs.find(methodTitle.Data());
      return it == fTrainOutputs.end() ? std::vector<std::vector<Float_t>>() : it->second;
   }
   Types::EAnalysisType GetAnalysisType() const { return fAnalysisType; }

private:
   void WriteTree(DataLoader &loader, Types::ETreeType type)
   {
      DataSetInfo &dsi = loader.GetDataSetInfo();
      DataSet *ds = dsi.GetDataSet();
      const TString treeName = type == Types::kTraining ? "TrainTree" : "TestTree";
      TTree tree(treeName, treeName);
      Int_t cls = 0;
      char className[40] = {0};
      Float_t weight = 0;
      std::vector<Float_t> values(dsi.GetNVariables());
      tree.Branch("classID", &cls, "classID/I");
      tree.Branch("className", className, "className/C");
      for (UInt_t i = 0; i < dsi.GetNVariables(); ++i) {
         const VariableInfo &vi = dsi.GetVariableInfo(i);
         if (!vi.IsFromArray()) {
            tree.Branch(vi.GetInternalName(), &values[i], vi.GetInternalName() + "/F");
         } else if (i == 0 || !dsi.IsVariableFromArray(i - 1) ||
                    dsi.GetVariableInfo(i - 1).GetExpression() != vi.GetExpression()) {
            const Int_t size = dsi.GetVarArraySize(vi.GetExpression());
            tree.Branch(vi.GetExpression(), &values[i], vi.GetExpression() + TString::Format("[%d]/F", size));
         }
      }
      std::vector<Float_t> targets(dsi.GetNTargets());
      for (UInt_t t = 0; t < dsi.GetNTargets(); ++t)
         tree.Branch(dsi.GetTargetInfo(t).GetInternalName(), &targets[t], dsi.GetTargetInfo(t).GetInternalName() + "/F");
      tree.Branch("weight", &weight, "weight/F");
      std::vector<const std::vector<Double_t> *> scores;
      std::vector<Float_t> scoreValues(fMethods.size());
      UInt_t im = 0;
      // As DataSet::GetTree: Multiclass and Regression methods get one branch named by the title
      // with one leaf per class name or target.
      std::vector<const std::vector<std::vector<Float_t>> *> outputs;
      std::deque<std::vector<Float_t>> outputValues;
      for (MethodBase *m : fMethods) {
         if (&m->DataInfo() != &dsi)
            continue;
         if (m->DoMulticlass() || m->DoRegression()) {
            const auto &all = type == Types::kTraining ? fTrainOutputs : fTestOutputs;
            auto it = all.find(m->GetMethodName().Data());
            if (it == all.end())
               continue;
            const UInt_t n = m->DoMulticlass() ? dsi.GetNClasses() : dsi.GetNTargets();
            TString leafList;
            for (UInt_t k = 0; k < n; ++k) {
               if (k > 0)
                  leafList.Append(":");
               leafList.Append(m->DoMulticlass() ? TString(dsi.GetClassInfo(k)->GetName())
                                                 : dsi.GetTargetInfo(k).GetInternalName());
               leafList.Append("/F");
            }
            outputValues.emplace_back(n);
            tree.Branch(m->GetMethodName(), outputValues.back().data(), leafList);
            outputs.push_back(&it->second);
            continue;
         }
         const auto &all = type == Types::kTraining ? fTrainScores : fTestScores;
         auto it = all.find(m->GetMethodName().Data());
         if (it == all.end())
            continue;
         tree.Branch(m->GetMethodName(), &scoreValues[im], m->GetMethodName() + "/F");
         scores.push_back(&it->second);
         ++im;
      }
      const std::vector<Event *> &events = ds->GetEventCollection(type);
      for (size_t e = 0; e < events.size(); ++e) {
         const Event *ev = events[e];
         cls = ev->GetClass();
         snprintf(className, sizeof(className), "%s", dsi.GetClassInfo(cls)->GetName());
         weight = ev->GetWeight();
         for (UInt_t i = 0; i < values.size(); ++i)
            values[i] = ev->GetValue(i);
         for (UInt_t t = 0; t < targets.size(); ++t)
            targets[t] = ev->GetTarget(t);
         for (size_t j = 0; j < scores.size(); ++j)
            scoreValues[j] = scores[j]->at(e);
         for (size_t j = 0; j < outputs.size(); ++j) {
            const std::vector<Float_t> &row = outputs[j]->at(e);
            std::copy(row.begin(), row.begin() + std::min(row.size(), outputValues[j].size()), outputValues[j].begin());
         }
         tree.Fill();
      }
      tree.Write("", TObject::kOverwrite);
      tree.SetDirectory(nullptr);
   }

   MsgLogger &Log() const { return fLogger; }
   TFile *fTargetFile = nullptr;
   TString fJobName;
   std::vector<MethodBase *> fMethods;
   std::vector<DataLoader *> fLoaders;
   std::map<std::string, std::vector<Double_t>> fTestScores;
   std::map<std::string, std::vector<Double_t>> fTrainScores;
   std::map<std::string, std::vector<std::vector<Float_t>>> fTestOutputs;
   std::map<std::string, std::vector<std::vector<Float_t>>> fTrainOutputs;
   Types::EAnalysisType fAnalysisType = Types::kClassification;
   mutable MsgLogger fLogger{"Factory"};
};

// ---------------------------------------------------------------- Reader (BookMVA / EvaluateMVA)
class Reader {
public:
   explicit Reader(const TString &theOption = "", Bool_t verbose = 0) : fDataSetInfo("Reader")
   {
      (void)theOption;
      (void)verbose;
   }
   ~Reader()
   {
      for (auto &entry : fMethods)
         delete entry.second;
   }
   // STAND-IN only: a variable without a link, for EvaluateMVA(const std::vector<Float_t> &, ...).
   void AddVariable(const TString &expression) { fDataSetInfo.AddVariable(expression); }
   void AddVariable(const TString &expression, Float_t *datalink)
   {
      fDataSetInfo.AddVariable(expression, "", "", 0, 0, 'F', kFALSE, (void *)datalink);
   }
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
   // The values behind the links given to AddVariable.
   Double_t EvaluateMVA(const TString &methodTag, Double_t aux = 0) { return EvaluateMVA(LinkedValues(), methodTag, aux); }

   // As TMVA's Reader: the event is the values behind the AddVariable links.
   const std::vector<Float_t> &EvaluateRegression(const TString &methodTag, Double_t aux = 0)
   {
      (void)aux;
      Event event(LinkedValues(), 0);
      return fMethods.at(methodTag.Data())->GetRegressionValues(&event);
   }
   Float_t EvaluateRegression(UInt_t tgtNumber, const TString &methodTag, Double_t aux = 0)
   {
      return EvaluateRegression(methodTag, aux).at(tgtNumber);
   }
   const std::vector<Float_t> &EvaluateMulticlass(const TString &methodTag, Double_t aux = 0)
   {
      (void)aux;
      Event event(LinkedValues(), 0);
      MethodBase *method = fMethods.at(methodTag.Data());
      method->fTmpEvent = &event;
      const std::vector<Float_t> &values = method->GetMulticlassValues();
      method->fTmpEvent = nullptr;
      return values;
   }
   Float_t EvaluateMulticlass(UInt_t clsNumber, const TString &methodTag, Double_t aux = 0)
   {
      return EvaluateMulticlass(methodTag, aux).at(clsNumber);
   }

private:
   std::vector<Float_t> LinkedValues() const
   {
      std::vector<Float_t> values;
      for (const VariableInfo &vi : fDataSetInfo.GetVariableInfos()) {
         if (!vi.GetExternalLink())
            throw std::runtime_error("STAND-IN Reader: variable " + std::string(vi.GetExpression().Data()) +
                                     " has no link; use AddVariable(expression, &value)");
         values.push_back(*static_cast<Float_t *>(vi.GetExternalLink()));
      }
      return values;
   }
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

// Multiclass (ntgt == 0): classes cls[i] in 0..nclasses-1, named "class0", "class1", ...
// Regression (ntgt > 0): one class "Regression" and targets t (n x ntgt, row-major), named "t0", ...
inline void FillLoaderTypes(DataLoader &loader, const Float_t *x, const Int_t *cls, const Float_t *t, const Double_t *w,
                            Long64_t n, UInt_t nvar, UInt_t ntgt, UInt_t nclasses, Long64_t nTrain)
{
   DataSetInfo &dsi = loader.GetDataSetInfo();
   if (dsi.GetNVariables() == 0)
      for (UInt_t j = 0; j < nvar; ++j)
         dsi.AddVariable(TString::Format("x%u", j));
   for (UInt_t k = 0; k < ntgt; ++k)
      dsi.AddTarget(TString::Format("t%u", k), "", "", 0, 0);
   if (ntgt > 0)
      dsi.AddClass("Regression");
   else
      for (UInt_t k = 0; k < nclasses; ++k)
         dsi.AddClass(TString::Format("class%u", k));
   DataSet *ds = dsi.GetDataSet();
   ds->SetNVariables(nvar);
   for (Long64_t i = 0; i < n; ++i) {
      std::vector<Float_t> values(x + i * nvar, x + (i + 1) * nvar);
      std::vector<Float_t> targets(t ? t + i * ntgt : nullptr, t ? t + (i + 1) * ntgt : nullptr);
      ds->AddEvent(new Event(values, targets, ntgt > 0 ? 0 : UInt_t(cls[i]), w[i]),
                   i < nTrain ? Types::kTraining : Types::kTesting);
   }
}

} // namespace TMVA_STANDIN_NS

#ifdef TMVA_STANDIN_NS_DEFAULTED
#undef TMVA_STANDIN_NS
#undef TMVA_STANDIN_NS_DEFAULTED
#endif
