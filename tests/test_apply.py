"""``tmva-lstm apply`` as a user runs it (a subprocess), checking what it wrote.

The input is never overwritten; a copy carries what uproot can write and says what it cannot;
an input branch is never replaced without --overwrite-branch; a glob gives one friend tree per
file, entry for entry; the score branch is named after the model; NaN inputs stop, are
dropped or are scored -999, as the user chooses.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import uproot

import tmva_lstm as tl
from tmva_lstm.model import Model
from tmva_lstm.nn.network import Network
from tmva_lstm.options import MethodOptions

T, F = 4, 2  # jagged:px,py:max=4


def _model(tmp_path: Path, title: str = "MyTitle", layout: str = "jagged:px,py:max=4") -> Path:
    rng = np.random.default_rng(5)
    net = Network.from_layout("LSTM|3,LINEAR", T, F)
    opts = MethodOptions.from_string(f"InputLayout={T}|{F}:Layout=LSTM|3,LINEAR")
    model = Model(
        net, net.init_params(rng), opts, [f"x{j}_{k}" for j in range(T) for k in range(F)]
    )
    model.data_layout = layout
    return model.save(tmp_path / "model.weights.xml", title=title)


def _ntuple(path: Path, n: int, seed: int, *, objects: bool = False, nan_at=()) -> Path:
    """Counted arrays px[nTrk], py[nTrk]; with ``objects``: a TLorentzVector and a std::vector
    (written by ROOT itself), else by uproot."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 5, n)
    px = [rng.normal(size=c).astype(np.float32) for c in counts]
    py = [rng.normal(size=c).astype(np.float32) for c in counts]
    for i in nan_at:
        counts[i] = max(counts[i], 1)
        px[i] = np.full(counts[i], np.nan, np.float32)
        py[i] = rng.normal(size=counts[i]).astype(np.float32)
    if not objects:
        import awkward as ak

        with uproot.recreate(path) as f:
            f.mktree("events", {"px": "var * float32", "py": "var * float32", "x": np.float64},
                     counter_name=lambda _: "nTrk")  # fmt: skip
            if n:
                f["events"].extend(
                    {"px": ak.Array(px), "py": ak.Array(py), "x": np.arange(n) * 0.5}
                )
        return path
    import array

    import ROOT

    f = ROOT.TFile(str(path), "RECREATE")
    t = ROOT.TTree("events", "events")
    nb, ab, bb = array.array("i", [0]), array.array("f", [0] * 8), array.array("f", [0] * 8)
    x, v, p4 = array.array("d", [0]), ROOT.std.vector("float")(), ROOT.TLorentzVector()
    t.Branch("nTrk", nb, "nTrk/I")
    t.Branch("px", ab, "px[nTrk]/F")
    t.Branch("py", bb, "py[nTrk]/F")
    t.Branch("x", x, "x/D")
    t.Branch("vec", v)
    t.Branch("p4", p4)
    t.Branch("MyTitle", x, "MyTitle/D")  # the score's default name
    for i in range(n):
        nb[0] = int(counts[i])
        for j in range(nb[0]):
            ab[j], bb[j] = float(px[i][j]), float(py[i][j])
        x[0] = i * 0.5
        v.clear()
        for j in range(i % 3):
            v.push_back(j + 0.25)
        p4.SetPxPyPzE(i, 0, 0, i + 1)
        t.Fill()
    t.Write()
    f.Close()
    return path


def _cli(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tmva_lstm", "apply", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def _expected(model_path: Path, path: Path) -> np.ndarray:
    """model.predict on the file's events (jagged layout: padded, masked)."""
    data = _read(path)
    assert len(data) == uproot.open(path)["events"].num_entries
    return tl.load_model(model_path).predict(data.X, data.mask).astype(np.float32)


def _read(path: Path):
    """The file's events as the jagged layout reads them, those with NaN inputs left out."""
    from tmva_lstm.data import Dataset, iterate

    chunks = iterate(f"{path}:events", layout="jagged:px,py:max=4", non_finite="drop")
    return Dataset.concat(list(chunks))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_output_that_is_an_input_is_refused_before_anything_is_written(tmp_path):
    model = _model(tmp_path)
    data = _ntuple(tmp_path / "data.root", 50, 1)
    os.link(data, tmp_path / "hardlink.root")
    (tmp_path / "symlink.root").symlink_to(data)
    before = _digest(data)
    for output, extra in ((tmp_path / "." / "data.root", []),
                          (tmp_path / "hardlink.root", ["--friend"]),
                          (tmp_path / "symlink.root", [])):  # fmt: skip
        r = _cli(model, f"{data}:events", "--output", output, *extra)
        assert r.returncode == 2, r.stderr
        assert "is the input file" in r.stderr and "Traceback" not in r.stderr
        assert _digest(data) == before
    # --output-dir holding the inputs: the outputs would be the inputs
    r = _cli(model, f"{tmp_path}/data.root:events", "--output-dir", tmp_path, "--workers", "0")
    assert r.returncode == 2 and "is the input file" in r.stderr
    assert _digest(data) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "data.root", "hardlink.root", "model.weights.xml", "symlink.root"
    ]  # fmt: skip


