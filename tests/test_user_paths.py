"""Every path a new user takes, the way a user takes it (issue 11).

The CLI runs in subprocesses (``python -m tmva_lstm ...``) and the public API in fresh
interpreters (``import tmva_lstm as tl``), and each test asserts the result itself: the model
trained, the input intact, the file written or not, the message true.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import uproot

import tmva_lstm

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "time_data_t10_d30.root"
FAST = "Layout=LSTM|4,LINEAR:MaxEpochs=8:BatchSize=20:LearningRate=0.03:RandomSeed=1"


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, **extra}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def cli(*args, cwd=None, umask: int | None = None, check_rc: int | None = 0):
    """Run ``python -m tmva_lstm ARGS`` in a subprocess; return (rc, stdout, stderr)."""
    pre = (lambda: os.umask(umask)) if umask is not None else None
    proc = subprocess.run(
        [sys.executable, "-m", "tmva_lstm", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, env=_env(), preexec_fn=pre, timeout=300,
    )  # fmt: skip
    if check_rc is not None:
        assert proc.returncode == check_rc, proc.stderr + proc.stdout
    return proc.returncode, proc.stdout, proc.stderr


def python(code: str, *args, cwd=None) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (the public API as a user's script calls it)."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
        capture_output=True, text=True, cwd=cwd, env=_env(), timeout=300,
    )  # fmt: skip


# Many CLI invocations that end before training, run in one fresh interpreter (fast).
_MANY = r"""
import contextlib, io, json, sys
from tmva_lstm.cli import main
out = []
for argv in json.loads(sys.argv[1]):
    err, std = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(std):
        try:
            rc = main(argv)
        except SystemExit as e:
            rc = e.code
    out.append([rc, err.getvalue(), std.getvalue()])
