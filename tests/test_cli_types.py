"""Multiclass and Regression through the ``tmva-lstm`` command, run as a subprocess, on the
known-answer samples of ``tests/sequences.py`` written as ntuples."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import uproot

import tmva_lstm as tl

sys.path.insert(0, str(Path(__file__).parent))
from sequences import CLASS_NAMES, T, regression_sample, three_class_sample  # noqa: E402

MULTICLASS = (
    "ErrorStrategy=MUTUALEXCLUSIVE:WeightInitialization=XAVIERUNIFORM:"
    "Layout=LSTM|8,DENSE|32|TANH,LINEAR:MaxEpochs=20:BatchSize=32:LearningRate=3e-3:RandomSeed=1"
)


def _write(path: Path, trees: dict[str, dict[str, np.ndarray]]) -> None:
    with uproot.recreate(path) as f:
        for name, branches in trees.items():
            f.mktree(name, {k: (v.dtype, v.shape[1:]) for k, v in branches.items()})
            f[name].extend(branches)


def _branches(X: np.ndarray) -> dict[str, np.ndarray]:
    return {f"x{t}": np.ascontiguousarray(X[:, t, :]) for t in range(T)}


def _assert_figures(out: Path, *names: str, panels: int = 1) -> None:
    """Each ``<name>.png`` is a decodable image at least ``panels`` x 400 pixels wide (one
    panel per class or target), each ``<name>.pdf`` a PDF."""
    from matplotlib.image import imread

    for name in names:
        height, width = imread(out / f"{name}.png").shape[:2]
        assert width >= 400 * min(panels, 3) and height >= 300, (name, width, height)
        assert (out / f"{name}.pdf").read_bytes()[:5] == b"%PDF-", name


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tmva_lstm", *args], cwd=cwd, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip


def _root_bins(x: np.ndarray, lo: float, hi: float, n: int) -> np.ndarray:
    """TAxis::FindBin: 0 underflow, 1..n, n + 1 overflow (x == hi overflows)."""
    b = 1 + np.floor(n * (x.astype(np.float64) - lo) / (hi - lo)).astype(np.int64)
    return np.where(x < lo, 0, np.where(x >= hi, n + 1, b))


def _norm_prob_hist(p: np.ndarray, w: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """A ``_prob_for_`` TH1F's contents: weighted, scaled to unit area (Tools::NormHist)."""
    counts, _ = np.histogram(p, bins=edges, weights=w)
    return counts / (counts.sum() * np.diff(edges))


@pytest.fixture(scope="module")
def class_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("classes")
    X, y = three_class_sample(2000, 0)  # 2000 per class: half trains (TMVA's default split)
    for k, name in enumerate(CLASS_NAMES):
        _write(d / f"{name}.root", {"t": _branches(X[y == k])})
    return d


@pytest.fixture(scope="module")
def multiclass_job(class_files, tmp_path_factory):
    out = tmp_path_factory.mktemp("job")
    sources = [f"--class={n}={class_files / n}.root:t" for n in CLASS_NAMES]
    run = _cli("train", *sources, "--layout", "per-step:x{t}", "--options", MULTICLASS,
               "--output-dir", str(out / "out"), cwd=out)  # fmt: skip
    assert run.returncode == 0, run.stderr
    return out, run


