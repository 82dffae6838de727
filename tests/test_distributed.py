"""``tmva_lstm.apply_files`` on a Dask LocalCluster of 2 worker processes.

Files of different sizes (one larger than the step, one empty, one corrupt): every output
equals single-process ``apply`` bit for bit; the corrupt file is reported and the others
complete; a worker killed mid-run loses and duplicates nothing; a rerun skips finished files.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import uproot

import tmva_lstm as tl
from tmva_lstm.model import Model
from tmva_lstm.nn.network import Network
from tmva_lstm.options import MethodOptions

distributed = pytest.importorskip("distributed")

T, F = 5, 3
STEP = 4096  # entries per range: the 9000-event file is three ranges
SIZES = {"a.root": 1000, "b.root": 9000, "c.root": 0, "d.root": 37, "e.root": 2500}


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
        silence_logs=logging.CRITICAL,
    )  # fmt: skip
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def _write(path: Path, n: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    with uproot.recreate(path) as f:
        types = {f"v{t}": (np.float32, (F,)) for t in range(T)} | {"w": np.float64,
                                                                  "trk": "var * float32"}  # fmt: skip
        tree = f.mktree("events", types, counter_name=lambda _: "nTrk")
        if n:
            import awkward as ak

            tree.extend({f"v{t}": rng.normal(size=(n, F)).astype(np.float32) for t in range(T)}
                        | {"w": rng.normal(size=n),
                           "trk": ak.Array([np.ones(i % 3, np.float32) for i in range(n)])})  # fmt: skip
    return path


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """The model, the input folder (with one corrupt file) and single-process outputs."""
    tmp = tmp_path_factory.mktemp("dist")
    rng = np.random.default_rng(3)
    net = Network.from_layout("LSTM|6,DENSE|4|TANH,LINEAR", T, F)
    opts = MethodOptions.from_string(f"InputLayout={T}|{F}:Layout=LSTM|6,DENSE|4|TANH,LINEAR")
    model = Model(
        net, net.init_params(rng), opts, [f"v{t}[{k}]" for t in range(T) for k in range(F)]
    )
    model.data_layout = "per-step:v{t}"
    model_path = model.save(tmp / "model.weights.xml", title="Score")
    folder = tmp / "in"
    folder.mkdir()
    for i, (name, n) in enumerate(SIZES.items()):
        _write(folder / name, n, i)
    good = (folder / "a.root").read_bytes()
    (folder / "bad.root").write_bytes(good[: len(good) // 2])  # truncated
    # the reference: single-process apply of each file, in a fresh process (as a user runs it)
    ref = tmp / "ref"
    code = textwrap.dedent(
        f"""
        import sys
        from tmva_lstm.cli import main
        for name in {sorted(SIZES)!r}:
            for mode in ("copy", "friend"):
                args = ["apply", {str(model_path)!r}, f"{folder}/{{name}}:events",
                        "--output", f"{ref}/{{mode}}/{{name}}", "--step-size", "1000"]
                assert main(args + (["--friend"] if mode == "friend" else [])) == 0
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)
    return model_path, folder, ref


def _arrays(path: Path) -> dict[str, dict[str, list]]:
    out = {}
    with uproot.open(path) as f:
        for key, cls in f.classnames().items():
            if cls == "TTree":
                tree = f[key]
                out[key.split(";")[0]] = {
                    b: tree[b].array(library="np") if b in ("Score",) else tree[b].array().tolist()
                    for b in tree.keys()
                }
    return out


def _assert_same(path: Path, ref: Path) -> None:
    got, want = _arrays(path), _arrays(ref)
    assert got.keys() == want.keys()
    for tree in want:
        assert got[tree].keys() == want[tree].keys(), tree
        for b in want[tree]:
            if b == "Score":
                np.testing.assert_array_equal(got[tree][b], want[tree][b])  # bit for bit
                assert got[tree][b].dtype == np.float32
            else:
                assert got[tree][b] == want[tree][b], (tree, b)


def _only_outputs(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir())


def test_every_output_equals_single_process_apply(client, inputs, tmp_path, mode="friend"):
    model_path, folder, ref = inputs
    seen = []
    report = tl.apply_files(model_path, f"{folder}/*.root:events", tmp_path / "out", client,
                            friend=mode == "friend", step_size=STEP, progress=seen.append)  # fmt: skip
    by_name = {Path(r.source.split(":")[0]).name: r for r in report.files}
    assert [Path(r.source.split(":")[0]).name for r in report.files] == sorted(by_name)
    assert len(seen) == len(report.files) == 6
    bad = by_name.pop("bad.root")
    assert bad.status == "failed" and "bad.root" in bad.error and "\n" not in bad.error
    assert [f.source for f in report.failures] == [bad.source]
    assert all(r.status == "done" for r in by_name.values())
    assert {n: r.events for n, r in by_name.items()} == SIZES
    assert report.events == sum(SIZES.values()) and report.workers == 2
    assert "6 files (5 scored, 0 up to date, 1 failed)" in report.summary()
    assert _only_outputs(tmp_path / "out") == sorted(SIZES)  # no temporaries, no parts
    for name in SIZES:
        _assert_same(tmp_path / "out" / name, ref / mode / name)


