/// \file
/// Apply a trained PyLSTM weight file to an ntuple with TMVA::Reader.
///
///     root -l -b -q 'macros/TMVA_LSTM_Application.C("data/time_data_t10_d30.root", "sgn", \
///                    "dataset/weights/TMVAClassification_PyLSTM.weights.xml")'
///
/// The weight file is the one TMVA_LSTM_Classification.C (or .py) wrote. The Reader needs the
/// method registered (through TPython) before BookMVA, like the Factory. Writes
/// TMVA_LSTM_Application.root with a tree holding the score of every event.

#include <vector>

#include "TFile.h"
#include "TPython.h"
#include "TStopwatch.h"
#include "TTree.h"
#include "TMVA/Reader.h"
#include "TMVA/Tools.h"

void TMVA_LSTM_Application(const char *dataFile = "data/time_data_t10_d30.root", const char *treeName = "sgn",
                           const char *weightFile = "dataset/weights/TMVAClassification_PyLSTM.weights.xml")
{
   const int ntime = 10, ndim = 30;

   TMVA::Tools::Instance();
   if (!TPython::Exec("import tmva_lstm.tmva as t; t.pin_blas_threads(); t.register()")) {
      Error("TMVA_LSTM_Application", "could not register PyLSTM: is tmva_lstm installed for ROOT's Python?");
      return;
   }

   // One Reader variable per array element, in the weight file's order: vars_time0[0..29], vars_time1[0..29], ...
   // (AddVariablesArray gives every element the expression of its array branch.)
   std::vector<float> values(ntime * ndim);
   TMVA::Reader reader("!Color:!Silent");
   for (int t = 0; t < ntime; ++t)
      for (int k = 0; k < ndim; ++k)
         reader.AddVariable(Form("vars_time%d", t), &values[t * ndim + k]);
   reader.BookMVA("PyLSTM", weightFile);

   auto input = TFile::Open(dataFile);
   if (!input || input->IsZombie()) {
      Error("TMVA_LSTM_Application", "cannot open %s", dataFile);
      return;
   }
   auto tree = input->Get<TTree>(treeName);
   if (!tree) {
      Error("TMVA_LSTM_Application", "no tree %s in %s", treeName, dataFile);
      return;
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
}