def test_copy_keeps_what_uproot_can_write_and_says_what_it_cannot(tmp_path):
    model = _model(tmp_path)
    data = _ntuple(tmp_path / "objects.root", 40, 2, objects=True)
    out = tmp_path / "scored.root"

    # the input has a branch named like the score: never replaced without the flag
    r = _cli(model, f"{data}:events", "--output", out)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "already has a branch 'MyTitle'" in r.stderr and "--overwrite-branch" in r.stderr
    assert not out.exists()

    r = _cli(model, f"{data}:events", "--output", out, "--branch", "score")
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    assert "p4 (TLorentzVector)" in r.stderr and "--friend" in r.stderr  # said clearly
    assert "nvec (counts of vec)" in r.stderr  # std::vector becomes a counted array
    with uproot.open(out) as f, uproot.open(data) as fin:
        tree, tin = f["events"], fin["events"]
        assert sorted(tree.keys()) == sorted(["nTrk", "px", "py", "x", "vec", "nvec", "MyTitle",
                                              "score"])  # fmt: skip
        assert tree["px"].member("fLeaves")[0].member("fLeafCount").member("fName") == "nTrk"
        for name in ("nTrk", "px", "py", "x", "vec", "MyTitle"):
            assert tree[name].array().tolist() == tin[name].array().tolist(), name
        np.testing.assert_array_equal(tree["score"].array(library="np"), _expected(model, data))

    r = _cli(model, f"{data}:events", "--output", out, "--overwrite-branch")
    assert r.returncode == 0, r.stderr
    with uproot.open(out) as f:
        assert f["events"].keys().count("MyTitle") == 1
        np.testing.assert_array_equal(
            f["events"]["MyTitle"].array(library="np"), _expected(model, data)
        )


def test_a_glob_gives_one_friend_tree_per_file_entry_for_entry(tmp_path):
    model = _model(tmp_path)
    sizes = {"a.root": 30, "b.root": 0, "c.root": 4500}
    for i, (name, n) in enumerate(sizes.items()):
        _ntuple(tmp_path / name, n, 10 + i)
    out = tmp_path / "friends.root"
    r = _cli(model, f"{tmp_path}/*.root:events", "--output", out, "--friend")
    assert r.returncode == 0, r.stderr
    with uproot.open(out) as f:
        for name, n in sizes.items():
            friend = f[f"{name[0]}/events_MyTitle"]  # the score branch: the model's title
            assert friend.keys() == ["MyTitle"]
            assert friend.num_entries == n
            if n:
                np.testing.assert_array_equal(
                    friend["MyTitle"].array(library="np"), _expected(model, tmp_path / name)
                )


def test_nan_inputs_stop_drop_or_score_minus_999(tmp_path):
    model = _model(tmp_path)
    bad = [3, 17]
    data = _ntuple(tmp_path / "nan.root", 40, 3, nan_at=bad)
    out = tmp_path / "scored.root"

    r = _cli(model, f"{data}:events", "--output", out)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "entry 3" in r.stderr and "--non-finite score" in r.stderr
    assert "NonFinite=DROP" not in r.stderr and "non_finite=" not in r.stderr  # apply's options
    assert not out.exists()

    loaded = _read(data)
    assert len(loaded) == 38
    good = np.setdiff1d(np.arange(40), bad)
    m = tl.load_model(model)
    expected_good = m.predict(loaded.X, loaded.mask).astype(np.float32)

    r = _cli(model, f"{data}:events", "--output", out, "--non-finite", "score", "--friend")
    assert r.returncode == 0, r.stderr
    scores = uproot.open(out)["events_MyTitle"]["MyTitle"].array(library="np")
    assert len(scores) == 40
    np.testing.assert_array_equal(scores[bad], -999.0)
    np.testing.assert_array_equal(scores[good], expected_good)
    # Model.predict agrees: NaN inputs score -999, as TMVA::Reader's
    X = np.zeros((2, T, F), np.float32)
    X[0, 0, 0] = np.nan
    assert m.predict(X)[0] == -999.0 and m.predict(X)[1] != -999.0

    r = _cli(model, f"{data}:events", "--output", out, "--non-finite", "drop")
    assert r.returncode == 0, r.stderr
    with uproot.open(out) as f:
        np.testing.assert_array_equal(f["events"]["x"].array(library="np"), good * 0.5)
        np.testing.assert_array_equal(f["events"]["MyTitle"].array(library="np"), expected_good)

    r = _cli(model, f"{data}:events", "--output", out, "--non-finite", "drop", "--friend")
    assert r.returncode == 2 and "--non-finite drop cannot be used with --friend" in r.stderr


def test_scheduler_without_dask_names_the_extra(tmp_path):
    model = _model(tmp_path)
    data = _ntuple(tmp_path / "d.root", 5, 4)
    code = (
        "import sys; sys.modules['distributed'] = None; sys.modules['dask'] = None\n"
        "from tmva_lstm.cli import main\n"
        f"sys.exit(main(['apply', {str(model)!r}, {str(data) + ':events'!r}, '--output-dir', "
        f"{str(tmp_path / 'out')!r}, '--scheduler', 'tcp://127.0.0.1:8786']))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "pip install 'tmva-lstm[dask]'" in r.stderr
    # and apply itself works without dask
    r = subprocess.run(
        [sys.executable, "-c", code.replace("'--output-dir'", "'--output'").replace(
            f"{str(tmp_path / 'out')!r}, '--scheduler', 'tcp://127.0.0.1:8786'",
            f"{str(tmp_path / 'one.root')!r}")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert uproot.open(tmp_path / "one.root")["events"].num_entries == 5


@pytest.mark.parametrize("branch", ["1abc", "a-b", "x y"])
def test_a_score_branch_name_that_is_not_a_name_is_refused(tmp_path, branch):
    model = _model(tmp_path)
    data = _ntuple(tmp_path / "d.root", 5, 4)
    with pytest.raises(tl.TmvaLstmError, match="not a valid branch name"):
        from tmva_lstm.workflow import apply_to_files

        apply_to_files(model, f"{data}:events", tmp_path / "o.root", branch=branch)
    assert not (tmp_path / "o.root").exists()
