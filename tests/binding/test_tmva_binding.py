"""The PyLSTM TMVA binding, driven through a C++ STAND-IN for TMVA (tests/standin/tmva_standin.h).

The ROOT wheel of the test environment has no libTMVA. The stand-in carries TMVA's exact
signatures for what the method touches and re-implements the flows that drive it (Factory,
Reader, ClassifierFactory, Configurable's option parsing, TXMLEngine weight files). These tests
check OUR binding through it; they say nothing about TMVA itself (see test_tmva_real.py).

Two independent stand-in copies are declared: ``tmva_standin`` (TMVA's "Plugins" method is
registered, as in a real libTMVA; the method derives from PyMethodBase) and
``tmva_standin_noplugins`` (kPlugins is free; the method derives from MethodBase).

Most tests replace the engine (``MethodOptions`` stays real, ``train`` and ``Model`` are a
fake linear model) so that they check the binding with exact numbers; one test trains the
real engine end to end.

Each test runs in a forked child of the process that declared the stand-in (``forked``
marker, tests/conftest.py). Run one after another in one process, these tests corrupted the
heap about one run in three (CI: a segfault in a later test; PYTHONMALLOC=debug: a byte of a
freed or neighbouring block changed), and a Reader booked after a Factory flow in the same
process was enough to trigger it, at rates that change with unrelated declarations (0/5 to
5/6). Each test alone ran clean under PYTHONMALLOC=debug. The cause (in cppyy, the stand-in or our shim) is
not found; the project's closing notes record the search. The process the tests are forked
from runs a Factory once (no Reader) to compile what the tests share.
"""

from __future__ import annotations

import gc
import os
import warnings
import weakref
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

ROOT = pytest.importorskip("ROOT", reason="the TMVA binding needs PyROOT (pip install ROOT)")

from standin.declare import NO_PLUGINS, WITH_PLUGINS, declare_standin  # noqa: E402

from tmva_lstm._cling import declare  # noqa: E402
from tmva_lstm.errors import DependencyError, OptionError  # noqa: E402
from tmva_lstm.options import MethodOptions  # noqa: E402
from tmva_lstm.tmva import method as method_module  # noqa: E402

T, F = 3, 2
NVAR = T * F

# The tests' C++ driver: everything from C++, against our class, through the stand-in's types.
_DRIVER = r"""
namespace {ns} {{
struct DriverResult {{
   std::vector<Double_t> batchTrained, singleTrained, errLower, errUpper, batchReloaded, partial;
   std::string typeName, weightFile;
   Bool_t rankingIsNull = kFALSE;
   Bool_t twoClass = kFALSE, threeClass = kTRUE, regression = kFALSE, noTargets = kTRUE, multiclass = kFALSE;
}};
struct StandinDriver {{
   // Create through ClassifierFactory, set up as Factory::BookMethod does, train, score batched
   // and per event, write the weight file, delete, re-create from the weight file, score again.
   static DriverResult Run(DataLoader &loader, const TString &job, const TString &title, const TString &options)
   {{
      DriverResult r;
      DataSetInfo &dsi = loader.GetDataSetInfo();
      IMethod *im = ClassifierFactory::Instance().Create("PyLSTM", job, title, dsi, options);
      MethodBase *m = dynamic_cast<MethodBase *>(im);
      if (!m)
         throw std::runtime_error("ClassifierFactory::Create did not give a MethodBase");
      r.twoClass = im->HasAnalysisType(Types::kClassification, 2, 0);
      r.threeClass = im->HasAnalysisType(Types::kClassification, 3, 0);
      r.regression = im->HasAnalysisType(Types::kRegression, 0, 1);
      r.noTargets = im->HasAnalysisType(Types::kRegression, 0, 0);
      r.multiclass = im->HasAnalysisType(Types::kMulticlass, 3, 0);
      m->SetWeightFileDir(TString(loader.GetName()) + "/weights");
      m->SetAnalysisType(Types::kClassification);
      m->SetupMethod();
      m->ParseOptions();
      m->ProcessSetup();
      m->CheckSetup();
      m->Data()->SetCurrentType(Types::kTraining);
      im->Train();
      m->Data()->SetCurrentType(Types::kTesting);
      const Long64_t nTest = m->Data()->GetNTestEvents();
      r.batchTrained = m->GetMvaValues(0, nTest, kFALSE);
      for (Long64_t i = 0; i < nTest; ++i) {{
         m->Data()->SetCurrentEvent(i);
         Double_t lower = 0, upper = 0;
         r.singleTrained.push_back(im->GetMvaValue(&lower, &upper));
         r.errLower.push_back(lower);
         r.errUpper.push_back(upper);
      }}
      r.rankingIsNull = im->CreateRanking() == nullptr;
      r.typeName = m->GetMethodTypeName().Data();
      m->WriteStateToFile();
      const TString weightFile = m->GetWeightFileName();
      r.weightFile = weightFile.Data();
      const Types::EMVA type = m->GetMethodType();
      delete im;
      IMethod *again = ClassifierFactory::Instance().Create(Types::GetMethodName(type).Data(), dsi, weightFile);
      MethodBase *m2 = dynamic_cast<MethodBase *>(again);
      m2->SetupMethod();
      m2->ReadStateFromFile();
      m2->CheckSetup();
      m2->Data()->SetCurrentType(Types::kTesting);
      r.batchReloaded = m2->GetMvaValues();  // defaults: first 0, last -1 = all events
      r.partial = m2->GetMvaValues(2, 5);
      delete again;
      return r;
   }}
   static IMethod *Create(DataLoader &loader, const TString &options)
   {{
      return ClassifierFactory::Instance().Create("PyLSTM", "job", "T", loader.GetDataSetInfo(), options);
   }}
   static Bool_t TwoClass(IMethod *m) {{ return m->HasAnalysisType(Types::kClassification, 2, 0); }}
   static void Delete(IMethod *m) {{ delete m; }}
   static void Help(IMethod *m) {{ m->PrintHelpMessage(); }}
   static void MakeClass(IMethod *m, const TString &file) {{ m->MakeClass(file); }}
   static std::string ReadTextWeights(IMethod *m)
   {{
      std::istringstream in("legacy text weights");
      try {{
         dynamic_cast<MethodBase *>(m)->ReadWeightsFromStream(in);
      }} catch (const std::exception &e) {{
         return e.what();
      }}
      return "";
   }}
}};
}}
"""


