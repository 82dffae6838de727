"""The standalone C++ response class (``tmva_lstm.makeclass``, ``tmva-lstm make-class``).

Each class is compiled with ``g++ -std=c++17`` into a small driver that reads events on stdin
and prints ``GetMvaValue(values)`` and ``GetMvaValue(values, nSteps)``; the scores must equal
``Model.predict`` to 1e-5. One class is also compiled by cling and called through PyROOT.
Models are trained for one epoch on small samples of each sequence layout.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tmva_lstm as tl
from tmva_lstm._cling import declare
from tmva_lstm.errors import OptionError
from tmva_lstm.makeclass import class_source, make_class

# One epoch on small samples: whether it improved on the initial weights does not matter here.
pytestmark = pytest.mark.filterwarnings("ignore:no epoch of .* improved:RuntimeWarning")

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "time_data_t10_d30.root"
ALL_ACTIVATIONS = "DENSE|9|SIGMOID,DENSE|8|GAUSS,DENSE|7|SOFTSIGN,DENSE|6|SYMMRELU,DENSE|6|RELU"

DRIVER = r"""
#include CLASS_FILE
#include <cstdio>
int main()
{
   int nvar = 0, n = 0;
   if (std::scanf("%d %d", &nvar, &n) != 2) return 1;
   std::vector<std::string> names(nvar);
   for (auto &name : names) {
      char buf[256];
      if (std::scanf("%255s", buf) != 1) return 1;
      name = buf;
   }
   ReadPyLSTM reader(names);
   if (!reader.IsStatusClean()) return 2;
   std::vector<double> values(nvar);
   for (int e = 0; e < n; ++e) {
      size_t steps = 0;
      if (std::scanf("%zu", &steps) != 1) return 1;
      for (auto &v : values)
         if (std::scanf("%lf", &v) != 1) return 1;
      std::printf("%.17g %.17g\n", reader.GetMvaValue(values), reader.GetMvaValue(values, steps));
   }
   return 0;
}
"""

needs_gxx = pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed")


def run_class(path: Path, tmp_path: Path, model, X: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Compile ``path`` into the driver and score ``X`` (N, T, F): ``(N, 2)`` full and nSteps."""
    exe = tmp_path / f"{path.stem}.exe"
    driver = tmp_path / "driver.cpp"
    driver.write_text(DRIVER)
    subprocess.run(
        ["g++", "-std=c++17", "-O1", "-Wall", "-Wextra", "-Werror", f'-DCLASS_FILE="{path}"',
         "-o", str(exe), str(driver)],
        check=True,
    )  # fmt: skip
    lines = [f"{X.shape[1] * X.shape[2]} {len(X)}", " ".join(model.variable_names)]
    lines += [
        f"{s} " + " ".join(repr(float(v)) for v in x.ravel()) for s, x in zip(steps, X, strict=True)
    ]
    out = subprocess.run(
        [str(exe)], input="\n".join(lines), capture_output=True, text=True, check=True
    ).stdout
    return np.array([[float(v) for v in line.split()] for line in out.splitlines()])


def assert_scores(ours, ref, what):
    err = float(np.max(np.abs(ours - ref)))
    assert err <= 1e-5, f"{what}: max |C++ class - Model.predict| = {err:.3g}"


@pytest.fixture(scope="module")
def per_step():
    data = tl.load(f"{SAMPLE}:sgn", f"{SAMPLE}:bkg", layout="per-step:vars_time{t}", max_events=300)
    return data


def train(X, y, options, mask=None):
    return tl.train(
        X, y, None, f"{options}:MaxEpochs=1:BatchSize=50:RandomSeed=3:Silent", mask=mask
    )


@needs_gxx
def test_per_step_all_activations_and_normalisation(per_step, tmp_path):
    layout = f"LSTM|6,{ALL_ACTIVATIONS},DENSE|5|TANH,LINEAR"
    model = train(per_step.X, per_step.y, f"Layout={layout}:VarTransform=N")
    assert model.transform.kind == "N"
    path = make_class(model, tmp_path / "per_step.class.C", title="PyLSTM", job="Job")
    X = per_step.X[::3]
    got = run_class(path, tmp_path, model, X, np.full(len(X), 10))
    ref = model.predict(X)
    assert ref.std() > 1e-4, "a model whose scores do not vary would test nothing"
    assert_scores(got[:, 0], ref, "GetMvaValue")
    assert_scores(got[:, 1], ref, "GetMvaValue(values, 10)")
    text = path.read_text()
    assert "class ReadPyLSTM : public IClassifierReader" in text
    assert "double GetMvaValue( const std::vector<double>& inputValues ) const override;" in text


