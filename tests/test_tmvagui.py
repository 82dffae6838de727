"""The output of ``tmva-lstm train`` holds every object each TMVAGui button reads, with
TMVA's names, classes and binning (checked with PyROOT, as TMVAGui's macros read them),
and TestTree/TrainTree carry the leaves a Factory writes for each way of declaring variables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import uproot

from tmva_lstm.workflow import train_on_files

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "time_data_t10_d30.root"
TINY = "Layout=LSTM|4,DENSE|4|TANH,LINEAR:MaxEpochs=2:BatchSize=50:RandomSeed=5"
TITLE = "LSTM"
JOB = "TMVAClassification"


def _root():
    return pytest.importorskip("ROOT", reason="PyROOT (pip install ROOT) is not importable")


@pytest.fixture(scope="module")
def tutorial_file(tmp_path_factory):
    """``tmva-lstm train`` on the tutorial sample (300 variables), run as a user runs it."""
    out = tmp_path_factory.mktemp("gui")
    cmd = [sys.executable, "-m", "tmva_lstm", "train", "--signal", f"{SAMPLE}:sgn",
           "--background", f"{SAMPLE}:bkg", "--layout", "per-step:vars_time{t}", "-o", TINY,
           "--output-dir", str(out), "--title", TITLE, "--n-train-signal", "300",
           "--n-train-background", "300"]  # fmt: skip
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    return out


def _get(f, path: str, cls: str):
    obj = f.Get(path)
    assert obj, f"{path} is missing"
    assert obj.ClassName() == cls, f"{path}: {obj.ClassName()} instead of {cls}"
    return obj


def _axis(h, axis="X"):
    a = getattr(h, f"Get{axis}axis")()
    return a.GetNbins(), a.GetXmin(), a.GetXmax()


def test_every_tmvagui_button_finds_its_objects(tutorial_file):
    ROOT = _root()
    path = tutorial_file / f"{JOB}.root"
    with uproot.open(path) as uf:
        train = uf["dataset/TrainTree"].arrays(library="np")
    x = np.concatenate([train[f"vars_time{t}"] for t in range(10)], axis=1).astype(np.float64)
    sig = train["classID"] == 0
    f = ROOT.TFile.Open(str(path))
    try:
        # TMVAGui lists InputVariables_* directories to create buttons (1a) and (2a)
        keys = [k.GetName() for k in f.Get("dataset").GetListOfKeys()]
        assert "InputVariables_Id" in keys
        # (1a) input variables: 40 bins over [max(min, mean - 8 rms), min(max, mean + 8 rms)]
        mean, rms = x.mean(axis=0), x.std(axis=0)
        lo = np.maximum(x.min(axis=0), mean - 8 * rms)
        hi = np.minimum(x.max(axis=0), mean + 8 * rms)
        hi = hi + (hi - lo) / 40
        for t, k in ((0, 0), (3, 17), (9, 29)):
            i = 30 * t + k
            for cls, n in (("Signal", sig.sum()), ("Background", (~sig).sum())):
                h = _get(f, f"dataset/InputVariables_Id/vars_time{t}[{k}]__{cls}_Id", "TH1F")
                assert h.GetTitle() == f"[{k}]"
                nb, a, b = _axis(h)
                assert nb == 40
                assert a == pytest.approx(lo[i], rel=1e-9) and b == pytest.approx(hi[i], rel=1e-9)
                assert h.GetEntries() == n
        names = [k.GetName() for k in f.Get("dataset/InputVariables_Id").GetListOfKeys()]
        assert len(names) == 600 and "CorrelationPlots" not in names  # 300 > 20: TMVA's rule
        # (3) correlation matrices: TH2F in %, truncated, labelled with the variable titles
        for name, title, mask in (("S", "signal", sig), ("B", "background", ~sig)):
            m = _get(f, f"dataset/CorrelationMatrix{name}", "TH2F")
            assert m.GetTitle() == f"Correlation Matrix ({title})"
            assert _axis(m, "X") == (300, 0.0, 300.0) and _axis(m, "Y") == (300, 0.0, 300.0)
            assert m.GetXaxis().GetBinLabel(31) == "[0]"
            c = np.corrcoef(x[mask][:, [0, 1, 45]], rowvar=False)
            assert m.GetBinContent(1, 1) == 100.0
            assert m.GetBinContent(2, 1) == pytest.approx(np.trunc(100 * c[0, 1]), abs=1)
            assert m.GetBinContent(46, 2) == pytest.approx(np.trunc(100 * c[1, 2]), abs=1)
            assert m.GetMinimum() == -100.0 and m.GetMaximum() == 100.0
        mdir = f"dataset/Method_PyLSTM/{TITLE}"
        # (4a, 4b) classifier output, test and training samples
        for s in ("S", "B", "Train_S", "Train_B"):
            assert _axis(_get(f, f"{mdir}/MVA_{TITLE}_{s}", "TH1D"))[0] == 40
        # (5) efficiencies, ROC, 1/eB
        for s in ("effS", "effB"):
            assert _axis(_get(f, f"{mdir}/MVA_{TITLE}_{s}", "TH1D"))[0] == 10000
        for s in ("rejBvsS", "invBeffvsSeff", "effBvsS"):
            assert _axis(_get(f, f"{mdir}/MVA_{TITLE}_{s}", "TH1D")) == (100, 0.0, 1.0)
        # (6) parallel coordinates: the TestTree's leaves
        tree = _get(f, "dataset/TestTree", "TTree")
        leaves = [lf.GetName() for lf in tree.GetListOfLeaves()]
        assert leaves == ["classID", "className", *[f"vars_time{t}" for t in range(10)],
                          "weight", TITLE]  # fmt: skip
        # (8) training history
        for key in ("trainingError", "valError"):
            h = _get(f, f"{mdir}/TrainingHistory_{TITLE}_{key}", "TH1D")
            assert _axis(h) == (2, 0.5, 2.5)
    finally:
        f.Close()


def test_train_writes_the_plots_and_the_same_numbers(tutorial_file):
    out = tutorial_file
    for stem in ("roc", "overtraining", "training_history", "input_variables"):
        assert (out / f"{stem}.png").read_bytes().startswith(b"\x89PNG"), stem
        assert (out / f"{stem}.pdf").read_bytes().startswith(b"%PDF"), stem
    text = (out / "summary.txt").read_text()
    assert "no scatter plots: 300 variables" in text
    with uproot.open(out / f"{JOB}.root") as f:
        t = f["dataset/TestTree"].arrays(library="np")
    from tmva_lstm.evaluate import roc_integral

    auc = roc_integral(t[TITLE], 1 - t["classID"], t["weight"])
    assert f"dataset       {TITLE}           : {auc:#1.3f}" in text


# ---- few variables: scatter and profile plots (button 2a) ---------------------------------


def _write_trees(path: Path, trees: dict[str, dict[str, object]]) -> Path:
    """TTrees (not RNTuples) written with uproot's mktree/extend."""
    with uproot.recreate(path) as f:
        for name, branches in trees.items():
            types = {
                b: v.type.content if isinstance(v, ak.Array) else (v.dtype, v.shape[1:])
                for b, v in branches.items()
            }
            f.mktree(name, types).extend(branches)
    return path