# ---------------------------------------------------------------- fixtures

pytestmark = pytest.mark.forked  # see the module docstring


def _declare_and_register():
    """Declare both stand-in copies and the C++ driver; register PyLSTM with both."""
    from tmva_lstm.tmva import register

    declare_standin()  # also registers "Plugins" -> kPlugins in tmva_standin, as libTMVA does
    declared = declare(_DRIVER.format(ns=WITH_PLUGINS) + _DRIVER.format(ns=NO_PLUGINS))
    assert declared, "the stand-in driver did not compile (messages above)"
    return {
        WITH_PLUGINS: (ROOT.tmva_standin, register(WITH_PLUGINS, base="PyMethodBase")),
        NO_PLUGINS: (getattr(ROOT, NO_PLUGINS), register(NO_PLUGINS, base="MethodBase")),
    }


@pytest.fixture
def standin():
    return _STANDIN  # declared below, once the helpers it needs are defined


class FakeModel:
    """A linear score, exact to check copies and plumbing (the real Model is tested elsewhere)."""

    analysis_type = "CLASSIFICATION"

    def __init__(self, coef):
        self.coef = np.asarray(coef, dtype=np.float64)

    def predict(self, X):
        assert X.ndim == 3 and X.shape[1] * X.shape[2] == len(self.coef), X.shape
        z = X.reshape(len(X), -1).astype(np.float64) @ self.coef
        return 1.0 / (1.0 + np.exp(-z))

    def to_xml_element(self):
        element = ET.Element("FakeModel", {"Note": 'quote " and <angle> & amp'})
        element.text = " ".join(repr(float(v)) for v in self.coef) + " <&>"
        return element

    @classmethod
    def from_xml_element(cls, element):
        assert element.get("Note") == 'quote " and <angle> & amp'
        text = element.text.split()
        assert text[-1] == "<&>"
        return cls([float(v) for v in text[:-1]])


class FakeTrainer:
    def __init__(self):
        self.calls = []

    def __call__(self, X, y, weights, options, variable_names=None, progress=None):
        self.calls.append(
            dict(X=X.copy(), y=y.copy(), w=weights.copy(), options=options, names=variable_names)
        )
        flat = X.reshape(len(X), -1).astype(np.float64)
        return FakeModel(flat[y == 1].mean(axis=0) - flat[y == 0].mean(axis=0))


@pytest.fixture
def fake_engine(monkeypatch):
    trainer = FakeTrainer()
    monkeypatch.setattr(method_module, "_engine", lambda: (MethodOptions, trainer, FakeModel))
    return trainer