def test_a_rerun_skips_finished_files_and_redoes_changed_ones(client, inputs, tmp_path):
    model_path, folder, ref = inputs
    out = tmp_path / "out"
    first = tl.apply_files(model_path, f"{folder}/*.root:events", out, client, friend=True,
                           step_size=STEP)  # fmt: skip
    stamps = {n: (out / n).stat().st_mtime_ns for n in SIZES}
    again = tl.apply_files(model_path, f"{folder}/*.root:events", out, client, friend=True,
                           step_size=STEP)  # fmt: skip
    status = {Path(r.source.split(":")[0]).name: r.status for r in again.files}
    assert status == {n: "skipped" for n in SIZES} | {"bad.root": "failed"}
    assert again.events == 0 and first.events == sum(SIZES.values())
    assert {n: (out / n).stat().st_mtime_ns for n in SIZES} == stamps  # not rewritten
    # another branch name is another output: every good file is scored again
    third = tl.apply_files(model_path, f"{folder}/a.root:events", out, client, friend=True,
                           step_size=STEP, branch="Other")  # fmt: skip
    assert [r.status for r in third.files] == ["done"]
    assert list(uproot.open(out / "a.root").keys()) != []
    assert "events_Other" in [k.split(";")[0] for k in uproot.open(out / "a.root").keys()]


def test_a_killed_worker_loses_and_duplicates_nothing(client, inputs, tmp_path):
    model_path, folder, ref = inputs
    big = tmp_path / "in"
    big.mkdir()
    for name in SIZES:
        os.symlink(folder / name, big / name)
    _write(big / "z.root", 20 * 4096, 9)  # twenty ranges: workers are busy for a while
    pids = client.run(os.getpid)
    out = tmp_path / "out"
    result = {}

    def run():
        result["report"] = tl.apply_files(model_path, f"{big}/*.root:events", out, client,
                                          friend=True, step_size=STEP, retries=2)  # fmt: skip

    thread = threading.Thread(target=run)
    thread.start()
    killed = None
    deadline = time.monotonic() + 60
    while killed is None and time.monotonic() < deadline and thread.is_alive():
        busy = [w for w, keys in client.processing().items()
                if any("tmva-lstm-score" in str(k) for k in keys)]  # fmt: skip
        if busy:
            killed = pids[busy[0]]
            os.kill(killed, signal.SIGTERM)  # terminate the worker process mid-task
        time.sleep(0.05)
    thread.join(timeout=240)
    assert killed is not None, "no score task ran long enough to be interrupted"
    report = result["report"]
    assert not report.failures, report.summary()
    assert sorted(Path(r.source.split(":")[0]).name for r in report.files) == sorted(
        [*SIZES, "z.root"]
    )
    assert _only_outputs(out) == sorted([*SIZES, "z.root"])
    for name in SIZES:
        _assert_same(out / name, ref / "friend" / name)
    z = uproot.open(out / "z.root")["events_Score"]["Score"].array(library="np")
    assert len(z) == 20 * 4096
    # the scores of one process (here with this process's BLAS threads: the last bits of a
    # float32 GEMM depend on them, so bit-equality is checked against one-thread apply above)
    expected = tl.apply_files(model_path, f"{big}/z.root:events", tmp_path / "one", workers=0,
                              friend=True, step_size=STEP)  # fmt: skip
    assert expected.files[0].events == len(z)
    one = uproot.open(tmp_path / "one" / "z.root")["events_Score"]["Score"].array(library="np")
    np.testing.assert_allclose(z, one, rtol=1e-6, atol=1e-7)


def test_the_cli_on_a_running_scheduler_copies_as_single_process_apply(client, inputs, tmp_path):
    model_path, folder, ref = inputs
    out = tmp_path / "out"
    r = subprocess.run(
        [sys.executable, "-m", "tmva_lstm", "apply", str(model_path), f"{folder}/*.root:events",
         "--output-dir", str(out), "--scheduler", client.scheduler.address, "--step-size",
         str(STEP)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 2, r.stderr  # one file failed
    assert "6 files (5 scored, 0 up to date, 1 failed)" in r.stdout
    assert "FAILED" in r.stdout and "bad.root" in r.stdout and "Traceback" not in r.stderr
    for name in SIZES:
        _assert_same(out / name, ref / "copy" / name)
