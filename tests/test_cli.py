"""End-to-end tests of the ``tmva-lstm`` command (run in-process and as a subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import uproot

from tmva_lstm.cli import main
from tmva_lstm.model import Model

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "time_data_t10_d30.root"
SMALL = "Layout=LSTM|6,DENSE|8|TANH,LINEAR:MaxEpochs=2:BatchSize=50:RandomSeed=3"


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--output-dir", str(out), "--epochs", "2", "--data", str(SAMPLE)]) == 0
    return out


def test_demo_writes_tmva_outputs(demo_dir, capsys):
    files = {p.relative_to(demo_dir).as_posix() for p in demo_dir.rglob("*") if p.is_file()}
    assert {
        "TMVA_LSTM_Classification.root",
        "dataset/weights/TMVA_LSTM_Classification_PyLSTM.weights.xml",
        "dataset/weights/TMVA_LSTM_Classification_PyLSTM.checkpoint.xml",
        "roc.png",
        "roc.pdf",
        "summary.txt",
    } <= files
    with uproot.open(demo_dir / "TMVA_LSTM_Classification.root") as f:
        test, train = f["dataset/TestTree"], f["dataset/TrainTree"]
        assert (test.num_entries, train.num_entries) == (800, 3200)  # the tutorial's split
        assert {"classID", "className", "weight", "PyLSTM", "vars_time0"} <= set(test.keys())
        assert "dataset/Method_PyLSTM/PyLSTM/MVA_PyLSTM_rejBvsS" in [
            k.split(";")[0] for k in f.keys()
        ]
    model = Model.load(demo_dir / "dataset/weights/TMVA_LSTM_Classification_PyLSTM.weights.xml")
    assert (
        model.network.to_layout() == "LSTM|10|30|10|0|1,RESHAPE|FLAT,DENSE|64|TANH,DENSE|1|LINEAR"
    )
    assert model.data_layout == "per-step:vars_time{t}"
    assert "ROC-integ" in (demo_dir / "summary.txt").read_text()


def test_train_evaluate_apply(tmp_path, capsys):
    src = [f"{SAMPLE}:sgn", "--background", f"{SAMPLE}:bkg"]
    out = tmp_path / "run"
    rc = main(["train", "--signal", *src, "--layout", "per-step:vars_time{t}", "-o", SMALL,
               "--output-dir", str(out), "--title", "LSTM", "--n-train-signal", "500",
               "--n-train-background", "500"])  # fmt: skip
    assert rc == 0
    printed = capsys.readouterr().out
    assert "ROC integral (TMVA)" in printed
    model_path = out / "dataset/weights/TMVAClassification_LSTM.weights.xml"
    model = Model.load(model_path)

    assert main(["evaluate", str(model_path), "--signal", *src]) == 0
    assert "ROC-integ" in capsys.readouterr().out

    # apply: a copy with the score branch (streamed in small chunks) equals direct scoring
    copy, friend = tmp_path / "scored.root", tmp_path / "friend.root"
    assert (
        main(
            ["apply", str(model_path), f"{SAMPLE}:sgn", "--output", str(copy), "--step-size", "300"]
        )
        == 0
    )
    assert main(["apply", str(model_path), f"{SAMPLE}:sgn", "--output", str(friend), "--friend",
                 "--branch", "lstm_score"]) == 0  # fmt: skip
    with uproot.open(SAMPLE) as f:
        X = np.stack([f["sgn"][f"vars_time{t}"].array(library="np") for t in range(10)], axis=1)
    expected = model.predict(X).astype(np.float32)
    with uproot.open(copy) as f:
        tree = f["sgn"]
        assert tree.num_entries == 2000 and "vars_time9" in tree.keys()
        # the score branch is named after the model's title; ranges are whole batches of 4096
        # entries whatever the step size, so the 2000 events are one batch, as in predict(X)
        np.testing.assert_array_equal(tree["LSTM"].array(library="np"), expected)
        np.testing.assert_array_equal(tree["vars_time3"].array(library="np"), X[:, 3])
    with uproot.open(friend) as f:
        assert f["sgn_lstm_score"].keys() == ["lstm_score"]
        friend_scores = f["sgn_lstm_score"]["lstm_score"].array(library="np")
        np.testing.assert_allclose(friend_scores, expected, rtol=1e-5, atol=1e-6)


def test_resume_from_cli(tmp_path):
    args = ["train", "--signal", f"{SAMPLE}:sgn", "--background", f"{SAMPLE}:bkg", "--layout",
            "per-step:vars_time{t}", "-o", SMALL, "--output-dir", str(tmp_path),
            "--n-train-signal", "300", "--n-train-background", "300"]  # fmt: skip
    assert main(args) == 0
    first = Model.load(tmp_path / "dataset/weights/TMVAClassification_PyLSTM.weights.xml")
    assert main([*args, "--resume"]) == 0  # the checkpoint says finished: same weights
    again = Model.load(tmp_path / "dataset/weights/TMVAClassification_PyLSTM.weights.xml")
    assert np.array_equal(first.params["lstm_0"]["W"], again.params["lstm_0"]["W"])


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["train", "--signal", "missing.root:sgn", "--background", "missing.root:bkg",
          "--layout", "per-step:x{t}"], "missing.root"),
        (["train", "--signal", f"{SAMPLE}:sgn", "--background", f"{SAMPLE}:bkg",
          "--layout", "per-step:vars_tim{t}"], "did you mean 'vars_time0'"),
        (["train", "--signal", f"{SAMPLE}:sgn", "--background", f"{SAMPLE}:bkg",
          "--layout", "per-step:vars_time{t}", "-o", "Optimiser=ADAM"], "did you mean 'Optimizer'"),
        (["train", "--signal", f"{SAMPLE}:sgn", "--background", f"{SAMPLE}:bkg",
          "--layout", "per-step:vars_time{t}", "-o", "InputLayout=5|30"], "InputLayout=5|30"),
        (["evaluate", "no_model.xml", "--signal", f"{SAMPLE}:sgn"], "does not exist"),
        (["trian"], "invalid choice: 'trian'"),
        (["train", "--signal", f"{SAMPLE}:sgn"], "required: --layout"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_one_line(args, fragment, capsys):
    try:
        rc = main(args)
    except SystemExit as exit_info:  # argparse's own errors
        rc = exit_info.code
    assert rc == 2
    err = capsys.readouterr().err
    assert fragment in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("command", ["train", "evaluate", "apply", "export-onnx", "demo"])
def test_every_command_has_help_with_an_example(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert "example:" in capsys.readouterr().out


def test_console_script_runs_as_a_process(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "tmva_lstm", "train", "--signal", "nope.root:t", "--background",
         "nope.root:t", "--layout", "per-step:v{t}"],
        capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.startswith("tmva-lstm: error:") and "Traceback" not in proc.stderr


def test_export_onnx_command(demo_dir, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    model_path = demo_dir / "dataset/weights/TMVA_LSTM_Classification_PyLSTM.weights.xml"
    out = tmp_path / "lstm_model.onnx"
    assert main(["export-onnx", str(model_path), "--output", str(out), "--batch-size", "4"]) == 0
    with uproot.open(SAMPLE) as f:
        X = np.stack(
            [f["bkg"][f"vars_time{t}"].array(library="np", entry_stop=4) for t in range(10)], 1
        )
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    (score,) = session.run(["score"], {"x": X.astype(np.float32)})
    np.testing.assert_allclose(score[:, 0], Model.load(model_path).predict(X), atol=1e-5)


def test_out_of_core_training_matches_in_memory(tmp_path):
    """--memmap keeps the inputs in OUTPUT_DIR/inputs.npy; training reads them by index."""
    from tmva_lstm.data import load
    from tmva_lstm.training import train

    sources = (f"{SAMPLE}:sgn", f"{SAMPLE}:bkg")
    on_disk = load(*sources, layout="per-step:vars_time{t}", memmap=tmp_path / "x.npy")
    in_memory = load(*sources, layout="per-step:vars_time{t}")
    assert isinstance(on_disk.X.base, np.memmap) or isinstance(on_disk.X, np.memmap)
    np.testing.assert_array_equal(on_disk.X, in_memory.X)
    rows = np.random.default_rng(1).permutation(len(in_memory))[:1000]
    a = train(on_disk.X, on_disk.y, on_disk.weights, SMALL, index=rows)
    b = train(in_memory.X[rows], in_memory.y[rows], in_memory.weights[rows], SMALL)
    assert np.array_equal(a.params["lstm_0"]["W"], b.params["lstm_0"]["W"])

    out = tmp_path / "run"
    args = ["train", "--signal", sources[0], "--background", sources[1], "--layout",
            "per-step:vars_time{t}", "-o", SMALL, "--n-train-signal", "500",
            "--n-train-background", "500", "--output-dir", str(out)]  # fmt: skip
    assert main([*args, "--memmap"]) == 0
    assert (out / "inputs.npy").stat().st_size > 4000 * 300 * 4
    with uproot.open(out / "TMVAClassification.root") as f:
        assert "vars_time0" not in f["dataset/TestTree"].keys()  # no input copies on disk
        memmap_scores = f["dataset/TestTree"]["PyLSTM"].array(library="np")
    assert main([*args, "--output-dir", str(tmp_path / "ram")]) == 0
    with uproot.open(tmp_path / "ram/TMVAClassification.root") as f:
        np.testing.assert_array_equal(
            f["dataset/TestTree"]["PyLSTM"].array(library="np"), memmap_scores
        )


def test_memmap_refuses_a_cut(tmp_path):
    from tmva_lstm.data import load
    from tmva_lstm.errors import OptionError

    with pytest.raises(OptionError, match="memory map needs every entry"):
        load(f"{SAMPLE}:sgn", f"{SAMPLE}:bkg", layout="per-step:vars_time{t}",
             cut="vars_time0[:, 0] > 0", memmap=tmp_path / "x.npy")  # fmt: skip