@pytest.fixture
def toy(rng):
    """60 events of T*F variables: the first 40 train, the rest test; class 0 is Signal."""
    n = 60
    X = rng.normal(size=(n, NVAR)).astype(np.float32)
    cls = np.tile(np.array([0, 1], dtype=np.int32), n // 2)
    X[cls == 0] += 0.8
    w = rng.uniform(0.5, 2.0, n)
    return X, cls, w, 40


_loaders = []  # loaders outlive the methods that reference their DataSetInfo


def make_loader(ns, name, toy):
    X, cls, w, n_train = toy
    loader = ns.DataLoader(name)
    ns.FillLoader(loader, X, cls, w, len(X), NVAR, n_train)
    _loaders.append(loader)
    return loader


def _warm_up(standin) -> None:
    """Run a Factory through each stand-in once, with the real engine, in the process the
    tests are forked from: cling compiles the code it runs and numba loads its kernels here,
    once, instead of in every child. (No Reader: see the module docstring.)"""
    import tempfile

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, NVAR)).astype(np.float32)
    toy = (X, (np.arange(60) % 2).astype(np.int32), np.ones(60), 40)
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as work, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # whether one epoch improves on the start is not the point
        os.chdir(work)
        try:
            for ns, _ in standin.values():
                factory = ns.Factory("warm")
                options = (
                    "!H:!V:Silent:InputLayout=3|2:Layout=LSTM|4,DENSE|3|TANH,LINEAR:MaxEpochs=1"
                )
                factory.BookMethod(make_loader(ns, "warm", toy), "PyLSTM", "Warm", options)
                factory.TrainAllMethods()
                factory.TestAllMethods()
                del factory
        finally:
            os.chdir(here)


_STANDIN = _declare_and_register()  # here, in the process the tests are forked from
_warm_up(_STANDIN)


# ---------------------------------------------------------------- registration


def test_cppyy_needs_a_shim_for_protected_pure_virtuals(standin):
    """Why the C++ shim exists: cppyy only overrides virtuals of the direct base class, so a
    Python class derived straight from MethodBase leaves IMethod::GetHelpMessage pure."""
    ns, _ = standin[WITH_PLUGINS]

    class Direct(ns.MethodBase):
        def Train(self): ...
        def Init(self): ...
        def DeclareOptions(self): ...
        def ProcessOptions(self): ...
        def GetMvaValue(self, lower=None, upper=None):
            return 0.0

        def CreateRanking(self):
            return ROOT.nullptr

        def HasAnalysisType(self, t, n, m):
            return True

        def AddWeightsXMLTo(self, parent): ...
        def ReadWeightsFromXML(self, node): ...
        def ReadWeightsFromStream(self, stream): ...
        def GetHelpMessage(self): ...

    loader = make_loader(
        ns, "direct", (np.zeros((2, NVAR), np.float32), np.array([0, 1], np.int32), np.ones(2), 2)
    )
    with pytest.raises(TypeError, match="abstract"):
        Direct("job", ns.Types.kPlugins, "t", loader.GetDataSetInfo(), "")


def test_register_maps_the_name_past_kmaxmethod_when_plugins_holds_kplugins(standin):
    from tmva_lstm.tmva import register

    ns, reg = standin[WITH_PLUGINS]
    assert register(WITH_PLUGINS) is reg  # a second call is harmless and changes nothing
    assert reg.name == "PyLSTM" and reg.base == "PyMethodBase"
    assert list(ns.ClassifierFactory.Instance().List()).count(b"PyLSTM") == 1
    assert reg.method_type == int(ns.Types.kMaxMethod) + 1
    assert str(ns.Types.GetMethodName(ns.Types.EMVA(reg.method_type))) == "PyLSTM"
    assert int(ns.Types.GetMethodType("PyLSTM")) == reg.method_type
    assert str(ns.Types.GetMethodName(ns.Types.kPlugins)) == "Plugins"  # untouched


def test_register_takes_kplugins_when_it_is_free(standin):
    ns, reg = standin[NO_PLUGINS]
    assert reg.base == "MethodBase"
    assert reg.method_type == int(ns.Types.kPlugins)
    assert str(ns.Types.GetMethodName(ns.Types.kPlugins)) == "PyLSTM"


def test_register_without_tmva_says_how_to_get_it():
    from tmva_lstm.tmva import TmvaUnavailableError, is_tmva_available, register

    if is_tmva_available():
        pytest.skip("this ROOT has TMVA")
    with pytest.raises(TmvaUnavailableError, match="conda install") as info:
        register()
    assert isinstance(info.value, DependencyError) and isinstance(info.value, ImportError)