print(json.dumps(out))
"""


def cli_many(argvs: list[list[str]], cwd=None) -> list[tuple[int, str, str]]:
    proc = python(_MANY, json.dumps([[str(a) for a in argv] for argv in argvs]), cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return [tuple(r) for r in json.loads(proc.stdout.strip().splitlines()[-1])]


def roc_printed(stdout: str) -> float:
    return float(re.search(r"ROC integral \(TMVA\): ([0-9.]+)", stdout).group(1))


# ----------------------------------------------------------------------------- samples

N_EV = 300


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> dict[str, Path]:
    """Small separable samples in the two layouts the shipped sample does not have."""
    d = tmp_path_factory.mktemp("samples")
    rng = np.random.default_rng(11)
    with uproot.recreate(d / "array.root") as f:
        for name, shift in (("sgn", 0.7), ("bkg", 0.0)):
            x = (rng.normal(size=(N_EV, 4, 3)) + shift).astype(np.float32)
            tree = f.mktree(name, {"x": (np.float32, (4, 3)), "w": np.float64})
            tree.extend({"x": x, "w": rng.uniform(0.5, 1.5, N_EV)})
    with uproot.recreate(d / "jagged.root") as f:
        for name, shift in (("sgn", 0.7), ("bkg", 0.0)):
            counts = rng.integers(1, 7, N_EV)
            pt = (rng.normal(size=counts.sum()) + shift).astype(np.float32)
            eta = rng.normal(size=counts.sum()).astype(np.float32)
            branches = {"trk_pt": ak.unflatten(pt, counts), "trk_eta": ak.unflatten(eta, counts)}
            f.mktree(name, {k: v.type.content for k, v in branches.items()}).extend(branches)
    return {"array": d / "array.root", "jagged": d / "jagged.root"}


def _digest(path: Path) -> tuple[int, bytes]:
    return path.stat().st_mtime_ns, path.read_bytes()


# ----------------------------------------------------------------------------- the API


def test_every_public_name_works_twice_in_one_interpreter(tmp_path):
    """``tl.train`` once was a function on the first call and a submodule after it."""
    code = """
    import sys, types
    import numpy as np
    import tmva_lstm as tl

    sample, out = sys.argv[1], sys.argv[2]
    opts = "Layout=LSTM|3,LINEAR:MaxEpochs=2:BatchSize=50:RandomSeed=2:Silent"
    for attempt in range(2):
        data = tl.load(sample + ":sgn", sample + ":bkg", layout="per-step:vars_time{t}",
                       max_events=150)
        assert data.X.shape == (300, 10, 30)
        model = tl.train(data.X, data.y, data.weights, opts, checkpoint=f"{out}/c{attempt}.xml")
        assert isinstance(model, tl.Model) and len(model.history.epoch) == 2
        again = tl.resume(f"{out}/c{attempt}.xml", data.X, data.y, data.weights)
        assert np.array_equal(again.predict(data.X), model.predict(data.X))
        model.save(f"{out}/m{attempt}.xml")
        loaded = tl.load_model(f"{out}/m{attempt}.xml")
        assert np.array_equal(loaded.predict(data.X), model.predict(data.X))
        assert tl.MethodOptions.from_string(opts).training[0].max_epochs == 2
        assert isinstance(tl.MethodOptions(), tl.MethodOptions)
        assert isinstance(tl.TmvaLstmError("x"), Exception)
        assert isinstance(tl.__version__, str)
        report = tl.apply_files(f"{out}/m{attempt}.xml", sample + ":sgn", f"{out}/s{attempt}",
                                workers=0, friend=True, layout="per-step:vars_time{t}")
        assert [f.status for f in report.files] == ["done"] and report.events == 2000
        import uproot
        events = uproot.open(sample)["sgn"].arrays(entry_stop=150)
        scores = tl.score_events(model, events, "per-step:vars_time{t}")
        assert np.array_equal(np.asarray(scores), model.predict(data.X[:150]))
        for name in tl.__all__:
            assert not isinstance(getattr(tl, name), types.ModuleType), name
    print("ok", sorted(tl.__all__))
    """
    proc = python(code, SAMPLE, tmp_path)
    assert proc.returncode == 0, proc.stderr
    names = {"load", "train", "resume", "load_model", "Model", "MethodOptions", "TmvaLstmError",
             "apply_files", "score_events"}  # fmt: skip
    assert names | {"__version__"} == set(tmva_lstm.__all__), "a public name is not exercised"


def test_no_public_name_is_also_a_submodule():
    """Importing a submodule binds it on the package: it must never shadow a public name."""
    import pkgutil

    modules = {m.name for m in pkgutil.iter_modules(tmva_lstm.__path__)}
    public = set(tmva_lstm.__all__) | {n for n in dir(tmva_lstm) if not n.startswith("_")}
    clash = {n for n in public if n in modules and callable(getattr(tmva_lstm, n, None))}
    assert not clash - {"tmva"}, clash
    code = """
    import importlib, pkgutil, types
    import tmva_lstm as tl
    for m in pkgutil.iter_modules(tl.__path__):
        if m.name not in ("tmva", "__main__"):
            importlib.import_module("tmva_lstm." + m.name)
    bad = [n for n in tl.__all__ if isinstance(getattr(tl, n), types.ModuleType)]
    assert not bad, bad
    assert callable(tl.train) and callable(tl.load) and callable(tl.resume)
    """
    proc = python(code)
    assert proc.returncode == 0, proc.stderr


def test_api_mistakes_raise_our_errors(tmp_path):
    """Shape, mask, dtype, index and option-type mistakes: TmvaLstmError, one line."""
    code = """
    import numpy as np
    import tmva_lstm as tl
    from tmva_lstm.errors import DataError, OptionError, OutputFileError
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4, 3)).astype(np.float32)
    y = np.arange(200) % 2
    m = tl.train(X, y, None, "Layout=LSTM|3,LINEAR:MaxEpochs=1:BatchSize=20:Silent")
    cases = [
        (lambda: m.predict(X[:, :, :2]), DataError, "(N, 4, 3)"),
        (lambda: m.predict(X, np.ones((200, 3), bool)), DataError, "mask must be (N, T)"),
        (lambda: m.predict(np.array([["a"] * 12])), DataError, "numbers"),
        (lambda: tl.train(X, y, None, {"MaxEpochs": 1}), OptionError, "option string"),
        (lambda: tl.train(X, y, "w", "MaxEpochs=1"), DataError, "weights must be numbers"),
        (lambda: tl.train(X, y, None, "MaxEpochs=1", index=np.array([0.5, 1.5])), DataError,
         "integers"),
        (lambda: tl.train(X, y, None, "MaxEpochs=1", dtype=np.int32), OptionError, "float32"),
        (lambda: m.save("."), OutputFileError, "is a directory"),
        (lambda: m.save("m.xml", title="my title"), OptionError, "valid branch name"),
    ]
    for i, (call, cls, text) in enumerate(cases):
        try:
            call()
        except tl.TmvaLstmError as err:
            assert isinstance(err, cls) and text in str(err), (i, err)
            assert "\\n" not in str(err)
        else:
            raise AssertionError(f"case {i} raised nothing")
    print("ok")
    """
    proc = python(code, cwd=tmp_path)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr
    assert not (tmp_path / "m.xml").exists()


# ----------------------------------------------------------------------------- layouts


@pytest.mark.parametrize(
    ("kind", "layout", "floor"),
    [("array", "array:x", 0.85), ("jagged", "jagged:trk_pt,trk_eta:max=5", 0.7)],
)
def test_every_layout_end_to_end(samples, tmp_path, kind, layout, floor):
    """train -> evaluate -> apply on the README's layouts, the input file untouched."""
    path = samples[kind]
    before = _digest(path)
    out = tmp_path / "run"
    src = ["--signal", f"{path}:sgn", "--background", f"{path}:bkg"]
    weight = ["--weight", "w"] if kind == "array" else []
    _, stdout, _ = cli("train", *src, "--layout", layout, "-o", FAST, "--output-dir", out, *weight)
    roc = roc_printed(stdout)
    assert roc > floor, stdout
    model = out / "dataset/weights/TMVAClassification_PyLSTM.weights.xml"
    with uproot.open(out / "TMVAClassification.root") as f:
        test = f["dataset/TestTree"].arrays(library="np")
    if kind == "array":  # the inputs go to TestTree as the ntuple's own array branch
        assert test["x"].shape == (N_EV, 12)
    else:
        assert test["trk_pt"].shape == (N_EV, 5) and "length" in test
    _, ev_out, _ = cli("evaluate", model, *src)
    ev_roc = roc_printed(ev_out)
    assert "compared to training" not in ev_out  # one sample: no test-vs-training comparison
    assert ev_roc > floor - 0.05  # all events, training ones included: about the same
    scored = tmp_path / "scored.root"
    cli("apply", model, f"{path}:sgn", "--output", scored, "--friend")
    with uproot.open(scored) as f:
        (tree,) = [f[k] for k in f.keys(cycle=False) if f[k].classname == "TTree"]
        (branch,) = tree.keys()
        scores = tree[branch].array(library="np")
    assert len(scores) == N_EV and np.all((scores >= 0) & (scores <= 1))
    from tmva_lstm.data import load

    sig = load(f"{path}:sgn", f"{path}:bkg", layout=layout)
    direct = tmva_lstm.load_model(model).predict(sig.X[:N_EV], _mask(sig, N_EV))
    np.testing.assert_allclose(scores, direct, rtol=1e-6, atol=1e-6)  # apply == predict
    assert _digest(path) == before