def _scalar_steps_file(path: Path, rng, n: int = 150, steps: int = 4) -> Path:
    trees = {
        name: {f"v{t}": (rng.normal(size=n) + shift).astype(np.float32) for t in range(steps)}
        for name, shift in (("sgn", 0.7), ("bkg", 0.0))
    }
    return _write_trees(path, trees)


def test_scatter_and_profile_plots_for_few_variables(tmp_path, rng):
    ROOT = _root()
    src = _scalar_steps_file(tmp_path / "few.root", rng)
    res = train_on_files({str(src): "sgn"}, {str(src): "bkg"}, layout="per-step:v{t}",
                         options=TINY, output_dir=tmp_path / "out", title=TITLE)  # fmt: skip
    f = ROOT.TFile.Open(str(res.files["output"]))
    try:
        d = "dataset/InputVariables_Id/CorrelationPlots"
        names = [k.GetName() for k in f.Get(d).GetListOfKeys()]
        assert len(names) == 4 * 3 // 2 * 2 * 2  # pairs x classes x (scat, prof)
        scat = _get(f, f"{d}/scat_v3_vs_v0_Signal_Id", "TH2F")
        assert scat.GetNbinsX() == 300 and scat.GetNbinsY() == 300
        assert scat.GetTitle() == "v3 versus v0 (Signal)_Id"
        prof = _get(f, f"{d}/prof_v3_vs_v0_Background_Id", "TProfile")
        assert prof.GetNbinsX() == 40
        h = _get(f, "dataset/InputVariables_Id/v2__Signal_Id", "TH1F")
        assert h.GetTitle() == "v2" and h.GetNbinsX() == 40
        # the profile's mean y per bin is what ROOT computes from the same events
        tree = f.Get("dataset/TrainTree")
        ref = ROOT.TProfile("ref", "", 40, prof.GetXaxis().GetXmin(), prof.GetXaxis().GetXmax())
        tree.Project("ref", "v3:v0", "weight*(classID==1)")
        for b in (5, 20, 33):
            assert prof.GetBinContent(b) == pytest.approx(ref.GetBinContent(b), rel=1e-5)
            assert prof.GetBinEntries(b) == pytest.approx(ref.GetBinEntries(b))
    finally:
        f.Close()