def test_public_api():
    import tmva_lstm.tmva as api

    assert sorted(api.__all__) == sorted(
        [
            "METHOD_NAME",
            "PYMVA_DEPRECATED_SINCE",
            "Registration",
            "TmvaUnavailableError",
            "default_base",
            "is_tmva_available",
            "pin_blas_threads",
            "register",
        ]
    )
    assert api.METHOD_NAME == "PyLSTM"


def test_default_base_avoids_pymva_from_root_6_42():
    """ROOT 6.42 (PR #23260) warns that PyMVA is deprecated whenever a PyMVA method is
    constructed: PyLSTM needs nothing of PyMVA, so it derives from MethodBase there."""
    from types import SimpleNamespace

    from tmva_lstm.tmva import default_base

    def root(version):
        return SimpleNamespace(gROOT=SimpleNamespace(GetVersionInt=lambda: version))

    with_pymva = SimpleNamespace(MethodBase=object(), PyMethodBase=object())
    without_pymva = SimpleNamespace(MethodBase=object())
    assert default_base(root(64006), with_pymva) == "PyMethodBase"
    assert default_base(root(64200), with_pymva) == "MethodBase"
    assert default_base(root(64400), without_pymva) == "MethodBase"
    assert default_base(root(63000), without_pymva) == "MethodBase"


# ---------------------------------------------------------------- the Factory flow


@pytest.mark.parametrize("which", [WITH_PLUGINS, NO_PLUGINS])
def test_factory_books_trains_tests_and_the_reader_applies(
    standin, fake_engine, toy, tmp_path, monkeypatch, which
):
    monkeypatch.chdir(tmp_path)
    ns, reg = standin[which]
    X, cls, w, n_train = toy
    loader = make_loader(ns, f"dl_{which}", toy)
    factory = ns.Factory("job")
    options = "!H:!V:InputLayout=3|2:Layout=LSTM|4,LINEAR:MaxEpochs=3:!Silent:VarTransform=None"
    booked = factory.BookMethod(loader, "PyLSTM", "LSTM", options)
    assert booked and str(booked.GetMethodTypeName()) == "PyLSTM"
    # TMVA consumed every token: ours are declared options, bound to C++ storage in the shim.
    assert all(t.startswith("~") for t in str(booked.GetOptions()).split(":"))
    declared = [str(n) for n in booked.DeclaredOptionNames()]
    for key in ("InputLayout", "Layout", "MaxEpochs", "Silent", "TrainingStrategy"):
        assert declared.count(key) == 1
    # TMVA's own options are not declared a second time.
    assert declared.count("V") == 1 and declared.count("VarTransform") == 1
    assert str(booked.DeclaredOptionValue("InputLayout")) == "3|2"

    factory.TrainAllMethods()

    # Train got TMVA's training events in TMVA's order, as (N, T, F), with labels and weights.
    (call,) = fake_engine.calls
    np.testing.assert_array_equal(call["X"], X[:n_train].reshape(n_train, T, F))
    np.testing.assert_array_equal(call["y"], (cls[:n_train] == 0).astype(np.int64))
    np.testing.assert_array_equal(call["w"], w[:n_train])
    assert call["names"] == [f"x{j}" for j in range(NVAR)]
    assert call["options"].input_layout == (T, F) and call["options"].training[0].max_epochs == 3
    model = FakeTrainer()(call["X"], call["y"], call["w"], None)

    # TrainTree: the in-memory method's batched scores.
    train_scores = np.asarray(factory.StandinTrainScores("LSTM"))
    np.testing.assert_allclose(
        train_scores, model.predict(X[:n_train].reshape(-1, T, F)), rtol=1e-12
    )

    # The weight file is TMVA's, with the model under <Weights>.
    weight_file = Path("dl_" + which) / "weights" / "job_LSTM.weights.xml"
    root = ET.parse(weight_file).getroot()
    assert root.get("Method") == "PyLSTM::LSTM"
    weights = root.find("Weights")
    assert weights.get("Format") == "tmva_lstm" and weights.get("NVar") == str(NVAR)
    assert MethodOptions.from_string(weights.get("Options")).input_layout == (T, F)
    assert weights.find("FakeModel") is not None
    options_block = {o.get("name"): o.text for o in root.find("Options")}
    assert options_block["InputLayout"] == "3|2" and options_block["MaxEpochs"] == "3"

    # TestTree: scored by the method TMVA re-created from the weight file.
    factory.TestAllMethods()
    test_scores = np.asarray(factory.StandinTestScores("LSTM"))
    expected = model.predict(X[n_train:].reshape(-1, T, F))
    np.testing.assert_allclose(test_scores, expected, rtol=1e-12)

    # Reader: BookMVA by the type name in the file, one event at a time.
    reader = ns.Reader()
    for j in range(NVAR):
        reader.AddVariable(f"x{j}")
    reader.BookMVA("LSTM", str(weight_file))
    for i in (n_train, n_train + 7, len(X) - 1):
        value = reader.EvaluateMVA(ROOT.std.vector["float"](X[i].tolist()), "LSTM")
        assert value == pytest.approx(expected[i - n_train], rel=1e-12)
    del factory


