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

from tmva_lstm._cling import declare  # noqa: E402
from tmva_lstm.tmva import default_base, is_tmva_available, register  # noqa: E402

# Each test in a forked child of the test process, as tests/test_tmva_binding.py explains.
pytestmark = pytest.mark.forked

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
    declare(
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


# ---------------------------------------------------------------- Multiclass and Regression
# The samples of tests/sequences.py: 3 classes of sequences that differ only in their time
# structure, and 2 regression targets that are known functions of the sequence (T=10, F=2,
# declared as one array variable x[20]). The quality floors here are sanity floors for the
# TMVA path (the quality against PyTorch is tests/test_types.py's); the exact checks are that
# the TestTree, the model file and TMVA::Reader give the same outputs.
SEQ_OPTIONS = (
    "!H:!V:InputLayout=10|2:WeightInitialization=XAVIERUNIFORM:"
    "Layout=LSTM|8,DENSE|32|TANH,LINEAR:MaxEpochs=20:BatchSize=32:LearningRate=3e-3:RandomSeed=1"
)


@pytest.fixture(scope="module")
def sequences_file(tmp_path_factory):
    """TTrees ``smooth``, ``alternating``, ``white`` (x[20]) and ``reg`` (x[20], targets)."""
    import uproot
    from sequences import CLASS_NAMES, TARGET_NAMES, regression_sample, three_class_sample

    X, y = three_class_sample(400, 0)
    Xr, targets = regression_sample(1200, 0)
    path = tmp_path_factory.mktemp("sequences") / "sequences.root"
    with uproot.recreate(path) as f:  # mktree: TTrees, which TMVA reads (not RNTuples)
        for k, name in enumerate(CLASS_NAMES):
            f.mktree(name, {"x": ("f4", (20,))}).extend({"x": X[y == k].reshape(-1, 20)})
        columns = {"x": Xr.reshape(-1, 20)}
        columns.update({n: targets[:, j].astype(np.float32) for j, n in enumerate(TARGET_NAMES)})
        f.mktree("reg", {n: (v.dtype, v.shape[1:]) for n, v in columns.items()}).extend(columns)
    return path


def _sequence_job(tmva, path, kind: str):
    """Factory flow for ``kind``; returns the weight file and TestTree's arrays."""
    import uproot
    from sequences import CLASS_NAMES, TARGET_NAMES

    register(_name(tmva))
    source = ROOT.TFile.Open(str(path))
    output = ROOT.TFile.Open("TMVA_PyLSTM.root", "RECREATE")
    factory = tmva.Factory(
        "job", output, f"!V:Silent:Color=False:DrawProgressBar=False:AnalysisType={kind}"
    )
    loader = tmva.DataLoader("dataset")
    loader.AddVariablesArray("x", 20)
    if kind == "Multiclass":
        for name in CLASS_NAMES:
            loader.AddTree(source.Get(name), name)
        split = ":".join(f"nTrain_{name}=300" for name in CLASS_NAMES)
    else:
        for name in TARGET_NAMES:
            loader.AddTarget(name)
        loader.AddRegressionTree(source.Get("reg"), 1.0)
        split = "nTrain_Regression=900"
    loader.PrepareTrainingAndTestTree(
        ROOT.TCut(""), f"{split}:SplitMode=Random:NormMode=NumEvents:!V"
    )
    method = factory.BookMethod(loader, "PyLSTM", "LSTM", SEQ_OPTIONS)
    assert method and str(method.GetMethodTypeName()) == "PyLSTM"
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    output.Close()
    with uproot.open("TMVA_PyLSTM.root") as f:
        tree = f["dataset/TestTree"]
        arrays = {k: tree[k].array(library="np") for k in tree.keys()}
    return Path("dataset/weights/job_LSTM.weights.xml"), arrays


def _reader(tmva, weight_file: Path):
    reader = tmva.Reader("!Color:Silent")
    values = np.zeros(20, dtype=np.float32)
    for k in range(20):
        reader.AddVariable("x", values[k:])
    reader.BookMVA("LSTM", str(weight_file))
    return reader, values


def test_multiclass_factory_then_reader(tmva, sequences_file, tmp_path, monkeypatch):
    """AnalysisType=Multiclass: TestTree's one leaf per class (TMVA's class names) holds the
    model's class probabilities; TMVA::Reader::EvaluateMulticlass gives the same numbers."""
    from sequences import CLASS_NAMES

    import tmva_lstm as tl

    monkeypatch.chdir(tmp_path)
    weight_file, test = _sequence_job(tmva, sequences_file, "Multiclass")
    assert '<Info name="AnalysisType" value="Multiclass"' in weight_file.read_text()
    scores = np.stack([test["LSTM"][name] for name in CLASS_NAMES], axis=1)
    assert scores.shape == (300, 3)
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, rtol=1e-5)
    model = tl.load_model(weight_file)
    assert model.analysis_type == "MULTICLASS" and model.class_names == CLASS_NAMES
    np.testing.assert_allclose(model.predict(test["x"].reshape(-1, 10, 2)), scores, atol=1e-6)
    accuracy = (scores.argmax(axis=1) == test["classID"]).mean()
    assert accuracy > 0.6, f"accuracy {accuracy:.3f} (chance 0.33, Bayes-optimal about 0.70)"

    reader, values = _reader(tmva, weight_file)
    for i in range(0, 300, 29):
        values[:] = test["x"][i]
        np.testing.assert_allclose(list(reader.EvaluateMulticlass("LSTM")), scores[i], atol=1e-6)
        assert reader.EvaluateMulticlass(2, "LSTM") == pytest.approx(scores[i, 2], abs=1e-6)


def test_regression_factory_then_reader(tmva, sequences_file, tmp_path, monkeypatch):
    """AnalysisType=Regression with two targets: TestTree's one leaf per target holds the
    model's values; TMVA::Reader::EvaluateRegression gives the same numbers."""
    from sequences import TARGET_NAMES

    import tmva_lstm as tl

    monkeypatch.chdir(tmp_path)
    weight_file, test = _sequence_job(tmva, sequences_file, "Regression")
    assert '<Info name="AnalysisType" value="Regression"' in weight_file.read_text()
    values_out = np.stack([test["LSTM"][name] for name in TARGET_NAMES], axis=1)
    truth = np.stack([test[name] for name in TARGET_NAMES], axis=1)
    model = tl.load_model(weight_file)
    assert model.analysis_type == "REGRESSION" and model.target_names == TARGET_NAMES
    np.testing.assert_allclose(
        model.predict(test["x"].reshape(-1, 10, 2)), values_out, rtol=1e-5, atol=1e-5
    )
    # Without TMVA's VarTransform=N the targets (10 mean + 5, 10 x + 5) are not normalised;
    # a constant prediction gives 1.0 here, a trained model about 0.4 after 20 epochs.
    spread = np.sqrt(((values_out - truth) ** 2).mean(axis=0)) / truth.std(axis=0)
    assert (spread < 0.6).all(), f"RMS / std {spread}"

    reader, values = _reader(tmva, weight_file)
    for i in range(0, 300, 29):
        values[:] = test["x"][i]
        np.testing.assert_allclose(
            list(reader.EvaluateRegression("LSTM")), values_out[i], rtol=1e-5, atol=1e-5
        )
        assert reader.EvaluateRegression(1, "LSTM") == pytest.approx(values_out[i, 1], abs=1e-4)
