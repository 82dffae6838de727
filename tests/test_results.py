"""Tests of tmva_lstm.results: the TMVA-layout file read back with uproot and with real
ROOT, atomic writing, the ROC plot and the summary file."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
import uproot

from tmva_lstm.errors import DataError, DependencyError, OptionError
from tmva_lstm.evaluate import evaluate, roc_curve
from tmva_lstm.results import (
    TreeData,
    plot_overtraining,
    plot_roc,
    rootfile,
    split_time_steps,
    write_summary,
    write_tmva_file,
)
from tmva_lstm.results.plots import _thin

TITLE = "PyLSTM_LSTM"
METHOD_DIR = f"dataset/Method_PyLSTM/{TITLE}"
HISTORY = {"train_loss": [0.69, 0.61, 0.55, 0.52], "val_loss": [0.70, 0.64, 0.60, 0.59]}
WEIGHT_FILE = "dataset/weights/TMVAClassification_PyLSTM_LSTM.weights.xml"


def make_sample(rng: np.random.Generator, n: int, shift: float) -> TreeData:
    labels = rng.integers(0, 2, n)
    x = rng.normal(size=(n, 10, 30)).astype(np.float32)  # (N, T, F) like the tutorial
    scores = 1.0 / (1.0 + np.exp(-(rng.normal(size=n) + shift * labels)))
    weights = rng.uniform(0.5, 1.5, n)
    variables = split_time_steps(x)
    variables["met"] = rng.exponential(size=n)  # one scalar variable too
    return TreeData(scores, labels, weights, variables)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    rng = np.random.default_rng(7)
    test, train = make_sample(rng, 300, 1.0), make_sample(rng, 600, 1.1)
    path = tmp_path_factory.mktemp("tmva") / "TMVA.root"
    ev = write_tmva_file(
        path, title=TITLE, test=test, train=train, history=HISTORY, weight_file_name=WEIGHT_FILE
    )
    return path, test, train, ev


# ---- read back with uproot ----------------------------------------------------------------


def test_layout_and_classes(written):
    path, *_ = written
    with uproot.open(path) as f:
        names = f.classnames()
    assert names["dataset/TestTree;1"] == "TTree"
    assert names["dataset/TrainTree;1"] == "TTree"
    assert names[f"{METHOD_DIR}/TrainingPath;1"] == "TObjString"
    assert names[f"{METHOD_DIR}/WeightFileName;1"] == "TObjString"
    for suffix in (
        "S",
        "B",
        "S_high",
        "B_high",
        "effS",
        "effB",
        "effBvsS",
        "rejBvsS",
        "invBeffvsSeff",
        "Train_S",
        "Train_B",
        "trainingEffS",
        "trainingEffB",
        "trainingEffBvsS",
        "trainingRejBvsS",
    ):
        assert names[f"{METHOD_DIR}/MVA_{TITLE}_{suffix};1"] == "TH1D", suffix
    for key in ("trainingError", "valError"):
        assert names[f"{METHOD_DIR}/TrainingHistory_{TITLE}_{key};1"] == "TH1D"


@pytest.mark.parametrize(("tree_name", "which"), [("TestTree", 1), ("TrainTree", 2)])
def test_tree_branches_types_and_contents(written, tree_name, which):
    path = written[0]
    data: TreeData = written[which]
    with uproot.open(path) as f:
        tree = f[f"dataset/{tree_name}"]
        assert tree.title == tree_name
        expected = (
            ["classID", "className"]
            + [f"vars_time{t}" for t in range(10)]
            + ["met", "weight", TITLE]
        )
        assert tree.keys() == expected  # DataSet::GetTree's order
        assert tree.num_entries == len(data)
        assert tree["classID"].typename == "int32_t"
        assert tree["className"].typename == "char*"
        assert tree["vars_time0"].typename == "float[30]"
        assert tree["met"].typename == "float"
        assert tree["weight"].typename == "float"
        assert tree[TITLE].typename == "float"
        arrays = tree.arrays(library="np")
    # TMVA's classID: 0 = Signal (our label 1), 1 = Background (our label 0)
    np.testing.assert_array_equal(arrays["classID"], 1 - data.labels)
    np.testing.assert_array_equal(
        arrays["className"], np.where(data.labels == 1, "Signal", "Background")
    )
    np.testing.assert_array_equal(arrays["vars_time3"], data.variables["vars_time3"])
    np.testing.assert_array_equal(arrays[TITLE], data.scores.astype(np.float32))
    np.testing.assert_array_equal(arrays["weight"], data.weights.astype(np.float32))


def test_histograms_binning_and_normalisation(written):
    path, _, _, ev = written
    with uproot.open(path) as f:
        h = f[f"{METHOD_DIR}/MVA_{TITLE}_S"]
        values, edges = h.to_numpy()
        assert values.size == 40
        assert edges[0] == pytest.approx(ev.xmin) and edges[-1] == pytest.approx(ev.xmax + 1e-5)
        assert (values * np.diff(edges)).sum() == pytest.approx(1.0)  # density-normalised
        assert h.title == f"MVA_{TITLE}_S"
        assert h.variances().sum() > 0  # Sumw2 is stored
        high = f[f"{METHOD_DIR}/MVA_{TITLE}_B_high"]
        assert high.to_numpy()[0].size == 10000
        rej = f[f"{METHOD_DIR}/MVA_{TITLE}_rejBvsS"]
        rvalues, redges = rej.to_numpy()
        assert rvalues.size == 100 and (redges[0], redges[-1]) == (0.0, 1.0)
        assert rej.member("fXaxis").member("fTitle") == "Signal eff"
        assert rej.member("fYaxis").member("fTitle") == "Backgr rejection (1-eff)"
        eff = f[f"{METHOD_DIR}/MVA_{TITLE}_effBvsS"].to_numpy()[0]
        np.testing.assert_allclose(rvalues, 1.0 - eff)
        hist = f[f"{METHOD_DIR}/TrainingHistory_{TITLE}_valError"]
        hvalues, hedges = hist.to_numpy()
        np.testing.assert_allclose(hvalues, HISTORY["val_loss"])
        np.testing.assert_allclose(hedges, [0.5, 1.5, 2.5, 3.5, 4.5])
        assert str(f[f"{METHOD_DIR}/WeightFileName"]) == WEIGHT_FILE
        assert str(f[f"{METHOD_DIR}/TrainingPath"]) == os.getcwd()


def test_no_weight_file_means_no_path_strings(tmp_path, rng):
    sample = make_sample(rng, 100, 1.0)
    path = tmp_path / "out.root"
    write_tmva_file(path, title="T", test=sample, train=sample, history={"loss": [0.5]})
    with uproot.open(path) as f:
        keys = f.keys(cycle=False)
        assert "dataset/Method_PyLSTM/T/TrainingPath" not in keys
        one = f["dataset/Method_PyLSTM/T/TrainingHistory_T_trainingError"].to_numpy()
        np.testing.assert_allclose(one[0], [0.5])
        np.testing.assert_allclose(one[1], [0.5, 1.5])


# ---- read back with real ROOT -------------------------------------------------------------


def test_read_back_with_pyroot(written):
    ROOT = pytest.importorskip("ROOT", reason="PyROOT (pip install ROOT) is not importable")
    path, test, _, ev = written
    f = ROOT.TFile.Open(str(path))
    try:
        assert f and not f.IsZombie()
        tree = f.Get("dataset/TestTree")
        assert tree.GetEntries() == len(test)
        branches = [b.GetName() for b in tree.GetListOfBranches()]
        assert branches[:2] == ["classID", "className"] and branches[-2:] == ["weight", TITLE]
        assert tree.GetBranch("vars_time0").GetTitle() == "vars_time0[30]/F"
        assert tree.GetBranch("className").GetTitle() == "className/C"
        assert tree.GetBranch("classID").GetTitle() == "classID/I"
        assert tree.GetLeaf("className").ClassName() == "TLeafC"
        for i in (0, 1, 17, len(test) - 1):
            assert tree.GetEntry(i) > 0
            assert tree.classID == 1 - int(test.labels[i])
            name = tree.GetLeaf("className").GetValueString()
            assert name == ("Signal" if test.labels[i] == 1 else "Background")
            assert getattr(tree, TITLE) == pytest.approx(float(np.float32(test.scores[i])))
            assert tree.weight == pytest.approx(float(np.float32(test.weights[i])))
            np.testing.assert_array_equal(
                np.frombuffer(tree.vars_time9, dtype=np.float32, count=30),
                test.variables["vars_time9"][i],
            )
            assert tree.met == pytest.approx(float(np.float32(test.variables["met"][i])))

        h = f.Get(f"{METHOD_DIR}/MVA_{TITLE}_S")
        assert h.ClassName() == "TH1D"
        assert h.GetNbinsX() == 40
        assert h.Integral("width") == pytest.approx(1.0)
        assert h.GetXaxis().GetXmax() == pytest.approx(ev.xmax + 1e-5)
        rej = f.Get(f"{METHOD_DIR}/MVA_{TITLE}_rejBvsS")
        assert rej.GetNbinsX() == 100
        assert rej.GetYaxis().GetTitle() == "Backgr rejection (1-eff)"
        assert f.Get(f"{METHOD_DIR}/WeightFileName").GetString().Data() == WEIGHT_FILE
        # what TMVAGui's mvas() does for the overtraining check, in a fresh ROOT session
        # (gRandom is TRandom3(4357) there): option "X", signal first, then background
        train_s = f.Get(f"{METHOD_DIR}/MVA_{TITLE}_Train_S")
        h_b = f.Get(f"{METHOD_DIR}/MVA_{TITLE}_B")
        train_b = f.Get(f"{METHOD_DIR}/MVA_{TITLE}_Train_B")
        assert ev.ks_method == "root"
        ROOT.gRandom.SetSeed(4357)
        assert h.KolmogorovTest(train_s, "X") == ev.ks_signal
        assert h_b.KolmogorovTest(train_b, "X") == ev.ks_background
        # TMVAGui finds methods as Method_* directories holding title directories
        method_dir = f.Get("dataset/Method_PyLSTM")
        assert [k.GetName() for k in method_dir.GetListOfKeys()] == [TITLE]
    finally:
        f.Close()


# ---- atomic writing ------------------------------------------------------------------------


def test_failure_mid_write_leaves_old_file(tmp_path, rng, monkeypatch):
    path = tmp_path / "TMVA.root"
    path.write_bytes(b"previous results")
    sample = make_sample(rng, 50, 1.0)

    calls = {"n": 0}
    real = rootfile._th1

    def failing_th1d(h):
        calls["n"] += 1
        if calls["n"] == 5:  # a few histograms are already in the temporary file
            raise RuntimeError("disk on fire")
        return real(h)

    monkeypatch.setattr(rootfile, "_th1", failing_th1d)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_tmva_file(path, title="T", test=sample, train=sample)
    assert path.read_bytes() == b"previous results"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["TMVA.root"]  # no temporary left

    monkeypatch.setattr(rootfile, "_th1", real)
    write_tmva_file(path, title="T", test=sample, train=sample)
    with uproot.open(path) as f:
        assert f["dataset/TestTree"].num_entries == 50
    assert sorted(p.name for p in tmp_path.iterdir()) == ["TMVA.root"]


# ---- input checks --------------------------------------------------------------------------


def test_treedata_class_id_and_validation(rng):
    data = TreeData(np.array([0.9, 0.1, 0.6]), np.array([1, 0, 1]))
    np.testing.assert_array_equal(data.class_id, [0, 1, 0])
    np.testing.assert_array_equal(data.event_weights, [1, 1, 1])
    with pytest.raises(DataError):
        TreeData(np.zeros(3), np.array([1, 0]))
    with pytest.raises(DataError):
        TreeData(np.zeros(2), np.array([1, 2]))
    with pytest.raises(DataError, match="split_time_steps"):
        TreeData(np.zeros(2), np.array([1, 0]), variables={"x": np.zeros((3, 4))})
    # an (N, A, B) array is AddVariablesArray("x", A*B): one flat branch, element order kept
    x = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    flat = TreeData(np.zeros(2), np.array([1, 0]), variables={"x": x})
    np.testing.assert_array_equal(flat.variables["x"], x.reshape(2, 12))
    assert [v.internal for v in flat.variable_infos()][:2] == ["x[0]", "x[1]"]
    assert [v.title for v in flat.variable_infos()][:2] == ["[0]", "[1]"]


def test_bad_names_are_rejected(tmp_path, rng):
    sample = make_sample(rng, 20, 1.0)
    with pytest.raises(OptionError):
        write_tmva_file(tmp_path / "a.root", title="a/b", test=sample, train=sample)
    clash = TreeData(sample.scores, sample.labels, variables={"weight": np.zeros(20)})
    with pytest.raises(DataError, match="clashes"):
        write_tmva_file(tmp_path / "b.root", title="T", test=clash, train=clash)
    assert not list(tmp_path.iterdir())


def test_split_time_steps():
    x = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    parts = split_time_steps(x)
    assert list(parts) == ["vars_time0", "vars_time1", "vars_time2"]
    np.testing.assert_array_equal(parts["vars_time1"], x[:, 1, :])
    with pytest.raises(DataError):
        split_time_steps(np.zeros((2, 3)))


# ---- plot and summary ----------------------------------------------------------------------


def test_plot_roc_writes_png_and_pdf(tmp_path, written):
    _, test, train, _ = written
    curves = [
        (f"{TITLE} test", *roc_curve(test.scores, test.labels, test.weights)),
        (f"{TITLE} training", *roc_curve(train.scores, train.labels, train.weights)),
    ]
    paths = plot_roc(tmp_path / "plots" / "roc", curves)
    assert [p.name for p in paths] == ["roc.png", "roc.pdf"]
    png, pdf = (p.read_bytes() for p in paths)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    assert pdf.startswith(b"%PDF") and len(pdf) > 1_000
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == ["roc.pdf", "roc.png"]


def test_plot_roc_without_matplotlib_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(DependencyError, match=r"tmva-lstm\[plot\]"):
        plot_roc(tmp_path / "roc", [("x", np.array([1.0, 0.0]), np.array([0.0, 1.0]))])


def test_thin_keeps_the_curve():
    # a vertical run, a repeated point, a horizontal step and a straight diagonal (dyadic
    # values, so that collinearity is exact in floating point)
    x = np.array([1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.0, 0.0])
    y = np.array([0.0, 0.25, 0.5, 0.5, 0.5, 0.75, 1.0, 1.0])
    tx, ty = _thin(x, y)
    np.testing.assert_allclose(tx, [1.0, 1.0, 0.5, 0.0])
    np.testing.assert_allclose(ty, [0.0, 0.5, 0.5, 1.0])


def test_write_summary(tmp_path, written):
    _, _, _, ev = written
    path = write_summary(tmp_path / "summary.txt", ev, title=TITLE)
    text = path.read_text(encoding="utf-8")
    assert text == ev.summary(TITLE)
    assert f"dataset       {TITLE}    : {ev.roc_integral:.3f}" in text


def test_plot_overtraining_with_and_without_training_sample(tmp_path, written):
    _, test, train, ev = written
    paths = plot_overtraining(tmp_path / "overtraining", ev, title=TITLE)
    assert [p.name for p in paths] == ["overtraining.png", "overtraining.pdf"]
    assert paths[0].read_bytes().startswith(b"\x89PNG") and paths[0].stat().st_size > 10_000
    # evaluate() without a training sample: no comparison, no K-S numbers, test only
    alone = evaluate(test.scores, test.labels, test.weights)
    assert not alone.has_training and alone.ks_signal is None
    assert [h.name for h in alone.histograms if "Train" in h.name or "training" in h.name] == []
    assert "no training sample" in alone.summary(TITLE)
    paths = plot_overtraining(tmp_path / "response", alone, title=TITLE)
    assert paths[1].read_bytes().startswith(b"%PDF")