@pytest.mark.parametrize("which", [WITH_PLUGINS, NO_PLUGINS])
def test_cpp_driver_creates_trains_scores_and_reloads(
    standin, fake_engine, toy, tmp_path, monkeypatch, which
):
    monkeypatch.chdir(tmp_path)
    ns, _ = standin[which]
    X, cls, w, n_train = toy
    loader = make_loader(ns, f"drv_{which}", toy)
    r = ns.StandinDriver.Run(loader, "job", "LSTM", "InputLayout=3|2:MaxEpochs=2")

    # As MethodDL: two-class Classification, Multiclass, and Regression with at least one target.
    assert (r.twoClass, r.threeClass, r.multiclass) == (True, False, True)
    assert (r.regression, r.noTargets) == (True, False)
    assert r.typeName == "PyLSTM" and r.rankingIsNull
    (call,) = fake_engine.calls
    model = FakeTrainer()(call["X"], call["y"], call["w"], None)
    expected = model.predict(X[n_train:].reshape(-1, T, F))
    np.testing.assert_allclose(np.asarray(r.batchTrained), expected, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(r.singleTrained), expected, rtol=1e-12)
    assert set(r.errLower) == {-1.0} and set(r.errUpper) == {-1.0}  # NoErrorCalc
    np.testing.assert_allclose(np.asarray(r.batchReloaded), expected, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(r.partial), expected[2:5], rtol=1e-12)
    assert Path(str(r.weightFile)).name == "job_LSTM.weights.xml"


# ---------------------------------------------------------------- options


@pytest.mark.parametrize(
    "options, message",
    [
        ("InputLayout=3|2:NoSuchKey=1", "NoSuchKey"),
        ("InputLayout=3|2:MaxEpoch=5", "MaxEpochs"),  # "did you mean"
        ("InputLayout=3|2:Layout=LSTM|x", "Layout"),
        # A bare or negated key is declared boolean, so our parser, not TMVA, judges it.
        ("InputLayout=3|2:!Layout", "needs a value"),
        ("InputLayout=3|2:AnalysisType=Multiclass", "TMVA runs this method as Classification"),
    ],
)
def test_bad_options_fail_at_booking_with_our_message(
    standin, fake_engine, toy, tmp_path, monkeypatch, capfd, options, message
):
    monkeypatch.chdir(tmp_path)
    ns, _ = standin[WITH_PLUGINS]
    factory = ns.Factory("job")
    loader = make_loader(ns, "bad", toy)
    # TString arguments: an exception inside an overloaded C++ call then reaches Python as is.
    with pytest.raises(OptionError, match=message):
        factory.BookMethod(
            loader, ROOT.TString("PyLSTM"), ROOT.TString("LSTM"), ROOT.TString(options)
        )
    assert message in capfd.readouterr().out  # also logged through TMVA's logger
    # With str arguments PyROOT masks it as a conversion failure; the log still says why.
    with pytest.raises(TypeError, match="could not convert argument 2"):
        factory.BookMethod(loader, "PyLSTM", "LSTM2", options)
    assert message in capfd.readouterr().out


def test_flags_and_tmva_only_options(standin, fake_engine, toy, tmp_path, monkeypatch):
    """Bare/negated flags of ours become boolean options; VarTransform stays TMVA's (our parser
    would reject D, and must not transform the already-transformed events again)."""
    monkeypatch.chdir(tmp_path)
    ns, _ = standin[WITH_PLUGINS]
    factory = ns.Factory("job")
    options = (
        "V:Silent:VarTransform=D:VerbosityLevel=Info:CreateMVAPdfs:InputLayout=3|2:MaxEpochs=1"
    )
    booked = factory.BookMethod(make_loader(ns, "flags", toy), "PyLSTM", "LSTM", options)
    assert str(booked.DeclaredOptionValue("Silent")) == "True"
    factory.TrainAllMethods()
    opts = fake_engine.calls[0]["options"]
    assert opts.silent and opts.verbose and opts.var_transform == "NONE"