def _mask(data, n):
    return None if data.mask is None else data.mask[:n]


# ----------------------------------------------------------------------------- resume


def test_resume_honours_more_epochs_and_refuses_other_changes(tmp_path):
    code = """
    import sys
    import numpy as np
    import tmva_lstm as tl
    from tmva_lstm.errors import OptionError
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 5, 2)).astype(np.float32)
    y = (X[:, :, 0].sum(1) > 0).astype(int)
    base = "Layout=LSTM|3,LINEAR:BatchSize=20:RandomSeed=5:ConvergenceSteps=50:Silent"
    ckpt = sys.argv[1] + "/ckpt.xml"

    def stop_after_two(epoch):
        if epoch == 2:
            raise KeyboardInterrupt

    try:
        tl.train(X, y, None, base + ":MaxEpochs=3", checkpoint=ckpt, on_epoch=stop_after_two)
    except KeyboardInterrupt:
        pass
    try:
        tl.resume(ckpt, X, y, options=base + ":MaxEpochs=3:LearningRate=0.5")
    except OptionError as err:
        assert "LearningRate (0.001 -> 0.5)" in str(err), err
    else:
        raise AssertionError("a changed LearningRate was accepted")
    longer = tl.resume(ckpt, X, y, options=base + ":MaxEpochs=5")
    straight = tl.train(X, y, None, base + ":MaxEpochs=5")
    assert len(longer.history.epoch) == 5
    for k in straight.params:
        for j in straight.params[k]:
            assert np.array_equal(longer.params[k][j], straight.params[k][j]), (k, j)
    try:  # a finished training cannot be lengthened: it kept its best weights
        tl.resume(ckpt, X, y, options=base + ":MaxEpochs=9")
    except OptionError as err:
        assert "finished" in str(err) and "MaxEpochs (5 -> 9)" in str(err), err
    else:
        raise AssertionError("a finished training was silently extended")
    print("ok")
    """
    proc = python(code, tmp_path)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr


