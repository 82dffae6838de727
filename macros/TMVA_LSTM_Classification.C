/// \file
/// PyLSTM (tmva_lstm's NumPy LSTM) beside TMVA's own LSTM and a BDT, in the flow of ROOT's
/// TMVA_RNN_Classification tutorial, from a ROOT C++ macro.
///
///     tmva-lstm root 'macros/TMVA_LSTM_Classification.C("data/time_data_t10_d30.root", 20)'
///
/// `tmva-lstm root` registers PyLSTM in its own process and then runs the macro through ROOT's
/// C++ interpreter: it works with any ROOT that has TMVA, with or without TPython. Where ROOT has
/// TPython, `root -l -b -q 'macros/TMVA_LSTM_Classification.C(...)'` works too: the macro then
/// registers PyLSTM through TPython itself. Returns 0 on success (the exit status of both).

#include "TString.h"
#include "TSystem.h"

#if __has_include("TMVA/Factory.h")
#include "TCanvas.h"
#include "TFile.h"
#include "TTree.h"
#include "TMVA/DataLoader.h"
#include "TMVA/Factory.h"
#include "TMVA/Tools.h"
#define TMVA_LSTM_HAVE_TMVA 1
#endif
#if !defined(TMVA_LSTM_LAUNCHER) && __has_include("TPython.h")
#include "TPython.h"
#define TMVA_LSTM_HAVE_TPYTHON 1
#endif

int TMVA_LSTM_Classification(const char *dataFile = "data/time_data_t10_d30.root", int maxEpochs = 20,
                             bool useTMVA_DL = true, bool useBDT = true)
{
#if !defined(TMVA_LSTM_LAUNCHER) && !defined(TMVA_LSTM_HAVE_TPYTHON)
   Error("TMVA_LSTM_Classification",
         "this ROOT has no TPython to register PyLSTM; run the macro with: tmva-lstm root "
         "'macros/TMVA_LSTM_Classification.C(\"%s\", %d)'",
         dataFile, maxEpochs);
   return 2;
#elif !defined(TMVA_LSTM_HAVE_TMVA)
   Error("TMVA_LSTM_Classification",
         "this ROOT has no TMVA; install one that has, e.g. `conda install -c conda-forge root`");
   return 2;
#else
   const int ntime = 10, ndim = 30; // the tutorial's toy data: 10 time steps of 30 features

   TMVA::Tools::Instance();
#ifndef TMVA_LSTM_LAUNCHER
   // Make "PyLSTM" bookable: pins BLAS threads first (NumPy's and ROOT's BLAS in one process).
   if (!TPython::Exec("import tmva_lstm.tmva as t; t.pin_blas_threads(); t.register()")) {
      Error("TMVA_LSTM_Classification", "could not register PyLSTM: is tmva_lstm installed for ROOT's Python?");
      return 2;
   }
#endif

   auto data = TFile::Open(dataFile);
   if (!data || data->IsZombie()) {
      Error("TMVA_LSTM_Classification", "cannot open %s; make it with: python data/make_sample.py", dataFile);
      return 2;
   }
   auto output = TFile::Open("TMVA_LSTM_Classification.root", "RECREATE");
   auto factory = new TMVA::Factory("TMVAClassification", output,
                                    "!V:!Silent:Color:DrawProgressBar:Transformations=None:!Correlations:"
                                    "AnalysisType=Classification:ModelPersistence");
   auto loader = new TMVA::DataLoader("dataset");
   for (int t = 0; t < ntime; ++t)
      loader->AddVariablesArray(Form("vars_time%d", t), ndim);
   loader->AddSignalTree(data->Get<TTree>("sgn"), 1.0);
   loader->AddBackgroundTree(data->Get<TTree>("bkg"), 1.0);
   loader->PrepareTrainingAndTestTree("", "nTrain_Signal=1600:nTrain_Background=1600:SplitMode=Random:"
                                          "SplitSeed=100:NormMode=NumEvents:!V:!CalcCorrelations");

   TString strategy = Form("TrainingStrategy=LearningRate=1e-3,Momentum=0.0,ConvergenceSteps=5,BatchSize=100,"
                           "TestRepetitions=1,WeightDecay=1e-2,Regularization=None,MaxEpochs=%d,Optimizer=ADAM",
                           maxEpochs);
   TString layout = "InputLayout=10|30:Layout=LSTM|10|30|10|0|1,RESHAPE|FLAT,DENSE|64|TANH,LINEAR:";

   // Every method booked by name (TMVA's ClassifierFactory name), with TString arguments.
   factory->BookMethod(loader, TString("PyLSTM"), TString("PyLSTM"),
                       TString("!H:!V:ErrorStrategy=CROSSENTROPY:WeightInitialization=XAVIERUNIFORM:"
                               "ValidationSize=0.2:RandomSeed=1234:") + layout + strategy);
   if (useTMVA_DL)
      factory->BookMethod(loader, TString("DL"), TString("TMVA_LSTM"),
                          TString("!H:V:ErrorStrategy=CROSSENTROPY:VarTransform=None:"
                                  "WeightInitialization=XAVIERUNIFORM:ValidationSize=0.2:RandomSeed=1234:") +
                             layout + strategy + ":Architecture=CPU");
   if (useBDT)
      factory->BookMethod(loader, TString("BDT"), TString("BDTG"),
                          TString("!H:!V:NTrees=100:MinNodeSize=2.5%:BoostType=Grad:Shrinkage=0.10:"
                                  "UseBaggedBoost:BaggedSampleFraction=0.5:nCuts=20:MaxDepth=2"));

   factory->TrainAllMethods();
   factory->TestAllMethods();
   factory->EvaluateAllMethods();

   auto canvas = factory->GetROCCurve(loader);
   canvas->Draw();
   canvas->SaveAs("TMVA_LSTM_ROC.png");
   Info("TMVA_LSTM_Classification", "PyLSTM ROC integral: %.4f", factory->GetROCIntegral(loader, "PyLSTM"));
   output->Close();
   delete factory;
   delete loader;
   return 0;
#endif
}