@needs_gxx
def test_array_layout_stacked_sequences(tmp_path):
    import uproot

    rng = np.random.default_rng(5)
    n, T, F = 200, 5, 3
    y = rng.integers(0, 2, n)
    x = rng.normal(size=(n, T, F)).astype(np.float32) + 0.5 * y[:, None, None]
    path = tmp_path / "arrays.root"
    with uproot.recreate(path) as f:
        f.mktree("t", {"x": (np.float32, (T, F)), "label": np.int32})
        f["t"].extend({"x": x, "label": y.astype(np.int32)})
    data = tl.load(f"{path}:t", layout="array:x", class_expr="label == 1")
    model = train(data.X, data.y, "Layout=LSTM|6|0|0|0|1,LSTM|4|0|0|0|1,DENSE|5|RELU,LINEAR")
    cls = make_class(model, tmp_path / "arrays.class.C")
    got = run_class(cls, tmp_path, model, data.X, np.full(n, T))
    assert_scores(got[:, 0], model.predict(data.X), "GetMvaValue")


@needs_gxx
def test_jagged_layout_counts_valid_steps(tmp_path):
    import awkward as ak
    import uproot

    rng = np.random.default_rng(6)
    n, T = 200, 6
    counts = rng.integers(0, 9, n)  # longer than max: truncated; 0 objects: all padding
    y = rng.integers(0, 2, n)
    pt = ak.unflatten(rng.exponential(5, counts.sum()).astype(np.float32), counts)
    eta = ak.unflatten(rng.normal(size=counts.sum()).astype(np.float32), counts)
    path = tmp_path / "jagged.root"
    with uproot.recreate(path) as f:
        branches = {"trk": ak.zip({"pt": pt, "eta": eta}), "sig": y.astype(np.int32)}
        f.mktree("ev", {"trk": branches["trk"].type.content, "sig": np.int32})
        f["ev"].extend(branches)
    layout = f"jagged:trk_pt,trk_eta:max={T}"
    data = tl.load(f"{path}:ev", layout=layout, class_expr="sig == 1")
    assert data.mask is not None and not data.mask.all()
    model = train(data.X, data.y, "Layout=LSTM|5,DENSE|4|TANH,LINEAR:VarTransform=N", data.mask)
    model.data_layout = layout  # as tmva-lstm train records it
    cls = make_class(model, tmp_path / "jagged.class.C")
    assert "GetMvaValue(inputValues, nSteps)" in cls.read_text()
    steps = data.mask.sum(axis=1)
    assert np.array_equal(data.mask, np.arange(T)[None, :] < steps[:, None])  # valid steps first
    got = run_class(cls, tmp_path, model, data.X, steps)
    assert_scores(got[:, 1], model.predict(data.X, data.mask), "GetMvaValue(values, nSteps)")
    assert_scores(got[:, 0], model.predict(data.X), "GetMvaValue(values): every step valid")
    assert np.abs(got[:, 1] - got[:, 0]).max() > 1e-4, "the padding must matter here"


