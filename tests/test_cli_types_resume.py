"""``--resume`` and ``--memmap`` for Multiclass and Regression jobs, through the command run as
a subprocess: an interrupted and resumed job ends with the weights of an uninterrupted one, bit
for bit, and a job reading its inputs from a memory map trains the same weights as in memory."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import uproot

import tmva_lstm as tl
from tmva_lstm.errors import ModelFileError

sys.path.insert(0, str(Path(__file__).parent))
from sequences import CLASS_NAMES, T, regression_sample, three_class_sample  # noqa: E402

# Many small batches and 30 epochs: the interrupt, sent once the first epoch is on disk, lands
# mid-training however fast the kernels and however loaded the machine (with 12 epochs and a
# wait for two, a loaded run finished before the signal arrived).
MAX_EPOCHS = 30
OPTIONS = (
    f"Layout=LSTM|6,DENSE|8|TANH,LINEAR:MaxEpochs={MAX_EPOCHS}:BatchSize=5:ConvergenceSteps=100:"
    "RandomSeed=3:Silent"
)


def _write(path: Path, branches: dict[str, np.ndarray]) -> None:
    with uproot.recreate(path) as f:
        f.mktree("t", {k: (v.dtype, v.shape[1:]) for k, v in branches.items()})
        f["t"].extend(branches)


@pytest.fixture(scope="module", params=["multiclass", "regression"])
def job(request, tmp_path_factory):
    """``(kind, command arguments without --output-dir, model file name)``."""
    d = tmp_path_factory.mktemp(request.param)
    if request.param == "multiclass":
        X, y = three_class_sample(300, 4)
        args = []
        for k, name in enumerate(CLASS_NAMES):
            _write(d / f"{name}.root", {f"x{t}": X[y == k][:, t] for t in range(T)})
            args.append(f"--class={name}={d / name}.root:t")
        options = "ErrorStrategy=MUTUALEXCLUSIVE:" + OPTIONS
        name = "TMVAMulticlass_PyLSTM"
    else:
        X, targets = regression_sample(900, 6)
        _write(d / "calib.root", {f"x{t}": X[:, t] for t in range(T)} | {"truth": targets[:, 0]})
        args = ["--input", f"{d / 'calib.root'}:t", "--target", "truth"]
        options = "VarTransform=N:" + OPTIONS
        name = "TMVARegression_PyLSTM"
    cmd = [sys.executable, "-m", "tmva_lstm", "train", *args, "--layout", "per-step:x{t}",
           "--options", options]  # fmt: skip
    run = subprocess.run([*cmd, "--output-dir", str(d / "full")], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return request.param, cmd, name, d


def _params(path: Path) -> dict[str, np.ndarray]:
    model = tl.load_model(path)
    return {f"{k}/{j}": v for k, p in model.params.items() for j, v in p.items()}


def _assert_same_weights(a: Path, b: Path) -> None:
    pa, pb = _params(a), _params(b)
    assert pa.keys() == pb.keys()
    different = [k for k in pa if not np.array_equal(pa[k], pb[k])]
    assert not different, f"weights differ: {different}"


def _epochs(ckpt: Path) -> int:
    try:
        return len(tl.load_model(ckpt).history.epoch) if ckpt.exists() else 0
    except ModelFileError:
        return 0


def test_interrupted_then_resumed_equals_uninterrupted(job):
    kind, cmd, name, d = job
    out = d / "interrupted"
    proc = subprocess.Popen([*cmd, "--output-dir", str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    ckpt = out / f"dataset/weights/{name}.checkpoint.xml"
    try:
        t0 = time.time()
        while _epochs(ckpt) < 1 and time.time() - t0 < 120:
            assert proc.poll() is None, "the job ended before it could be interrupted"
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
    finally:
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "--resume" in err and "Traceback" not in err
    stopped = _epochs(ckpt)
    assert 1 <= stopped < MAX_EPOCHS
    run = subprocess.run([*cmd, "--output-dir", str(out), "--resume"], capture_output=True,
                         text=True)  # fmt: skip
    assert run.returncode == 0, run.stderr
    _assert_same_weights(out / f"dataset/weights/{name}.weights.xml",
                         d / f"full/dataset/weights/{name}.weights.xml")  # fmt: skip
    assert len(tl.load_model(out / f"dataset/weights/{name}.weights.xml").history.epoch) == len(
        tl.load_model(d / f"full/dataset/weights/{name}.weights.xml").history.epoch
    )


def test_memmap_trains_the_same_weights_as_in_memory(job):
    kind, cmd, name, d = job
    out = d / "memmap"
    run = subprocess.run([*cmd, "--output-dir", str(out), "--memmap"], capture_output=True,
                         text=True)  # fmt: skip
    assert run.returncode == 0, run.stderr
    inputs = np.load(out / "inputs.npy", mmap_mode="r")
    assert inputs.shape == (900, T, 2) and inputs.dtype == np.float32
    _assert_same_weights(out / f"dataset/weights/{name}.weights.xml",
                         d / f"full/dataset/weights/{name}.weights.xml")  # fmt: skip
    job_name = name.rsplit("_", 1)[0]
    with uproot.open(out / f"{job_name}.root") as f, uproot.open(d / f"full/{job_name}.root") as g:
        keys = f["dataset/TestTree"].keys()
        assert "x0" not in keys  # no copies of the inputs: the sample may exceed memory
        for key in keys:
            np.testing.assert_array_equal(
                f["dataset/TestTree"][key].array(library="np"),
                g["dataset/TestTree"][key].array(library="np"),
            )