def test_cli_resume_refuses_changed_options(samples, tmp_path):
    path = samples["array"]
    out = tmp_path / "run"
    args = ["train", "--signal", f"{path}:sgn", "--background", f"{path}:bkg", "--layout",
            "array:x", "--output-dir", out]  # fmt: skip
    opts = "Layout=LSTM|3,LINEAR:MaxEpochs=2:BatchSize=20:RandomSeed=1"
    cli(*args, "-o", opts)
    model = out / "dataset/weights/TMVAClassification_PyLSTM.weights.xml"
    before = _digest(model)
    rc, _, err = cli(*args, "-o", opts.replace("LSTM|3", "LSTM|5"), "--resume", check_rc=2)
    assert "Layout (LSTM|3,LINEAR -> LSTM|5,LINEAR)" in err and "Traceback" not in err
    assert _digest(model) == before


# ----------------------------------------------------------------------------- bad input


def test_errors_before_any_training(samples, tmp_path):
    path = samples["array"]
    out = tmp_path / "never"
    base = ["train", "--layout", "array:x", "--output-dir", out, "-o", FAST]
    sb = ["--signal", f"{path}:sgn", "--background", f"{path}:bkg"]
    cases = [
        ([*base, "--signal", f"{path}:sgn", "--background", f"./{path.name}:sgn"],
         r"'.*array.root:sgn' is both a signal and a background source"),
        ([*base, *sb, "--n-train-signal", "-5"], r"nTrain_Signal=-5 must be a non-negative"),
        ([*base, *sb, "--n-train-background", "-1"], r"nTrain_Background=-1"),
        ([*base, *sb, "--title", "my LSTM"], r"title 'my LSTM' is not a valid branch name"),
        ([*base, *sb, "--title", "2LSTM"], r"title '2LSTM' is not a valid branch name"),
        ([*base, *sb, "--job", "sub/job"], r"job name 'sub/job' must be a plain file name"),
        ([*base, *sb, "--job", ".."], r"job name '..' must be a plain file name"),
        ([*base, *sb, "--split-seed", "-3"], r"split seed must be a non-negative integer"),
        (["demo", "--epochs", "0", "--output-dir", out], r"positive integer"),
        ([*base, *sb, "--output-dir", path], r"output directory .*array.root is a file"),
    ]  # fmt: skip
    results = cli_many([argv for argv, _ in cases], cwd=path.parent)
    for (argv, pattern), (rc, err, _) in zip(cases, results, strict=True):
        assert rc == 2, (argv, err)
        assert re.search(pattern, err), (pattern, err)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert not out.exists()  # nothing was written