def test_input_layout_must_match_the_variables(standin, fake_engine, toy, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ns, _ = standin[WITH_PLUGINS]
    factory = ns.Factory("job")
    factory.BookMethod(make_loader(ns, "layout", toy), "PyLSTM", "LSTM", "InputLayout=4|2")
    with pytest.raises(OptionError, match="needs 8 input variables.*declares 6"):
        factory.TrainAllMethods()


# ---------------------------------------------------------------- lifetime and the rest


def test_cpp_owns_the_python_object(standin, fake_engine, toy, monkeypatch):
    ns, reg = standin[WITH_PLUGINS]
    created = []
    original = reg.method_class.__init__

    def recording_init(self, *args):
        original(self, *args)
        created.append(weakref.ref(self))

    monkeypatch.setattr(reg.method_class, "__init__", recording_init)
    im = ns.StandinDriver.Create(make_loader(ns, "life", toy), "InputLayout=3|2")
    del im
    gc.collect()
    assert created[0]() is not None  # only C++ holds it, and it is alive
    assert created[0]().__python_owns__ is False
    pointer = created[0]()
    assert ns.StandinDriver.TwoClass(pointer)  # C++ calls into it through IMethod*
    del pointer
    ns.StandinDriver.Delete(created[0]())  # C++ deletes it: the Python half goes too
    gc.collect()
    assert created[0]() is None


def test_help_makeclass_and_text_weights(standin, fake_engine, toy, tmp_path, capfd):
    ns, _ = standin[WITH_PLUGINS]
    im = ns.StandinDriver.Create(make_loader(ns, "misc", toy), "InputLayout=3|2")
    ns.StandinDriver.Help(im)
    assert "InputLayout=T|F" in capfd.readouterr().out
    target = tmp_path / "PyLSTM.class.C"
    ns.StandinDriver.MakeClass(im, str(target))
    # untrained and no weight file: a class file that stops compilation, saying why
    assert '#error "PyLSTM (tmva_lstm): no standalone C++ class: cannot read' in target.read_text()
    assert "XML weight files" in ns.StandinDriver.ReadTextWeights(im)
    ns.StandinDriver.Delete(im)


def test_weights_missing_or_foreign_are_reported(standin, fake_engine, toy, tmp_path, monkeypatch):
    from tmva_lstm.errors import ModelFileError

    monkeypatch.chdir(tmp_path)
    ns, _ = standin[WITH_PLUGINS]
    dsi = make_loader(ns, "foreign", toy).GetDataSetInfo()
    path = tmp_path / "foreign.weights.xml"
    path.write_text(
        '<MethodSetup Method="PyLSTM::X"><Weights Format="other" NVar="6"/></MethodSetup>'
    )
    method = ns.ClassifierFactory.Instance().Create("PyLSTM", dsi, str(path))
    with pytest.raises(ModelFileError, match="not a 'tmva_lstm' model"):
        method.ReadModelFromFile()
    ns.StandinDriver.Delete(method)


def test_xml_nodes_round_trip_escaping(standin):
    from tmva_lstm.tmva import _xml

    element = ET.Element("Model", {"A": 'x="1" <&>', "B": "LSTM|10,DENSE|64|TANH"})
    ET.SubElement(element, "Array", {"Name": "W"}).text = "AAEC+/8= & <tail>"
    ET.SubElement(element, "Empty")
    engine = ROOT.TXMLEngine()
    doc = engine.NewDoc()
    root = engine.NewChild(ROOT.nullptr, ROOT.nullptr, "MethodSetup")
    engine.DocSetRootElement(doc, root)
    _xml.append_element(root, element)
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"tmva_lstm_xml_{os.getpid()}.xml"
    engine.SaveDoc(doc, str(path))
    engine.FreeDoc(doc)
    assert ET.parse(path).getroot().find("Model/Array").text == "AAEC+/8= & <tail>"  # valid XML
    parsed = engine.ParseFile(str(path))
    back = _xml.read_element(engine.GetChild(engine.DocGetRootElement(parsed)))
    engine.FreeDoc(parsed)
    path.unlink()
    assert ET.tostring(back) == ET.tostring(element)


def test_real_engine_end_to_end(standin, toy, tmp_path, monkeypatch):
    """The real engine through the stand-in: TestTree scores equal the model file's predictions."""
    import tmva_lstm

    monkeypatch.chdir(tmp_path)
    ns, _ = standin[NO_PLUGINS]
    X, cls, w, n_train = toy
    factory = ns.Factory("job")
    options = (
        "!H:!V:Silent:InputLayout=3|2:Layout=LSTM|4,LINEAR:MaxEpochs=2:BatchSize=10:RandomSeed=7"
    )
    factory.BookMethod(make_loader(ns, "real", toy), "PyLSTM", "Real", options)
    factory.TrainAllMethods()
    factory.TestAllMethods()
    model = tmva_lstm.load_model(Path("real/weights/job_Real.weights.xml"))
    expected = model.predict(X[n_train:].reshape(-1, T, F))
    np.testing.assert_allclose(np.asarray(factory.StandinTestScores("Real")), expected, rtol=1e-6)
    assert np.all((expected >= 0) & (expected <= 1))
    del factory

    # A model file written by the Python API (Model.save) is applied by TMVA::Reader too.
    saved = model.save(tmp_path / "saved.weights.xml", title="Saved")
    reader = ns.Reader()
    for j in range(NVAR):
        reader.AddVariable(f"x{j}")
    reader.BookMVA("Saved", str(saved))
    value = reader.EvaluateMVA(ROOT.std.vector["float"](X[n_train].tolist()), "Saved")
    assert value == pytest.approx(expected[0], rel=1e-6)


def test_pin_blas_threads_only_before_numpy(monkeypatch):
    import sys

    from tmva_lstm.tmva import _threads

    environ = {"OMP_NUM_THREADS": "3"}
    monkeypatch.setattr(_threads.os, "environ", environ)
    assert _threads.pin_blas_threads(2) is False  # numpy is imported: too late, nothing set
    assert environ == {"OMP_NUM_THREADS": "3"}
    monkeypatch.delitem(sys.modules, "numpy")
    assert _threads.pin_blas_threads(2) is True
    assert environ == {"OMP_NUM_THREADS": "3", "OPENBLAS_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"}


def test_training_reports_and_warnings_go_through_tmvas_logger(
    standin, toy, tmp_path, monkeypatch, capfd
):
    """The validation split per class (kINFO) and a training that never beat its initial weights
    (kWARNING) reach TMVA's log; no Python warning escapes into the C++ caller."""
    monkeypatch.chdir(tmp_path)
    ns, _ = standin[WITH_PLUGINS]
    factory = ns.Factory("job")
    options = (
        "!H:!V:InputLayout=3|2:Layout=LSTM|4,LINEAR:MaxEpochs=2:BatchSize=10:LearningRate=1e-30"
    )
    factory.BookMethod(make_loader(ns, "logged", toy), "PyLSTM", "Logged", options)
    factory.TrainAllMethods()
    out = capfd.readouterr().out
    info = [line for line in out.splitlines() if "validation sample:" in line]
    assert len(info) == 1 and info[0].startswith("<INFO>"), out
    assert info[0].endswith(": validation sample: 4 signal, 4 background events"), out
    warning = [line for line in out.splitlines() if line.startswith("<WARNING>")]
    assert len(warning) == 1 and "initial, untrained weights" in warning[0], out


def test_reader_scores_one_event_in_cpp_and_makeclass_writes_the_network(
    standin, toy, tmp_path, monkeypatch
):
    """After BookMVA, EvaluateMVA runs the model's compiled C++ class: no Python per event
    (ScoreCurrentEvent is made to fail). MakeClass writes that class's network code."""
    import tmva_lstm

    monkeypatch.chdir(tmp_path)
    ns, registration = standin[NO_PLUGINS]
    X, cls, w, n_train = toy
    factory = ns.Factory("job")
    options = (
        "!H:!V:Silent:InputLayout=3|2:Layout=LSTM|4,DENSE|3|TANH,LINEAR:MaxEpochs=1:RandomSeed=2"
    )
    factory.BookMethod(make_loader(ns, "cpp", toy), "PyLSTM", "Cpp", options)
    factory.TrainAllMethods()
    del factory
    model = tmva_lstm.load_model(Path("cpp/weights/job_Cpp.weights.xml"))
    class_file = Path("cpp/weights/job_Cpp.class.C").read_text()
    assert "void Layer0(const double* in, size_t nSteps, double* out) const" in class_file
    assert "GetMvaValue__(const std::vector<double>& inputValues, size_t nSteps)" in class_file

    def no_python(self):
        raise AssertionError("ScoreCurrentEvent was called: the event went through Python")

    monkeypatch.setattr(registration.method_class, "ScoreCurrentEvent", no_python)
    reader = ns.Reader()
    for j in range(NVAR):
        reader.AddVariable(f"x{j}")
    reader.BookMVA("Cpp", "cpp/weights/job_Cpp.weights.xml")
    expected = model.predict(X[:10].reshape(-1, T, F))
    got = [reader.EvaluateMVA(ROOT.std.vector["float"](x.tolist()), "Cpp") for x in X[:10]]
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------- the tutorial sample through the stand-in's DataLoader
# Run in a fresh process each (tests/standin/factory_run.py): the Factory flow on 4000 events of
# 300 variables, apart from the in-process objects of the tests above.

REPO = Path(__file__).resolve().parents[2]
FACTORY_RUN = REPO / "tests" / "standin" / "factory_run.py"
TUTORIAL_OPTIONS = (
    "!H:!V:InputLayout=10|30:Layout=LSTM|10|30|10|0|1,RESHAPE|FLAT,DENSE|64|TANH,LINEAR:"
    "MaxEpochs=15:RandomSeed=3"
)


def factory_run(work: Path, split: str, options: str, record: bool = False):
    """Run the tutorial flow through the stand-in; (TestTree arrays, result.json, process)."""
    import json
    import subprocess
    import sys

    import uproot

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))  # fmt: skip
    args = [sys.executable, "-W", "ignore", str(FACTORY_RUN), str(work), split, options]
    proc = subprocess.run(args + (["--record"] if record else []), cwd=work, env=env,
                          capture_output=True, text=True, timeout=900)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with uproot.open(work / "out.root") as f:
        tree = f["dataset/TestTree"]
        test = {k: tree[k].array(library="np") for k in tree.keys()}
    return test, json.loads((work / "result.json").read_text()), proc


