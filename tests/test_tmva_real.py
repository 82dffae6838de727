"""PyLSTM in a ROOT that has TMVA: Factory training, testing, evaluation, then TMVA::Reader.

These tests need libTMVA. The PyPI ``ROOT`` wheel has none, so here they are skipped; run them
with e.g. conda-forge's ``root``. The same flows are exercised against a C++ stand-in in
test_tmva_binding.py; these tests are what checks the binding against TMVA itself.
"""

from __future__ import annotations

from array import array
from pathlib import Path

import numpy as np
import pytest

ROOT = pytest.importorskip("ROOT", reason="needs PyROOT")

from tmva_lstm.tmva import is_tmva_available, register  # noqa: E402

pytestmark = pytest.mark.skipif(
    not is_tmva_available(),
    reason="this ROOT has no TMVA (the PyPI 'ROOT' wheel ships none); "
    "run with a ROOT that has TMVA, e.g. `conda install -c conda-forge root`",
)

T, F = 3, 2
NVAR = T * F
# 20 epochs at LearningRate=1e-2: the standalone engine reaches a ROC integral of 0.915-0.926 on
# such a sample (seeds 1-4; 0.917 is the best possible), 3 epochs at the default 1e-3 stay
# below 0.5 (issue 10): 0.85 below is a floor that only a trained model passes.
OPTIONS = (
    "!H:!V:Silent:InputLayout=3|2:Layout=LSTM|4,LINEAR:MaxEpochs=20:BatchSize=20:"
    "LearningRate=1e-2:RandomSeed=1"
)


def _types():
    types = ROOT.TMVA.Types
    return types.Instance() if hasattr(types, "Instance") else types


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """Signal and background trees of T*F float variables x0..x5 (signal shifted by +0.8)."""
    rng = np.random.default_rng(11)
    path = tmp_path_factory.mktemp("sample") / "sample.root"
    for name, shift in (("sgn", 0.8), ("bkg", 0.0)):
        columns = {f"x{j}": (rng.normal(size=400) + shift).astype(np.float32) for j in range(NVAR)}
        options = ROOT.RDF.RSnapshotOptions()
        options.fMode = "UPDATE" if name == "bkg" else "RECREATE"
        ROOT.RDF.FromNumpy(columns).Snapshot(name, str(path), "", options)
    return path


def test_register_maps_pylstm_in_tmva():
    reg = register()
    assert register() is reg
    expected_base = "PyMethodBase" if hasattr(ROOT.TMVA, "PyMethodBase") else "MethodBase"
    assert reg.base == expected_base
    assert "PyLSTM" in [str(n) for n in ROOT.TMVA.ClassifierFactory.Instance().List()]
    assert str(_types().GetMethodName(ROOT.TMVA.Types.EMVA(reg.method_type))) == "PyLSTM"


def test_factory_then_reader(sample, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    register()
    source = ROOT.TFile.Open(str(sample))
    output = ROOT.TFile.Open("TMVA_PyLSTM.root", "RECREATE")
    factory = ROOT.TMVA.Factory(
        "TMVAClassification",
        output,
        "!V:Silent:Color=False:DrawProgressBar=False:AnalysisType=Classification",
    )
    loader = ROOT.TMVA.DataLoader("dataset")
    for j in range(NVAR):
        loader.AddVariable(f"x{j}", "F")
    loader.AddSignalTree(source.Get("sgn"), 1.0)
    loader.AddBackgroundTree(source.Get("bkg"), 1.0)
    loader.PrepareTrainingAndTestTree(
        ROOT.TCut(""),
        "nTrain_Signal=250:nTrain_Background=250:SplitMode=Block:NormMode=NumEvents:!V",
    )
    method = factory.BookMethod(loader, "PyLSTM", "LSTM", OPTIONS)
    assert method and str(method.GetMethodTypeName()) == "PyLSTM"
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    assert factory.GetROCIntegral(loader, "LSTM") > 0.85  # SplitMode=Block: class-ordered events
    output.Close()

    weight_file = Path("dataset/weights/TMVAClassification_LSTM.weights.xml")
    assert weight_file.is_file()
    text = weight_file.read_text()
    assert 'Method="PyLSTM::LSTM"' in text and "<Weights" in text

    test_tree = ROOT.RDataFrame("dataset/TestTree", "TMVA_PyLSTM.root").AsNumpy(
        [f"x{j}" for j in range(NVAR)] + ["LSTM"]
    )
    reader = ROOT.TMVA.Reader("!Color:Silent")
    buffers = [array("f", [0.0]) for _ in range(NVAR)]
    for j, buffer in enumerate(buffers):
        reader.AddVariable(f"x{j}", buffer)
    reader.BookMVA("LSTM", str(weight_file))
    for i in range(0, len(test_tree["LSTM"]), 37):
        for j, buffer in enumerate(buffers):
            buffer[0] = float(test_tree[f"x{j}"][i])
        assert reader.EvaluateMVA("LSTM") == pytest.approx(float(test_tree["LSTM"][i]), rel=1e-5)


def test_booking_from_cpp(sample, tmp_path, monkeypatch):
    """A C++ caller (as in a macro) books PyLSTM by name once register() has run."""
    monkeypatch.chdir(tmp_path)
    register()
    ROOT.gInterpreter.Declare(
        """
        #include "TMVA/Factory.h"
        #include "TMVA/DataLoader.h"
        TMVA::MethodBase *tmva_lstm_book_from_cpp(TMVA::Factory &f, TMVA::DataLoader &l, const char *opt)
        { return f.BookMethod(&l, "PyLSTM", "FromCpp", opt); }
        """
    )
    output = ROOT.TFile.Open("cpp.root", "RECREATE")
    factory = ROOT.TMVA.Factory("Cpp", output, "!V:Silent:Color=False:AnalysisType=Classification")
    loader = ROOT.TMVA.DataLoader("dataset")
    source = ROOT.TFile.Open(str(sample))
    for j in range(NVAR):
        loader.AddVariable(f"x{j}", "F")
    loader.AddSignalTree(source.Get("sgn"), 1.0)
    loader.AddBackgroundTree(source.Get("bkg"), 1.0)
    loader.PrepareTrainingAndTestTree(ROOT.TCut(""), "SplitMode=Block:NormMode=NumEvents:!V")
    method = ROOT.tmva_lstm_book_from_cpp(factory, loader, OPTIONS)
    assert method and str(method.GetMethodTypeName()) == "PyLSTM"