def test_a_training_run_tells_the_truth(samples, tmp_path):
    """Duplicate keys warn with both values; H prints the help; progress goes to a log file;
    the files honour the umask; evaluate shows the model's title and no overtraining check."""
    path = samples["array"]
    out = tmp_path / "run"
    opts = "H:" + FAST.replace("MaxEpochs=8", "MaxEpochs=3") + ":MaxEpochs=4"
    _, stdout, err = cli("train", "--signal", f"{path}:sgn", "--background", f"{path}:bkg",
                         "--layout", "array:x", "-o", opts, "--output-dir", out, "--title",
                         "My_LSTM", umask=0o027)  # fmt: skip
    assert "option MaxEpochs is given twice (MaxEpochs=3 and MaxEpochs=4)" in err
    assert "Options (value in use)" in stdout and "MaxEpochs=4 " in stdout  # H: the help
    assert re.search(r"signal +events 300, training 150, test 150", stdout)
    assert re.search(r"background +events 300, training 150, test 150", stdout)
    epochs = [ln for ln in stdout.splitlines() if re.match(r"^ +\d+ \|", ln)]
    assert len(epochs) == 4  # a line per epoch although stdout is a file
    assert re.search(r"training stopped after 4 epochs \(MaxEpochs=4 reached\); best epoch", stdout)
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) >= 5
    for p in files:
        assert stat.S_IMODE(p.stat().st_mode) == 0o640, p  # 0666 & ~027, as any new file
    model = out / "dataset/weights/TMVAClassification_My_LSTM.weights.xml"
    _, ev_out, _ = cli("evaluate", model, "--signal", f"{path}:sgn", "--background",
                       f"{path}:bkg", "--output-dir", tmp_path / "ev")  # fmt: skip
    assert "My_LSTM" in ev_out and "PyLSTM " not in ev_out
    assert "compared to training" not in ev_out and "Kolmogorov" not in ev_out
    assert "My_LSTM" in (tmp_path / "ev/summary.txt").read_text()


def test_interrupt_messages_are_true(samples, tmp_path):
    """Ctrl-C while reading or in apply: no claim of a checkpoint that does not exist."""
    path = samples["array"]
    code = """
    import sys
    import tmva_lstm.data as data
    from tmva_lstm.cli import main

    def interrupt(*a, **k):
        raise KeyboardInterrupt

    data.load = data.iterate = interrupt  # Ctrl-C while the ntuples are read
    import tmva_lstm.scoring as scoring
    scoring.score_block = interrupt  # ... and while apply scores them
    path, out = sys.argv[1], sys.argv[2]
    rc1 = main(["train", "--signal", path + ":sgn", "--background", path + ":bkg",
                "--layout", "array:x", "--output-dir", out])
    rc2 = main(["apply", "nope.weights.xml", path + ":sgn", "--output", out + "/s.root"])
    print(rc1, rc2)
    """
    model = tmp_path / "nope.weights.xml"
    cli("train", "--signal", f"{path}:sgn", "--background", f"{path}:bkg", "--layout",
        "array:x", "-o", "Layout=LSTM|2,LINEAR:MaxEpochs=1:BatchSize=50", "--output-dir",
        tmp_path / "m")  # fmt: skip
    (tmp_path / "m/dataset/weights/TMVAClassification_PyLSTM.weights.xml").rename(model)
    proc = python(code, path, tmp_path / "out", cwd=tmp_path)
    assert proc.stdout.split() == ["130", "130"], proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert (
        lines[0] == "tmva-lstm: interrupted before the first epoch ended; no checkpoint was written"
    )
    assert "s.root was not written" in lines[1]
    assert "checkpoint is" not in proc.stderr and "last completed epoch" not in proc.stderr
    assert not [p for p in (tmp_path / "out").rglob("*") if p.is_file()]  # nothing written