# ---- TestTree leaves for each way of declaring variables ----------------------------------


def _leaves(path: Path) -> dict[str, str]:
    with uproot.open(path) as f:
        tree = f["dataset/TestTree"]
        return {b.name: b.title for b in tree.branches}


def test_tree_leaves_per_step_arrays_and_scalars(tmp_path, rng):
    src = _scalar_steps_file(tmp_path / "s.root", rng, steps=3)
    res = train_on_files({str(src): "sgn"}, {str(src): "bkg"}, layout="per-step:v{t}",
                         options=TINY, output_dir=tmp_path / "o", title=TITLE)  # fmt: skip
    # AddVariable("v0") ... : one scalar leaf each
    assert _leaves(res.files["output"]) == {
        "classID": "classID/I", "className": "className/C", "v0": "v0/F", "v1": "v1/F",
        "v2": "v2/F", "weight": "weight/F", TITLE: f"{TITLE}/F",
    }  # fmt: skip


def test_tree_leaves_array_layout_is_one_flat_array(tmp_path, rng):
    n, T, F = 120, 3, 2
    path = tmp_path / "a.root"
    _write_trees(path, {
        name: {"x": (rng.normal(size=(n, T, F)) + shift).astype(np.float32)}
        for name, shift in (("sgn", 0.5), ("bkg", 0.0))
    })  # fmt: skip
    res = train_on_files({str(path): "sgn"}, {str(path): "bkg"}, layout="array:x",
                         options=TINY, output_dir=tmp_path / "o", title=TITLE)  # fmt: skip
    leaves = _leaves(res.files["output"])
    assert list(leaves) == ["classID", "className", "x", "weight", TITLE]
    assert leaves["x"] == "x[6]/F"  # AddVariablesArray("x", T*F): TMVA's arrays are 1-D
    with uproot.open(res.files["output"]) as f, uproot.open(path) as src:
        got = f["dataset/TrainTree"].arrays(["x", "classID"], library="np")
        sgn = src["sgn"]["x"].array(library="np").reshape(n, T * F)
    rows = {tuple(r) for r in sgn}
    assert all(tuple(r) in rows for r in got["x"][got["classID"] == 0])


def test_tree_leaves_jagged_layout_arrays_and_length_spectator(tmp_path, rng):
    n, M = 120, 4
    path = tmp_path / "j.root"
    trees = {}
    for name, shift in (("sgn", 0.5), ("bkg", 0.0)):
        counts = rng.integers(1, 7, n)
        pt = ak.unflatten((rng.normal(size=counts.sum()) + shift).astype(np.float32), counts)
        eta = ak.unflatten(rng.normal(size=counts.sum()).astype(np.float32), counts)
        trees[name] = {"trk_pt": pt, "trk_eta": eta}
    _write_trees(path, trees)
    res = train_on_files({str(path): "sgn"}, {str(path): "bkg"},
                         layout=f"jagged:trk_pt,trk_eta:max={M}", options=TINY,
                         output_dir=tmp_path / "o", title=TITLE)  # fmt: skip
    leaves = _leaves(res.files["output"])
    # AddVariablesArray("trk_pt", M), AddVariablesArray("trk_eta", M), AddSpectator("length")
    assert list(leaves) == ["classID", "className", "trk_pt", "trk_eta", "length", "weight", TITLE]
    assert leaves["trk_pt"] == f"trk_pt[{M}]/F" and leaves["length"] == "length/F"
    with uproot.open(res.files["output"]) as f:
        names = f["dataset/InputVariables_Id"].keys(cycle=False)
    assert f"trk_eta[{M - 1}]__Background_Id" in names
    assert not any(k.startswith("length") for k in names)  # a spectator is no input variable


