#!/usr/bin/env python
"""PyLSTM beside TMVA's own LSTM and a BDT, in the flow of ROOT's TMVA_RNN_Classification tutorial.

    python macros/TMVA_LSTM_Classification.py [--data data/time_data_t10_d30.root] [--epochs 20]
        [--no-tmva-dl] [--no-bdt] [--output TMVA_LSTM_Classification.root]

Needs a ROOT with TMVA (conda-forge: `conda env create -f environment.yml`). Writes the
TMVA output file (open it with TMVA::TMVAGui), dataset/weights/*.weights.xml and
TMVA_LSTM_ROC.png.
"""

from __future__ import annotations

import argparse
import warnings

NTIME, NDIM = 10, 30  # 10 time steps of 30 features: the tutorial's toy data

PYLSTM_OPTIONS = (
    "!H:!V:ErrorStrategy=CROSSENTROPY:WeightInitialization=XAVIERUNIFORM:ValidationSize=0.2:"
    "RandomSeed=1234:InputLayout=10|30:Layout=LSTM|10|30|10|0|1,RESHAPE|FLAT,DENSE|64|TANH,LINEAR:"
    "TrainingStrategy=LearningRate=1e-3,Momentum=0.0,ConvergenceSteps=5,BatchSize=100,"
    "TestRepetitions=1,WeightDecay=1e-2,Regularization=None,MaxEpochs={epochs},Optimizer=ADAM"
)
TMVA_DL_OPTIONS = (
    "!H:V:ErrorStrategy=CROSSENTROPY:VarTransform=None:WeightInitialization=XAVIERUNIFORM:"
    "ValidationSize=0.2:RandomSeed=1234:InputLayout=10|30:"
    "Layout=LSTM|10|30|10|0|1,RESHAPE|FLAT,DENSE|64|TANH,LINEAR:"
    "TrainingStrategy=LearningRate=1e-3,Momentum=0.0,Repetitions=1,ConvergenceSteps=5,BatchSize=100,"
    "TestRepetitions=1,WeightDecay=1e-2,Regularization=None,MaxEpochs={epochs},Optimizer=ADAM:"
    "Architecture=CPU"
)
BDT_OPTIONS = (
    "!H:!V:NTrees=100:MinNodeSize=2.5%:BoostType=Grad:Shrinkage=0.10:UseBaggedBoost:"
    "BaggedSampleFraction=0.5:nCuts=20:MaxDepth=2"
)


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="data/time_data_t10_d30.root")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--output", default="TMVA_LSTM_Classification.root")
    parser.add_argument("--no-tmva-dl", action="store_true", help="skip TMVA's own LSTM (kDL)")
    parser.add_argument("--no-bdt", action="store_true", help="skip the BDT")
    args = parser.parse_args(argv)

    # Pin BLAS threads before NumPy loads (NumPy's and ROOT's BLAS in one process, see README).
    from tmva_lstm.tmva import pin_blas_threads, register

    pin_blas_threads()
    warnings.filterwarnings("ignore", message=r"\s*This distribution of ROOT is in alpha stage")
    import ROOT

    ROOT.TMVA.Tools.Instance()
    register()  # makes "PyLSTM" bookable in this process

    data = ROOT.TFile.Open(args.data)
    if not data or data.IsZombie():
        raise SystemExit(f"cannot open {args.data}; make it with: python data/make_sample.py")
    output = ROOT.TFile.Open(args.output, "RECREATE")
    factory = ROOT.TMVA.Factory(
        "TMVAClassification",
        output,
        "!V:!Silent:Color:DrawProgressBar:Transformations=None:!Correlations:"
        "AnalysisType=Classification:ModelPersistence",
    )
    loader = ROOT.TMVA.DataLoader("dataset")
    for t in range(NTIME):
        loader.AddVariablesArray(f"vars_time{t}", NDIM)
    loader.AddSignalTree(data.Get("sgn"), 1.0)
    loader.AddBackgroundTree(data.Get("bkg"), 1.0)
    loader.PrepareTrainingAndTestTree(
        ROOT.TCut(""),
        "nTrain_Signal=1600:nTrain_Background=1600:SplitMode=Random:SplitSeed=100:"
        "NormMode=NumEvents:!V:!CalcCorrelations",
    )

    # Every method booked by name, with TString arguments: with plain str, ROOT 6.40's cppyy can
    # pick the TString overload through TString(char) (a crash in ClassifierFactory::Create), and
    # reports an error raised while booking as "could not convert argument 2".
    def book(method: str, title: str, options: str) -> None:
        factory.BookMethod(loader, ROOT.TString(method), ROOT.TString(title), ROOT.TString(options))

    book("PyLSTM", "PyLSTM", PYLSTM_OPTIONS.format(epochs=args.epochs))
    if not args.no_tmva_dl:
        book("DL", "TMVA_LSTM", TMVA_DL_OPTIONS.format(epochs=args.epochs))
    if not args.no_bdt:
        book("BDT", "BDTG", BDT_OPTIONS)

    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    roc = factory.GetROCIntegral(loader, ROOT.TString("PyLSTM"))
    canvas = factory.GetROCCurve(loader)
    canvas.Draw()
    canvas.SaveAs("TMVA_LSTM_ROC.png")
    output.Close()
    print(f"PyLSTM ROC integral: {roc:.4f}")
    return roc


if __name__ == "__main__":
    main()