def _sample_arrays():
    import uproot

    with uproot.open(REPO / "data" / "time_data_t10_d30.root") as f:
        return {
            name: np.stack(
                [f[name][f"vars_time{t}"].array(library="np") for t in range(10)], axis=1
            ).reshape(-1, 300)
            for name in ("sgn", "bkg")
        }


@pytest.mark.parametrize("split", ["Block", "Random"])
def test_factory_trains_on_the_tutorial_sample_with_either_split(tmp_path, split):
    """Issue 10: with SplitMode=Block the method gets class-ordered events; the validation sample
    must still hold both classes. Before the stratified split, Block gave a ROC integral of 0.49
    (initial weights) against 0.83 with Random on real TMVA; 15 epochs reach 0.77-0.82.
    The Reader matches the weight file's AddVariablesArray variables by expression, element by
    element, and reproduces TestTree's scores; "vars_time0[0]" is refused, as TMVA does."""
    from tmva_lstm.evaluate import roc_integral

    test, result, proc = factory_run(tmp_path, split, TUTORIAL_OPTIONS, record=True)
    # What PyLSTM's Train received: every element of an AddVariablesArray array is a variable,
    # in the tree's order, named vars_time<t>[k]; under Block all signal, then all background
    # (as real TMVA's DataSetFactory gives them), under Random mixed.
    received = np.load(tmp_path / "received.npz")
    y, X = received["y"], received["X"].reshape(len(received["y"]), 300)
    assert list(received["names"][:2]) == ["vars_time0[0]", "vars_time0[1]"]
    assert len(received["names"]) == 300 and len(y) == 3200 and y.sum() == 1600
    data = _sample_arrays()
    if split == "Block":
        assert (y[:1600] == 1).all() and (y[1600:] == 0).all()
        np.testing.assert_array_equal(X[:1600], data["sgn"][:1600])
        np.testing.assert_array_equal(X[1600:], data["bkg"][:1600])
    else:
        assert 0.4 < y[:1600].mean() < 0.6
        assert {r.tobytes() for r in X[y == 1]} <= {r.tobytes() for r in data["sgn"]}
    assert "validation sample: 320 signal, 320 background events" in proc.stdout
    assert len(test["LSTM"]) == 800 and test["vars_time0"].shape == (800, 30)  # array leaves
    roc = roc_integral(test["LSTM"], (test["classID"] == 0).astype(int))
    assert roc > 0.72, f"SplitMode={split}: ROC integral {roc:.3f}"
    np.testing.assert_allclose(result["reader"], result["test_tree"], rtol=1e-5, atol=1e-6)
    assert "name or order are wrong" in result["refusal"]
    variables = ET.parse(tmp_path / "dataset/weights/TMVAClassification_LSTM.weights.xml")
    element = variables.getroot().find("Variables").findall("Variable")[31].attrib
    assert (element["Expression"], element["Internal"], element["Title"]) == (
        "vars_time1", "vars_time1[1]", "[1]"
    )  # fmt: skip
