"""PyLSTM in a ROOT that has TMVA: Factory training, testing, evaluation, then TMVA::Reader.

Each test runs twice: against ``TMVA`` (skipped, with the reason, where ROOT has no TMVA: the
PyPI ``ROOT`` wheel has none; run them with e.g. conda-forge's ``root``) and against the
cling-compiled stand-in (``tests/standin/``), which carries TMVA's signatures and its
DataLoader split and mix rules. The stand-in runs check these tests' own code and our side of
the binding; only the ``TMVA`` runs check the binding against TMVA itself.
"""

from __future__ import annotations

from array import array
from pathlib import Path

import numpy as np
import pytest

ROOT = pytest.importorskip("ROOT", reason="needs PyROOT")

from standin.declare import declare_standin  # noqa: E402

from tmva_lstm.tmva import default_base, is_tmva_available, register  # noqa: E402

NO_TMVA = (
    "this ROOT has no TMVA (the PyPI 'ROOT' wheel ships none); "
    "run with a ROOT that has TMVA, e.g. `conda install -c conda-forge root`"
)


@pytest.fixture(scope="module", params=["TMVA", "stand-in"])
def tmva(request):
    """The C++ namespace the tests run against: real TMVA, or the stand-in."""
    if request.param == "TMVA":
        if not is_tmva_available():
            pytest.skip(NO_TMVA)
        return ROOT.TMVA
    return declare_standin().tmva_standin


def _name(tmva) -> str:
    return tmva.__cpp_name__


T, F = 3, 2
NVAR = T * F
# 20 epochs at LearningRate=1e-2: the standalone engine reaches a ROC integral of 0.915-0.926 on
# such a sample (seeds 1-4; 0.917 is the best possible), 3 epochs at the default 1e-3 stay
# below 0.5 (issue 10): 0.85 below is a floor that only a trained model passes.
OPTIONS = (
    "!H:!V:Silent:InputLayout=3|2:Layout=LSTM|4,LINEAR:MaxEpochs=20:BatchSize=20:"
    "LearningRate=1e-2:RandomSeed=1"
)


def _types(tmva):
    types = tmva.Types
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


def test_register_maps_pylstm_in_tmva(tmva):
    reg = register(_name(tmva))
    assert register(_name(tmva)) is reg
    # PyMethodBase where PyMVA is built, up to ROOT 6.40; MethodBase from 6.42 (PyMVA warns).
    # (The stand-in may have been registered with an explicit base by the binding tests.)
    assert reg.base == default_base(ROOT, tmva) or _name(tmva) != "TMVA"
    assert default_base(ROOT, tmva) == (
        "PyMethodBase"
        if hasattr(tmva, "PyMethodBase") and ROOT.gROOT.GetVersionInt() < 64200
        else "MethodBase"
    )
    assert "PyLSTM" in [str(n) for n in tmva.ClassifierFactory.Instance().List()]
    assert str(_types(tmva).GetMethodName(tmva.Types.EMVA(reg.method_type))) == "PyLSTM"


def test_factory_then_reader(tmva, sample, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    register(_name(tmva))
    source = ROOT.TFile.Open(str(sample))
    output = ROOT.TFile.Open("TMVA_PyLSTM.root", "RECREATE")
    factory = tmva.Factory(
        "TMVAClassification",
        output,
        "!V:Silent:Color=False:DrawProgressBar=False:AnalysisType=Classification",
    )
    loader = tmva.DataLoader("dataset")
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
    reader = tmva.Reader("!Color:Silent")
    buffers = [array("f", [0.0]) for _ in range(NVAR)]
    for j, buffer in enumerate(buffers):
        reader.AddVariable(f"x{j}", buffer)
    reader.BookMVA("LSTM", str(weight_file))
    for i in range(0, len(test_tree["LSTM"]), 37):
        for j, buffer in enumerate(buffers):
            buffer[0] = float(test_tree[f"x{j}"][i])
        assert reader.EvaluateMVA("LSTM") == pytest.approx(float(test_tree["LSTM"][i]), rel=1e-5)


def test_booking_from_cpp(tmva, sample, tmp_path, monkeypatch):
    """A C++ caller (as in a macro) books PyLSTM by name once register() has run."""
    monkeypatch.chdir(tmp_path)
    ns = _name(tmva)
    register(ns)
    includes = '#include "TMVA/Factory.h"\n#include "TMVA/DataLoader.h"\n' if ns == "TMVA" else ""
    ROOT.gInterpreter.Declare(
        includes
        + f"{ns}::MethodBase *tmva_lstm_book_from_cpp_{ns}({ns}::Factory &f, {ns}::DataLoader &l, "
        'const char *opt) { return f.BookMethod(&l, "PyLSTM", "FromCpp", opt); }'
    )
    output = ROOT.TFile.Open("cpp.root", "RECREATE")
    factory = tmva.Factory("Cpp", output, "!V:Silent:Color=False:AnalysisType=Classification")
    loader = tmva.DataLoader("dataset")
    source = ROOT.TFile.Open(str(sample))
    for j in range(NVAR):
        loader.AddVariable(f"x{j}", "F")
    loader.AddSignalTree(source.Get("sgn"), 1.0)
    loader.AddBackgroundTree(source.Get("bkg"), 1.0)
    loader.PrepareTrainingAndTestTree(ROOT.TCut(""), "SplitMode=Block:NormMode=NumEvents:!V")
    method = getattr(ROOT, f"tmva_lstm_book_from_cpp_{ns}")(factory, loader, OPTIONS)
    assert method and str(method.GetMethodTypeName()) == "PyLSTM"
