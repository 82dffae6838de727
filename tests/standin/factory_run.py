"""The tutorial's TMVA flow through the stand-in, in a fresh process (used by the tests).

    python factory_run.py WORKDIR SPLIT OPTIONS [--record]

In WORKDIR: DataLoader with ``AddVariablesArray("vars_time<t>", 30)`` for t = 0..9, the
shipped sample's sgn and bkg trees, ``nTrain_Signal=1600:nTrain_Background=1600:
SplitMode=SPLIT:NormMode=NumEvents``; Factory (output ``out.root``: TestTree, TrainTree) books
PyLSTM with OPTIONS, trains, tests, evaluates. Then a Reader declares the weight file's
variables as the tutorial does (``AddVariable("vars_time<t>", &v[k])`` per element) and scores
ten test events, and a second Reader declares them as ``"vars_time<t>[k]"``. Writes
``result.json`` (the Reader's scores and TestTree's, the second Reader's error) and, with
``--record``, ``received.npz``: the inputs, labels and variable names Train received.

A separate process keeps these large C++ objects apart from the other tests' in-process state.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parent.parent / "data" / "time_data_t10_d30.root"


def main(argv: list[str]) -> int:
    work, split, options = Path(argv[0]), argv[1], argv[2]
    record = "--record" in argv
    sys.path.insert(0, str(HERE.parent))
    from standin.declare import WITH_PLUGINS, declare_standin

    from tmva_lstm.tmva import method as method_module
    from tmva_lstm.tmva import register

    ROOT = declare_standin()
    ns = getattr(ROOT, WITH_PLUGINS)
    register(WITH_PLUGINS)
    if record:
        engine = method_module._engine

        def recording_engine():
            method_options, train, model = engine()

            def recording_train(X, y, weights, opts, **kwargs):
                names = kwargs.get("variable_names")
                np.savez(work / "received.npz", X=X, y=y, names=np.array(names))
                return train(X, y, weights, opts, **kwargs)

            return method_options, recording_train, model

        method_module._engine = recording_engine

    source = ROOT.TFile.Open(str(SAMPLE))
    output = ROOT.TFile.Open(str(work / "out.root"), "RECREATE")
    factory = ns.Factory(ROOT.TString("TMVAClassification"), output, ROOT.TString("!V"))
    loader = ns.DataLoader(ROOT.TString("dataset"))
    for t in range(10):
        loader.AddVariablesArray(ROOT.TString(f"vars_time{t}"), 30)
    loader.AddSignalTree(source.Get("sgn"), 1.0)
    loader.AddBackgroundTree(source.Get("bkg"), 1.0)
    loader.PrepareTrainingAndTestTree(
        ROOT.TCut(""),
        ROOT.TString(
            f"nTrain_Signal=1600:nTrain_Background=1600:SplitMode={split}:NormMode=NumEvents:!V"
        ),
    )
    factory.BookMethod(loader, ROOT.TString("PyLSTM"), ROOT.TString("LSTM"), ROOT.TString(options))
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    test_scores = list(factory.StandinTestScores(ROOT.TString("LSTM")))
    events = loader.GetDataSetInfo().GetDataSet().GetEventCollection(ns.Types.kTesting)
    output.Close()

    weights = str(work / "dataset/weights/TMVAClassification_LSTM.weights.xml")
    values = np.zeros(300, dtype=np.float32)
    reader = ns.Reader(ROOT.TString("!Color:Silent"))
    for t in range(10):
        for k in range(30):
            reader.AddVariable(ROOT.TString(f"vars_time{t}"), values[30 * t + k :])
    reader.BookMVA(ROOT.TString("LSTM"), ROOT.TString(weights))
    reader_scores, tree_scores = [], []
    for i in range(0, len(test_scores), 80):
        values[:] = np.array(list(events[i].GetValues()), dtype=np.float32)
        reader_scores.append(float(reader.EvaluateMVA(ROOT.TString("LSTM"))))
        tree_scores.append(test_scores[i])
    wrong = ns.Reader(ROOT.TString("!Color:Silent"))
    for t in range(10):
        for k in range(30):
            wrong.AddVariable(ROOT.TString(f"vars_time{t}[{k}]"), values[30 * t + k :])
    try:
        wrong.BookMVA(ROOT.TString("LSTM"), ROOT.TString(weights))
        refusal = ""
    except Exception as err:  # the stand-in's kFATAL, a C++ exception
        refusal = str(err)
    result = {"reader": reader_scores, "test_tree": tree_scores, "refusal": refusal}
    (work / "result.json").write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