def test_evaluate_draws_no_overtraining_comparison(tutorial_file, tmp_path):
    model = tutorial_file / "dataset" / "weights" / f"{JOB}_{TITLE}.weights.xml"
    out = tmp_path / "ev"
    cmd = [sys.executable, "-m", "tmva_lstm", "evaluate", str(model), "--signal", f"{SAMPLE}:sgn",
           "--background", f"{SAMPLE}:bkg", "--output-dir", str(out)]  # fmt: skip
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    written = sorted(p.name for p in out.iterdir())
    assert written == ["response.pdf", "response.png", "roc.pdf", "roc.png", "summary.txt"]
    text = (out / "summary.txt").read_text()
    assert "no overtraining check" in text and "(from training sample)" not in text
    assert "Kolmogorov-Smirnov test: not available" in text


def test_create_mva_pdfs_writes_probability_rarity_and_pdfs(tmp_path, rng):
    ROOT = _root()
    src = _scalar_steps_file(tmp_path / "p.root", rng, n=400, steps=2)
    res = train_on_files({str(src): "sgn"}, {str(src): "bkg"}, layout="per-step:v{t}",
                         options=TINY + ":CreateMVAPdfs", output_dir=tmp_path / "o",
                         title=TITLE)  # fmt: skip
    assert "CreateMVAPdfs: PDFs from" in res.files["summary"].read_text()
    f = ROOT.TFile.Open(str(res.files["output"]))
    try:
        mdir = f"dataset/Method_PyLSTM/{TITLE}"
        # (4c, 4d) probability and rarity of the test sample: 40 bins over [0, 1], normalised
        for s in ("Proba_S", "Proba_B", "Rarity_S", "Rarity_B"):
            h = _get(f, f"{mdir}/MVA_{TITLE}_{s}", "TH1F")
            assert _axis(h) == (40, 0.0, 1.0)
            assert h.Integral("width") == pytest.approx(1.0, rel=1e-5)
        # the background rarity of background events is flat: mean about 1/2
        assert _get(f, f"{mdir}/MVA_{TITLE}_Rarity_B", "TH1F").GetMean() == pytest.approx(
            0.5, abs=0.08
        )
        # signal events are more signal-like than background ones
        p_s = _get(f, f"{mdir}/MVA_{TITLE}_Proba_S", "TH1F").GetMean()
        assert p_s > _get(f, f"{mdir}/MVA_{TITLE}_Proba_B", "TH1F").GetMean()
        # (7) probas(): "<Type>_tr_S" with "_smoothed_hist_from_spline<i>" beside it
        tr = _get(f, f"{mdir}/PyLSTM_tr_S", "TH1F")
        n_train = int(f.Get("dataset/TrainTree").GetEntries())
        assert tr.GetNbinsX() == n_train // 50  # NAvEvtPerBin=50 of the training events
        pdf = _get(f, f"{mdir}/PyLSTM_tr_B_smoothed_hist_from_spline2", "TH1F")
        assert pdf.GetNbinsX() == 10000 and pdf.Integral("width") == pytest.approx(1, rel=1e-4)
        for name in ("PyLSTM_tr_B", "PyLSTM_tr_S_original", "PyLSTM_tr_S_smoothed"):
            _get(f, f"{mdir}/{name}", "TH1F")
        tree = f.Get("dataset/TestTree")
        leaves = [lf.GetName() for lf in tree.GetListOfLeaves()]
        assert leaves[-2:] == [TITLE, f"prob_{TITLE}"]
    finally:
        f.Close()


def test_spline2_is_exact_for_a_parabola():
    from tmva_lstm.evaluation.pdfs import spline2

    gx = np.linspace(0.0, 1.0, 11)
    x = np.linspace(-0.05, 1.05, 57)
    y = spline2(gx, 2 * gx**2 - gx + 0.5, x)
    np.testing.assert_allclose(y, 2 * x**2 - x + 0.5, rtol=3e-5)  # Float_t arithmetic