# ----------------------------------------------------------------------------- files


def test_temporaries_of_a_killed_write_are_removed_by_the_next_write(tmp_path):
    """SIGKILL in the middle of Model.save leaves a hidden temporary; the next save removes it."""
    code = """
    import os, signal, sys
    import numpy as np
    import tmva_lstm as tl
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3, 2)).astype(np.float32)
    m = tl.train(X, np.arange(100) % 2, None, "Layout=LSTM|2,LINEAR:MaxEpochs=1:BatchSize=20:Silent")
    if sys.argv[2] == "save":
        m.save(sys.argv[1])
    else:
        os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)  # dies before the rename
        m.save(sys.argv[1])
    """
    target = tmp_path / "m.weights.xml"
    assert python(code, target, "save").returncode == 0
    good = target.read_bytes()
    proc = python(code, target, "kill")
    assert proc.returncode == -9
    left = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(left) == 1 and left[0].startswith(".m.weights.xml.")
    assert target.read_bytes() == good  # the old file survived the kill
    assert python(code, target, "save").returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.weights.xml"]
    assert tmva_lstm.load_model(target).input_layout == (3, 2)


# ----------------------------------------------------------------------------- progress


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_progress_bar_on_a_terminal(samples, tmp_path):
    """The command on a pseudo-terminal shows tqdm's bar. The terminal is opened by a helper
    process in a session of its own (pty.fork there), never by the test process: a terminal
    that became the test runner's controlling tty would hang it up when closed."""
    path = samples["array"]
    helper = """
    import os, pty, sys
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(sys.executable, [sys.executable, "-m", "tmva_lstm", *sys.argv[1:]])
    out = b""
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        out += data
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(out.decode(errors="replace"))
    sys.exit(os.waitstatus_to_exitcode(status))
    """
    args = ["train", "--signal", f"{path}:sgn", "--background", f"{path}:bkg", "--layout",
            "array:x", "-o", FAST.replace("MaxEpochs=8", "MaxEpochs=2"), "--output-dir",
            str(tmp_path / "o")]  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(helper), *args], capture_output=True, text=True,
        env=_env(COLUMNS="100", LINES="30"), timeout=300, start_new_session=True,
    )  # fmt: skip
    text = proc.stdout
    assert proc.returncode == 0, text + proc.stderr
    assert "epoch 1" in text and "batch" in text  # tqdm's bar
    assert re.search(r"training stopped after 2 epochs", text)


# ----------------------------------------------------------------------------- cuts