def test_multiclass_job_through_the_command(class_files, multiclass_job):
    """3 classes by name; the 1-vs-rest table, the model file, and a class-probability apply.

    The quality floor of the Python API test (accuracy 0.645, PyTorch's worst seed) is not
    repeated here: this job trains on other events of the same size. Its floor is 0.62 on a
    fresh test sample (chance 0.333, Bayes-optimal 0.70).
    """
    tmp_path, run = multiclass_job
    assert "1-vs-rest performance metrics per class" in run.stdout
    rows = {
        m[0]: float(m[1]) for m in re.findall(r":\s+(\w+)\s+(\d\.\d{3}) \(\d\.\d{3}\)", run.stdout)
    }
    assert set(rows) == set(CLASS_NAMES) and all(v > 0.6 for v in rows.values()), rows
    model = tl.load_model(tmp_path / "out/dataset/weights/TMVAMulticlass_PyLSTM.weights.xml")
    assert model.analysis_type == "MULTICLASS" and model.class_names == CLASS_NAMES
    Xt, yt = three_class_sample(1000, 1000)
    accuracy = (model.predict(Xt).argmax(axis=1) == yt).mean()
    assert accuracy >= 0.62, accuracy
    assert (tmp_path / "out/summary.txt").read_text().count("0.") >= 12
    _assert_figures(tmp_path / "out", "class_outputs", "roc_1vsrest", "roc_1vs1", panels=3)
    _assert_figures(tmp_path / "out", "input_variables", "training_history")
    with uproot.open(tmp_path / "out/TMVAMulticlass.root") as f:
        test = f["dataset/TestTree"].arrays(library="np")
        method = f["dataset/Method_PyLSTM/PyLSTM"]
        h = method["MVA_PyLSTM_Test_white_prob_for_smooth"]
        assert (h.values() * np.diff(h.axis().edges())).sum() == pytest.approx(1.0)
        # Test, and Train twice (cycle 1 from the test events, cycle 2 from the training ones)
        assert len([k for k in method.keys() if "_prob_for_" in k]) == 3 * 3 * 3
    probs = np.stack([test[f"PyLSTM.{n}"] for n in CLASS_NAMES], axis=1)
    assert set(test["className"]) == set(CLASS_NAMES) and len(probs) == 3000
    X_test = np.stack([test[f"x{t}"] for t in range(T)], axis=1)
    np.testing.assert_allclose(probs, model.predict(X_test), rtol=1e-5, atol=1e-6)

    run = _cli("apply", str(tmp_path / "out/dataset/weights/TMVAMulticlass_PyLSTM.weights.xml"),
               f"{class_files / 'white.root'}:t", "--output", str(tmp_path / "scored.root"),
               cwd=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stderr
    with uproot.open(tmp_path / "scored.root") as f:
        probs = np.stack([f["t"][f"PyLSTM_{n}"].array(library="np") for n in CLASS_NAMES], 1)
    X, y = three_class_sample(2000, 0)
    np.testing.assert_allclose(probs, model.predict(X[y == 2]), rtol=1e-6, atol=1e-7)


def test_regression_job_through_the_command(tmp_path):
    """Targets known from the sequence: a branch ``truth`` = 10 x0 + 5 at the last step, and
    an expression over the branches, x0 at the last two steps summed; apply writes both."""
    X, _ = regression_sample(2000, 5)
    truth = X[:, -1, 0].astype(np.float64) * 10 + 5
    _write(tmp_path / "calib.root", {"t": _branches(X) | {"truth": truth}})
    run = _cli("train", "--input", f"{tmp_path / 'calib.root'}:t", "--target", "truth",
               "--target", "x8[:,0]+x9[:,0]", "--layout", "per-step:x{t}", "--options",
               "VarTransform=N:WeightInitialization=XAVIERUNIFORM:"
               "Layout=LSTM|8,DENSE|32|TANH,LINEAR:MaxEpochs=20:BatchSize=32:LearningRate=3e-3:"
               "RandomSeed=1", "--output-dir", str(tmp_path / "out"), cwd=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "Evaluation results ranked by smallest RMS on test sample:" in run.stdout
    test_block = run.stdout.split("on training sample")[0]
    rms = dict(re.findall(r"PyLSTM:(\S+?)\s*:\s+\S+\s+\S+\s+(\S+)", test_block))
    assert set(rms) == {"truth", "x8[:,0]+x9[:,0]"}, run.stdout
    assert float(rms["truth"]) < 0.2 * truth.std(), rms  # the target's spread is 10
    assert float(rms["x8[:,0]+x9[:,0]"]) < 0.3 * np.sqrt(2), rms
    with uproot.open(tmp_path / "out/TMVARegression.root") as f:
        test = f["dataset/TestTree"].arrays(library="np")
        method = f["dataset/Method_PyLSTM/PyLSTM"]
        quad = method["MVA_PyLSTMtest_Quadr_Deviation_target_0_"]
        assert quad.values().sum() == pytest.approx(test["weight"].sum(), rel=1e-5)
        n_var = sum(k.startswith("MVA_PyLSTMtest_reg_var") for k in method.keys(cycle=False))
        assert n_var == T * 2 * 2  # every (time step, feature) variable, for both targets
    assert {"truth", "x8___0__x9___0_", "weight", "PyLSTM.truth", "PyLSTM.x8___0__x9___0_"} <= set(
        test
    )
    assert test["PyLSTM.truth"].shape == (1000,)
    _assert_figures(tmp_path / "out", "deviation_target_test", "deviation_target_training",
                    "average_deviations", panels=2)  # fmt: skip
    _assert_figures(tmp_path / "out", "input_variables", "training_history")
    import ROOT

    f = ROOT.TFile.Open(str(tmp_path / "out/TMVARegression.root"))
    try:  # ResultsRegression's classes and binning; the output leaves as TTree::Draw sees them
        d = f.Get("dataset/Method_PyLSTM/PyLSTM")
        h2 = d.Get("MVA_PyLSTMtrain_reg_tgt0_rtgt1")
        assert h2.ClassName() == "TH2F" and (h2.GetNbinsX(), h2.GetNbinsY()) == (50, 50)
        assert h2.GetEntries() == 1000 and "_{regression} - " in h2.GetYaxis().GetTitle()
        q = d.Get("MVA_PyLSTMtest_Quadr_Dev_best90perc_target_0_")
        assert q.ClassName() == "TH1F" and q.GetNbinsX() == 500
        assert q.GetXaxis().GetTitle() == "Quadratic Deviation"
        corr = f.Get("dataset/CorrelationMatrix")
        assert corr.ClassName() == "TH2F" and corr.GetTitle() == "Correlation Matrix"
        target = f.Get("dataset/InputVariables_Id/truth__Regression_Id")
        assert target.ClassName() == "TH1F" and target.GetEntries() == 1000
        assert f.Get("dataset/InputVariables_Id/x9[1]__Regression_Id").GetNbinsX() == 40
        # 20 variables and 2 targets: over TMVA's limit of 20, which counts the targets
        assert not f.Get("dataset/InputVariables_Id/CorrelationPlots")
        tree = f.Get("dataset/TestTree")
        n = tree.Draw("PyLSTM.truth - truth", "", "goff")
        dev = np.array([tree.GetV1()[i] for i in range(n)])
        np.testing.assert_allclose(dev, test["PyLSTM.truth"] - test["truth"], atol=1e-5)
    finally:
        f.Close()
    model_file = tmp_path / "out/dataset/weights/TMVARegression_PyLSTM.weights.xml"
    model = tl.load_model(model_file)
    assert model.target_names == ["truth", "x8[:,0]+x9[:,0]"]
    run = _cli("apply", str(model_file), f"{tmp_path / 'calib.root'}:t", "--output",
               str(tmp_path / "scored.root"), "--friend", cwd=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stderr
    with uproot.open(tmp_path / "scored.root") as f:
        assert set(f["t_PyLSTM"].keys()) == {"PyLSTM_truth", "PyLSTM_x8___0__x9___0_"}
        got = f["t_PyLSTM"]["PyLSTM_truth"].array(library="np")
    np.testing.assert_allclose(got, model.predict(X)[:, 0], rtol=1e-5, atol=1e-4)


def test_regression_correlation_plots_pair_variables_and_targets(tmp_path):
    """3 steps x 2 features and 2 targets (8 columns, within TMVA's 20): the scatter and
    profile plots of every variable pair and of the target pair, class ``Regression``; none
    of a target against a variable (TMVA books them but its write loop never reaches them)."""
    X, targets = regression_sample(400, 7)
    branches = {f"x{t}": np.ascontiguousarray(X[:, t, :]) for t in range(3)}
    _write(
        tmp_path / "calib.root", {"t": branches | {"truth": targets[:, 0], "aux": targets[:, 1]}}
    )
    run = _cli("train", "--input", f"{tmp_path / 'calib.root'}:t", "--target", "truth",
               "--target", "aux", "--layout", "per-step:x{t}", "--options",
               "Layout=LSTM|4,LINEAR:MaxEpochs=1:BatchSize=50:RandomSeed=1:Silent",
               "--output-dir", str(tmp_path / "out"), cwd=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stderr
    path = tmp_path / "out/TMVARegression.root"
    with uproot.open(path) as f:
        train = f["dataset/TrainTree"].arrays(library="np")
        plots = f["dataset/InputVariables_Id/CorrelationPlots"]
        names = plots.keys(cycle=False)
        scat = plots["scat_aux_vs_truth_Regression_Id"]
        got = scat.values(flow=True)
    variables = [f"x{t}[{k}]" for t in range(3) for k in range(2)]
    pairs = [(a, b) for i, a in enumerate(variables) for b in variables[i + 1 :]]
    pairs.append(("truth", "aux"))  # the targets after the variables, as TMVA orders them
    assert names == [f"{kind}_{b}_vs_{a}_Regression_Id" for a, b in pairs
                     for kind in ("scat", "prof")]  # fmt: skip
    t, a = train["truth"], train["aux"]
    bx = _root_bins(t, float(t.min()), float(t.max()), 300)
    by = _root_bins(a, float(a.min()), float(a.max()), 300)
    expected = np.zeros((302, 302))
    np.add.at(expected, (bx, by), train["weight"].astype(np.float64))
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert got[-1].sum() > 0  # the largest truth lands in the overflow, as in ROOT

    import ROOT

    f = ROOT.TFile.Open(str(path))
    try:
        prof = f.Get("dataset/InputVariables_Id/CorrelationPlots/prof_x2[1]_vs_x0[0]_Regression_Id")
        assert prof.ClassName() == "TProfile" and prof.GetNbinsX() == 40
        assert prof.GetTitle() == "profile [1] versus [0] (Regression)_Id"
        x, y = train["x0"][:, 0], train["x2"][:, 1]
        b = _root_bins(x, float(x.min()), float(x.max()), 40)
        w = train["weight"].astype(np.float64)
        for k in (18, 22):  # central bins: the weighted mean of x2[1] in x0[0]'s bin k
            mean = (w[b == k] * y[b == k]).sum() / w[b == k].sum()
            assert prof.GetBinContent(k) == pytest.approx(mean, rel=1e-5)
    finally:
        f.Close()


def test_evaluate_a_multiclass_model_on_named_classes(class_files, multiclass_job):
    from tmva_lstm.evaluation.analysis_types import evaluate_multiclass

    tmp_path, _ = multiclass_job
    model_file = tmp_path / "out/dataset/weights/TMVAMulticlass_PyLSTM.weights.xml"
    sources = [f"--class={n}={class_files / n}.root:t" for n in CLASS_NAMES]
    run = _cli("evaluate", str(model_file), *sources, "--output-dir", "eval", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    _assert_figures(tmp_path / "eval", "class_outputs", "roc_1vsrest", "roc_1vs1", panels=3)
    assert not (tmp_path / "eval/training_history.png").exists()  # no training here
    assert (tmp_path / "eval/summary.txt").read_text() == run.stdout
    X, y = three_class_sample(2000, 0)
    order = np.argsort(y, kind="stable")  # the files hold the classes in turn
    p = tl.load_model(model_file).predict(X[order])
    expected = evaluate_multiclass(p, y[order], None, p, y[order], None, CLASS_NAMES)
    assert expected.summary("PyLSTM") == run.stdout
    wrong = _cli("evaluate", str(model_file), *sources[::-1], cwd=tmp_path)
    assert wrong.returncode == 2 and "in this order" in wrong.stderr


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--class", "A=x.root:t"], "at least two classes"),
        (["--target", "E"], "--input"),
        (["--class", "A"], "NAME=FILE:TREE"),
        (["--class", "A=a.root:t", "--class", "B=b.root:t", "--target", "E"], "exclude"),
        ([], "--signal"),
    ],
)
def test_typed_train_mistakes_are_one_line(args, fragment, tmp_path):
    run = _cli("train", *args, "--layout", "per-step:x{t}", cwd=tmp_path)
    assert run.returncode == 2
    assert fragment in run.stderr and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_multiclass_output_file_as_the_factory_writes_it(multiclass_job):
    """Names, ROOT classes and values of the Multiclass objects (ResultsMulticlass,
    DataSet::GetTree), read back with uproot and with PyROOT; the confusion matrices printed."""
    from tmva_lstm.evaluation.analysis_types import confusion_matrix
    from tmva_lstm.evaluation.roc import roc_curve

    tmp_path, run = multiclass_job
    path = tmp_path / "out/TMVAMulticlass.root"
    assert "Confusion matrices for all methods" in run.stdout
    assert run.stdout.count("(Signal Efficiency for Background Efficiency 0.") == 3
    with uproot.open(path) as f:
        method = f["dataset/Method_PyLSTM/PyLSTM"]
        classes = method.classnames(cycle=False)
        test = f["dataset/TestTree"].arrays(library="np")
        tree_types = {b.name: b.typename for b in f["dataset/TestTree"].branches}
        graph = method["MVA_PyLSTM_Test_rejBvsS_smooth"]
        gx, gy = graph.values()
    probs = np.stack([test[f"PyLSTM.{n}"] for n in CLASS_NAMES], axis=1)
    y, w = test["classID"], test["weight"]
    for sample in ("Test", "Train"):
        for c in CLASS_NAMES:
            assert classes[f"MVA_PyLSTM_{sample}_rejBvsS_{c}"] == "TGraph"
            for d in CLASS_NAMES:
                assert classes[f"MVA_PyLSTM_{sample}_{c}_prob_for_{d}"] == "TH1F"
                if c != d:
                    assert classes[f"MVA_PyLSTM_{sample}_1v1rejBvsS_{c}_vs_{d}"] == "TGraph"
    assert {tree_types[f"PyLSTM.{n}"] for n in CLASS_NAMES} == {"float"}
    assert tree_types["classID"] == "int32_t"
    k = CLASS_NAMES.index("smooth")
    sens, spec = roc_curve(probs[:, k], (y == k).astype(int), w)
    np.testing.assert_allclose(gx, sens)
    np.testing.assert_allclose(gy, spec)
    # the printed 0.10 matrix, row smooth, column white: the test value first, then train's
    with uproot.open(path) as f:
        train = f["dataset/TrainTree"].arrays(library="np")
    r, c = CLASS_NAMES.index("smooth"), CLASS_NAMES.index("white")
    cells = []
    for t in (test, train):
        p = np.stack([t[f"PyLSTM.{n}"] for n in CLASS_NAMES], axis=1).astype(np.float64)
        cells.append(confusion_matrix(p, t["classID"], t["weight"].astype(np.float64), 0.10))
    block = run.stdout.split("Background Efficiency 0.10%)")[1].split("(Signal")[0]
    row = next(line for line in block.splitlines() if line[27:].startswith(" smooth "))
    assert f"{cells[0][r, c]:<5.3f} ({cells[1][r, c]:<5.3f})" in row, row

    with uproot.open(path) as f:  # Factory::WriteDataInformation, from the training events
        top = f["dataset"].classnames(cycle=False, recursive=False)
        inputs = f["dataset/InputVariables_Id"]
        h = inputs["x3[1]__alternating_Id"]
        assert inputs.classnames(cycle=False)["x0[0]__white_Id"] == "TH1F"
        assert h.member("fEntries") == (train["classID"] == 1).sum()
        corr = f["dataset/CorrelationMatrixwhite"]
        assert corr.member("fTitle") == "Correlation Matrix (white)"
        assert corr.values().shape == (2 * T, 2 * T) and corr.values()[0, 0] == 100
    assert {f"CorrelationMatrix{n}" for n in CLASS_NAMES} <= {k for k, v in top.items()
                                                              if v == "TH2F"}  # fmt: skip
    # PlotVariables' scatter and profile plots: 20 variables, TMVA's limit; pair, then class
    x, yv = train["x2"][:, 0], train["x3"][:, 1]
    white = train["classID"] == CLASS_NAMES.index("white")
    xr = (float(x.min()), float(x.max()))
    yr = (float(yv.min()), float(yv.max()))
    bx, by = _root_bins(x[white], *xr, 300), _root_bins(yv[white], *yr, 300)
    ww = train["weight"][white].astype(np.float64)
    expected = np.zeros((302, 302))
    np.add.at(expected, (bx, by), ww)
    prof_bins = _root_bins(x[white], *xr, 40)
    pbin = 17  # a profile bin: the weighted mean of x3[1] over the events in x2[0]'s bin
    in_bin = prof_bins == pbin
    mean_bin = (ww[in_bin] * yv[white][in_bin]).sum() / ww[in_bin].sum()
    with uproot.open(path) as f:
        plots = f["dataset/InputVariables_Id/CorrelationPlots"]
        names = plots.keys(cycle=False)
        scat = plots["scat_x3[1]_vs_x2[0]_white_Id"]
        np.testing.assert_allclose(scat.values(flow=True), expected, rtol=1e-6)
        assert scat.axis(0).edges()[[0, -1]].tolist() == pytest.approx(xr)
        prof = plots["prof_x3[1]_vs_x2[0]_white_Id"]
        assert prof.values()[pbin - 1] == pytest.approx(mean_bin, rel=1e-5)
        method = f["dataset/Method_PyLSTM/PyLSTM"]
        # the _Train objects twice: cycle 1 from the test events, cycle 2 from the training
        train_probs = np.stack([train[f"PyLSTM.{n}"] for n in CLASS_NAMES], axis=1)
        for cycle, (p, t) in {1: (probs, test), 2: (train_probs, train)}.items():
            h = method[f"MVA_PyLSTM_Train_smooth_prob_for_white;{cycle}"]
            rows = t["classID"] == CLASS_NAMES.index("white")
            want = _norm_prob_hist(p[rows, k], t["weight"][rows], h.axis().edges())
            np.testing.assert_allclose(h.values(), want, rtol=1e-5, atol=1e-9)
        g1 = method["MVA_PyLSTM_Train_rejBvsS_smooth;1"]  # the test events' curve
        np.testing.assert_allclose(g1.values()[1], spec)
        assert not np.array_equal(method["MVA_PyLSTM_Train_rejBvsS_smooth;2"].values()[1], spec)
    assert len(names) == 20 * 19 // 2 * 3 * 2
    assert names[:4] == [f"{kind}_x0[1]_vs_x0[0]_{c}_Id" for c in CLASS_NAMES[:2]
                         for kind in ("scat", "prof")]  # fmt: skip

    import ROOT

    f = ROOT.TFile.Open(str(path))
    try:
        d = f.Get("dataset/Method_PyLSTM/PyLSTM")
        h = d.Get("MVA_PyLSTM_Test_smooth_prob_for_white")
        assert h.ClassName() == "TH1F" and h.GetNbinsX() == 40
        assert h.GetXaxis().GetXmin() == pytest.approx(-0.0002)
        assert h.Integral("width") == pytest.approx(1.0, rel=1e-5)
        g = d.Get("MVA_PyLSTM_Test_rejBvsS_smooth")
        assert g.ClassName() == "TGraph" and g.GetTitle() == "MVA_PyLSTM_Test_smooth"
        assert g.GetN() == len(sens) and g.GetY()[g.GetN() // 2] == pytest.approx(
            spec[len(spec) // 2]
        )
        p1, p2, latest = (d.Get(f"MVA_PyLSTM_Train_rejBvsS_smooth{c}") for c in (";1", ";2", ""))
        mid = p1.GetN() // 2  # the test events' curve in cycle 1; Get without a cycle gives 2
        assert p1.GetY()[mid] == pytest.approx(spec[len(spec) // 2])
        assert latest.GetY()[mid] == p2.GetY()[mid] != p1.GetY()[mid]
        prof = f.Get("dataset/InputVariables_Id/CorrelationPlots/prof_x3[1]_vs_x2[0]_white_Id")
        assert prof.ClassName() == "TProfile" and prof.GetNbinsX() == 40
        assert prof.GetBinContent(pbin) == pytest.approx(mean_bin, rel=1e-5)
        assert prof.GetTitle() == "profile [1] versus [0] (white)_Id"
        scat = f.Get("dataset/InputVariables_Id/CorrelationPlots/scat_x3[1]_vs_x2[0]_white_Id")
        assert scat.ClassName() == "TH2F" and scat.GetNbinsY() == 300
        assert scat.Integral() == pytest.approx(expected[1:-1, 1:-1].sum(), rel=1e-6)
        tree = f.Get("dataset/TestTree")
        n = tree.Draw("PyLSTM.smooth", "classID == 1", "goff")
        got = np.array([tree.GetV1()[i] for i in range(n)])
        np.testing.assert_allclose(got, probs[y == 1, k], rtol=1e-6)
    finally:
        f.Close()
