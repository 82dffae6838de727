"""The ROOT macros in macros/: run wherever ROOT has TMVA, skipped (with the reason) elsewhere.

The Python macro is run end to end; then the standalone engine is trained on exactly the
events TMVA gave PyLSTM (read back from TMVA's TrainTree, in TMVA's order) with the same
options and seed, and its ROC integral on TMVA's TestTree must agree within 0.01.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

ROOT = pytest.importorskip("ROOT", reason="needs PyROOT")

from tmva_lstm.tmva import is_tmva_available  # noqa: E402

pytestmark = pytest.mark.skipif(
    not is_tmva_available(),
    reason="this ROOT has no TMVA (the PyPI 'ROOT' wheel ships none); run with a ROOT that has "
    "TMVA, e.g. `conda env create -f environment.yml`",
)

REPO = Path(__file__).resolve().parent.parent
MACROS = REPO / "macros"
SAMPLE = REPO / "data" / "time_data_t10_d30.root"
EPOCHS = 3


def _python_macro():
    spec = importlib.util.spec_from_file_location(
        "tmva_lstm_macro", MACROS / "TMVA_LSTM_Classification.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def macro_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("macro")
    import os

    old = os.getcwd()
    os.chdir(work)
    try:
        module = _python_macro()
        roc = module.main(
            ["--data", str(SAMPLE), "--epochs", str(EPOCHS), "--no-tmva-dl", "--no-bdt"]
        )
    finally:
        os.chdir(old)
    return work, roc, module


def test_python_macro_end_to_end(macro_run):
    work, roc, _ = macro_run
    assert 0.6 < roc <= 1.0
    assert (work / "TMVA_LSTM_ROC.png").stat().st_size > 0
    assert (work / "dataset/weights/TMVAClassification_PyLSTM.weights.xml").is_file()
    import uproot

    with uproot.open(work / "TMVA_LSTM_Classification.root") as f:
        assert f["dataset/TestTree"].num_entries == 800
        assert "PyLSTM" in f["dataset/TestTree"].keys()


def test_factory_roc_matches_standalone_on_the_same_events(macro_run):
    import uproot

    from tmva_lstm.evaluate import roc_integral
    from tmva_lstm.training import train

    work, roc, module = macro_run
    with uproot.open(work / "TMVA_LSTM_Classification.root") as f:
        trees = {}
        for name in ("TrainTree", "TestTree"):
            t = f[f"dataset/{name}"]
            X = np.stack([t[f"vars_time{j}"].array(library="np") for j in range(10)], axis=1)
            trees[name] = (X, 1 - t["classID"].array(library="np"), t["weight"].array(library="np"))
    X, y, w = trees["TrainTree"]
    model = train(X, y, w, module.PYLSTM_OPTIONS.format(epochs=EPOCHS))
    Xt, yt, wt = trees["TestTree"]
    standalone = roc_integral(model.predict(Xt), yt, wt)
    assert abs(standalone - roc) < 0.01, f"standalone {standalone} vs TMVA {roc}"


def test_application_macro(macro_run):
    work, _, _ = macro_run
    weights = work / "dataset/weights/TMVAClassification_PyLSTM.weights.xml"
    ROOT.gROOT.ProcessLine(
        f'.x {MACROS / "TMVA_LSTM_Application.C"}("{SAMPLE}", "sgn", "{weights}")'
    )
    import uproot

    with uproot.open("TMVA_LSTM_Application.root") as f:
        scores = f["PyLSTM_scores"]["PyLSTM"].array(library="np")
    assert len(scores) == 2000 and np.all((scores >= 0) & (scores <= 1))