def test_cuts_in_ttreeformula_and_python_syntax_select_the_same_events(samples):
    """TTreeFormula (&&, ||, !, x[i][j], Length$, Sum$, Max$, TMath::) as TTree::Draw takes it;
    a constant index means an element of each event in Python syntax as well."""
    code = """
    import sys
    import numpy as np
    import uproot
    import tmva_lstm as tl
    arr, jag = sys.argv[1], sys.argv[2]
    x = uproot.open(arr)["sgn"]["x"].array(library="np")
    pt = uproot.open(jag)["sgn"]["trk_pt"].array(library="np")

    def n_sig(path, layout, cut):
        d = tl.load(path + ":sgn", path + ":bkg", layout=layout, cut=cut)
        return int(d.y.sum())

    want = int(np.sum((x[:, 0, 1] > 0.5) & ~(x[:, 3, 2] < 0)))
    assert n_sig(arr, "array:x", "x[0][1] > 0.5 && !(x[3][2] < 0)") == want
    assert n_sig(arr, "array:x", "(x[:, 0, 1] > 0.5) & ~(x[:, 3, 2] < 0)") == want  # uproot's
    # a constant index is an element of each event in Python syntax too (TTree::Draw's x[i])
    assert n_sig(arr, "array:x", "(x[0][1] > 0.5) & ~(x[3, 2] < 0)") == want
    d = tl.load(arr + ":sgn", arr + ":bkg", layout="array:x", weight="x[0][1] * 2 + x[-1][0]")
    both = np.concatenate([uproot.open(arr)[t]["x"].array(library="np") for t in ("sgn", "bkg")])
    np.testing.assert_allclose(d.weights, both[:, 0, 1] * 2 + both[:, -1, 0], rtol=1e-6)
    want = int(np.sum(np.abs(x[:, 1, 1]) < 1))
    assert n_sig(arr, "array:x", "TMath::Abs(x[1][1]) < 1") == want
    assert n_sig(arr, "array:x", "abs(x[:, 1, 1]) < 1") == want
    n = np.array([len(e) for e in pt])
    top = np.array([e.max() if len(e) else 0 for e in pt])
    tot = np.array([e.sum() for e in pt])
    cut = "Length$(trk_pt) > 2 && Max$(trk_pt) > 0.5 || !(Sum$(trk_pt) < 3)"
    want = int(np.sum(((n > 2) & (top > 0.5)) | ~(tot < 3)))
    assert n_sig(jag, "jagged:trk_pt,trk_eta:max=5", cut) == want
    print("ok")
    """
    proc = python(code, samples["array"], samples["jagged"])
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr


def test_a_cut_that_does_not_parse_says_which_syntaxes_are_expected(samples):
    path = samples["array"]
    base = ["train", "--signal", f"{path}:sgn", "--background", f"{path}:bkg", "--layout",
            "array:x", "--output-dir", path.parent / "never"]  # fmt: skip
    results = cli_many([[*base, "--cut", "x[0][0] > 1 &&"], [*base, "--cut", "w >"]])
    for rc, err, _ in results:
        assert rc == 2 and len(err.strip().splitlines()) == 1, err
        assert "TTreeFormula" in err and "Python expression" in err and "&&" in err, err
    assert "does not parse as TTreeFormula" in results[0][1]


# ----------------------------------------------------------------------------- demo


def test_demo_runs_from_an_installed_package_without_the_repository(tmp_path):
    """A copy of the package alone (as a wheel installs it), run from elsewhere: the demo makes
    its sample from the package's own generator, with the shipped file's numbers. numba's
    on-disk cache (``*.nbi``/``*.nbc``) goes along, which spares the test a 20 s compilation
    and changes nothing else: a cache entry is used only if its source file is unchanged."""
    import shutil

    site = tmp_path / "site"
    shutil.copytree(REPO / "tmva_lstm", site / "tmva_lstm",
                    ignore=shutil.ignore_patterns("*.pyc"))  # fmt: skip
    work, cache = tmp_path / "work", tmp_path / "cache"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "XDG_CACHE_HOME": str(cache)}
    proc = subprocess.run(
        [sys.executable, "-m", "tmva_lstm", "demo", "--epochs", "1", "--output-dir", "out"],
        capture_output=True, text=True, cwd=work, env=env, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "ROC integral (TMVA)" in proc.stdout
    made = cache / "tmva_lstm" / SAMPLE.name
    with uproot.open(made) as a, uproot.open(SAMPLE) as b:
        for tree in ("sgn", "bkg"):
            for t in (0, 9):
                name = f"vars_time{t}"
                np.testing.assert_array_equal(
                    a[tree][name].array(library="np"), b[tree][name].array(library="np")
                )
    assert (work / "out" / "TMVA_LSTM_Classification.root").is_file()
