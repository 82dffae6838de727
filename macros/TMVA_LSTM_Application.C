/// \file
/// Apply a trained PyLSTM weight file to an ntuple with TMVA::Reader.
///
///     tmva-lstm root 'macros/TMVA_LSTM_Application.C("data/time_data_t10_d30.root", "sgn", \
///                     "dataset/weights/TMVAClassification_PyLSTM.weights.xml")'
///
/// The weight file is the one TMVA_LSTM_Classification.C (or .py) wrote. The Reader needs PyLSTM
/// registered before BookMVA, like the Factory: `tmva-lstm root` does it in its own process (any
/// ROOT with TMVA); with `root -l -b -q`, the macro does it through TPython where ROOT has it.
/// Writes TMVA_LSTM_Application.root with a tree holding the score of every event; returns 0 on
/// success (the exit status).

#include <vector>

#include "TString.h"

#if __has_include("TMVA/Reader.h")
#include "TFile.h"
#include "TStopwatch.h"
#include "TTree.h"
#include "TMVA/Reader.h"
#include "TMVA/Tools.h"
#define TMVA_LSTM_HAVE_TMVA 1
#endif
#if !defined(TMVA_LSTM_LAUNCHER) && __has_include("TPython.h")
#include "TPython.h"
#define TMVA_LSTM_HAVE_TPYTHON 1
#endif

int TMVA_LSTM_Application(const char *dataFile = "data/time_data_t10_d30.root", const char *treeName = "sgn",
                          const char *weightFile = "dataset/weights/TMVAClassification_PyLSTM.weights.xml")
{
#if !defined(TMVA_LSTM_LAUNCHER) && !defined(TMVA_LSTM_HAVE_TPYTHON)
   Error("TMVA_LSTM_Application",
         "this ROOT has no TPython to register PyLSTM; run the macro with: tmva-lstm root "
         "'macros/TMVA_LSTM_Application.C(\"%s\", \"%s\", \"%s\")'",
         dataFile, treeName, weightFile);
   return 2;
#elif !defined(TMVA_LSTM_HAVE_TMVA)
   Error("TMVA_LSTM_Application", "this ROOT has no TMVA; install one that has, e.g. `conda install -c conda-forge root`");
   return 2;
#else
   const int ntime = 10, ndim = 30;

   TMVA::Tools::Instance();
#ifndef TMVA_LSTM_LAUNCHER
   if (!TPython::Exec("import tmva_lstm.tmva as t; t.pin_blas_threads(); t.register()")) {
      Error("TMVA_LSTM_Application", "could not register PyLSTM: is tmva_lstm installed for ROOT's Python?");
      return 2;
   }
#endif

   // One Reader variable per array element, in the weight file's order: vars_time0 (30 times),
   // vars_time1, ... AddVariablesArray gives every element the expression of its array branch
   // (and the internal name vars_time0[k]); the Reader matches the expression.
   std::vector<float> values(ntime * ndim);
   TMVA::Reader reader("!Color:!Silent");
   for (int t = 0; t < ntime; ++t)
      for (int k = 0; k < ndim; ++k)
         reader.AddVariable(Form("vars_time%d", t), &values[t * ndim + k]);
   if (!reader.BookMVA(TString("PyLSTM"), TString(weightFile))) {
      Error("TMVA_LSTM_Application", "could not book PyLSTM from %s", weightFile);
      return 2;
   }

   auto input = TFile::Open(dataFile);
   if (!input || input->IsZombie()) {
      Error("TMVA_LSTM_Application", "cannot open %s", dataFile);
      return 2;
   }
   auto tree = input->Get<TTree>(treeName);
   if (!tree) {
      Error("TMVA_LSTM_Application", "no tree %s in %s", treeName, dataFile);
      return 2;
   }
   // The sample's branches are float[30] arrays (std::vector<float> in the tutorial's own file:
   // then bind std::vector<float>* instead).
   std::vector<std::vector<float>> steps(ntime, std::vector<float>(ndim));
   for (int t = 0; t < ntime; ++t)
      tree->SetBranchAddress(Form("vars_time%d", t), steps[t].data());

   auto output = TFile::Open("TMVA_LSTM_Application.root", "RECREATE");
   TTree scores("PyLSTM_scores", "PyLSTM scores");
   float score = 0;
   scores.Branch("PyLSTM", &score, "PyLSTM/F");

   TStopwatch watch;
   for (Long64_t i = 0; i < tree->GetEntries(); ++i) {
      tree->GetEntry(i);
      for (int t = 0; t < ntime; ++t)
         for (int k = 0; k < ndim; ++k)
            values[t * ndim + k] = steps[t][k];
      score = reader.EvaluateMVA("PyLSTM");
      scores.Fill();
   }
   watch.Stop();
   Info("TMVA_LSTM_Application", "scored %lld events in %.1f s", tree->GetEntries(), watch.RealTime());
   output->cd();
   scores.Write();
   output->Close();
   return 0;
#endif
}