@needs_gxx
def test_cli_make_class_float64_model(tmp_path):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(120, 4, 2))
    y = (X[:, :, 0].sum(axis=1) > 0).astype(int)
    model = tl.train(X, y, None, "Layout=LSTM|3,LINEAR:MaxEpochs=1:RandomSeed=1", dtype=np.float64)
    saved = model.save(tmp_path / "m.weights.xml")
    out = tmp_path / "sub" / "Job_PyLSTM.class.C"
    proc = subprocess.run(
        [sys.executable, "-m", "tmva_lstm", "make-class", str(saved), "--output", str(out)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert str(out) in proc.stdout
    got = run_class(out, tmp_path, model, X, np.full(len(X), 4))
    err = np.abs(got[:, 0] - model.predict(X)).max()
    assert err < 1e-12, f"float64 model: C++ class vs Model.predict {err:.3g}"


def test_cli_make_class_bad_title_is_one_line(tmp_path):
    rng = np.random.default_rng(8)
    model = tl.train(rng.normal(size=(40, 2, 2)), rng.integers(0, 2, 40), None,
                     "Layout=LSTM|2,LINEAR:MaxEpochs=1:RandomSeed=1")  # fmt: skip
    saved = model.save(tmp_path / "m.weights.xml")
    proc = subprocess.run(
        [sys.executable, "-m", "tmva_lstm", "make-class", str(saved), "--title", "my-title"],
        capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "'my-title' is not a C++ identifier" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not list(tmp_path.glob("*.class.C"))


def test_unsupported_layer_is_refused(monkeypatch):
    from dataclasses import replace

    from tmva_lstm import makeclass

    rng = np.random.default_rng(9)
    model = tl.train(rng.normal(size=(40, 2, 2)), rng.integers(0, 2, 40), None,
                     "Layout=LSTM|2,LINEAR:MaxEpochs=1:RandomSeed=1")  # fmt: skip
    layers = list(model.network.layers)
    layers[0] = replace(layers[0], kind="CONV")
    model.network = replace(model.network, layers=tuple(layers))
    with pytest.raises(OptionError, match=r"lstm_0 \(CONV\) has no C\+\+ emitter.*LSTM, GRU"):
        class_source(model)
    monkeypatch.setitem(makeclass.EMITTERS, "CONV", makeclass.EMITTERS["LSTM"])
    assert "Layer0" in class_source(model)  # an emitter registered for the kind is used


def test_class_runs_in_cling(per_step):
    ROOT = pytest.importorskip("ROOT")
    model = train(per_step.X, per_step.y, "Layout=LSTM|4,DENSE|6|TANH,LINEAR:VarTransform=N")
    source = class_source(model, title="ClingTest")
    assert declare(source), "cling could not compile the class"
    names = ROOT.std.vector["std::string"]()
    for name in model.variable_names:
        names.push_back(name)
    reader = ROOT.ReadClingTest(names)
    assert reader.IsStatusClean()
    X = per_step.X[:20]
    got = np.array([reader.GetMvaValue(ROOT.std.vector["double"](x.ravel().tolist())) for x in X])
    assert_scores(got, model.predict(X), "cling")


TYPED_DRIVER = r"""
#include CLASS_FILE
#include <cstdio>
int main()
{
   int nvar = 0, n = 0;
   if (std::scanf("%d %d", &nvar, &n) != 2) return 1;
   std::vector<std::string> names(nvar);
   for (auto &name : names) {
      char buf[256];
      if (std::scanf("%255s", buf) != 1) return 1;
      name = buf;
   }
   ReadPyLSTM reader(names);
   if (!reader.IsStatusClean()) return 2;
   std::vector<double> values(nvar);
   for (int e = 0; e < n; ++e) {
      for (auto &v : values)
         if (std::scanf("%lf", &v) != 1) return 1;
#ifdef MULTICLASS
      const IClassifierReader &base = reader;  // TMVA's interface: GetMulticlassValues
      for (double p : base.GetMulticlassValues(values)) std::printf("%.17g ", p);
#else
      for (double t : reader.GetRegressionValues(values)) std::printf("%.17g ", t);
      std::printf("%.17g ", reader.GetMvaValue(values));  // the first target
#endif
      std::printf("\n");
   }
   return 0;
}
"""


@needs_gxx
@pytest.mark.parametrize("kind", ["Multiclass", "Regression"])
def test_multiclass_and_regression_classes_equal_predict(kind, tmp_path):
    """TMVA's MakeClass for Multiclass answers GetMulticlassValues (the softmax of the K
    outputs); for Regression GetMvaValue is the first target, GetRegressionValues all M, in
    the targets' units. Compiled with g++ -std=c++17 -Werror, equal to Model.predict."""
    rng = np.random.default_rng(11)
    X = (rng.normal(size=(150, 5, 3)) * 2 + 1).astype(np.float32)
    if kind == "Multiclass":
        y = rng.integers(0, 3, len(X))
        extra, names = "ErrorStrategy=MUTUALEXCLUSIVE:VarTransform=N", {"class_names": list("abc")}
    else:
        y = np.stack([X[:, :, 0].mean(1) * 10 + 50, X[:, -1, 2]], axis=1)
        extra, names = "VarTransform=N", {"target_names": ["mean", "last"]}
    model = tl.train(X, y, None, f"AnalysisType={kind}:{extra}:Layout=LSTM|4|0|0|0|1,GRU|3,"
                     "DENSE|5|TANH,LINEAR:MaxEpochs=1:BatchSize=50:RandomSeed=3:Silent",
                     **names)  # fmt: skip
    path = make_class(model, tmp_path / "Typed_PyLSTM.class.C")
    source = path.read_text()
    assert (
        "GetMulticlassValues( const std::vector<double>& inputValues ) const = 0" in source
    ) == (kind == "Multiclass")
    exe, driver = tmp_path / "typed.exe", tmp_path / "typed.cpp"
    driver.write_text(TYPED_DRIVER)
    flags = ["-DMULTICLASS"] if kind == "Multiclass" else []
    subprocess.run(
        ["g++", "-std=c++17", "-O1", "-Wall", "-Wextra", "-Werror", *flags,
         f'-DCLASS_FILE="{path}"', "-o", str(exe), str(driver)],
        check=True,
    )  # fmt: skip
    lines = [f"{X.shape[1] * X.shape[2]} {len(X)}", " ".join(model.variable_names)]
    lines += [" ".join(repr(float(v)) for v in x.ravel()) for x in X]
    out = subprocess.run([str(exe)], input="\n".join(lines), capture_output=True, text=True,
                         check=True).stdout  # fmt: skip
    got = np.array([[float(v) for v in line.split()] for line in out.splitlines()])
    ours = model.predict(X)
    if kind == "Multiclass":
        assert got.shape == (len(X), 3)
        np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-12)
        assert_scores(got, ours, "GetMulticlassValues")
    else:
        assert got.shape == (len(X), 3) and np.abs(ours[:, 0]).mean() > 20
        assert_scores(got[:, :2] / np.abs(ours).max(axis=0), ours / np.abs(ours).max(axis=0),
                      "GetRegressionValues (relative)")  # fmt: skip
        np.testing.assert_array_equal(got[:, 2], got[:, 0])
