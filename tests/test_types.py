"""The three analysis types through the Python API: Multiclass and Regression beside the
two-class Classification, on samples where the answer is known (``tests/sequences.py``).

The quality floors are what a PyTorch model of the same shape reaches with the same protocol
(measured by ``tests/torch_quality_types.py``; figures in each test's docstring).
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import tmva_lstm as tl
from tmva_lstm.errors import DataError, ModelFileError, NonFiniteInputError, OptionError
from tmva_lstm.nn.heads import head_for, softmax
from tmva_lstm.options import MethodOptions
from tmva_lstm.training import prepare_weights, resume

sys.path.insert(0, str(Path(__file__).parent))
from sequences import (  # noqa: E402
    CLASS_NAMES,
    TARGET_NAMES,
    bayes_accuracy,
    regression_sample,
    three_class_sample,
)

SHAPE = "WeightInitialization=XAVIERUNIFORM:Layout=LSTM|8,DENSE|32|TANH,LINEAR"
TRAINING = "MaxEpochs=20:BatchSize=32:LearningRate=3e-3:Silent"
MULTICLASS = f"AnalysisType=Multiclass:ErrorStrategy=MUTUALEXCLUSIVE:{SHAPE}:{TRAINING}"
REGRESSION = f"AnalysisType=Regression:VarTransform=N:{SHAPE}:{TRAINING}".replace(
    "MaxEpochs=20", "MaxEpochs=40"
)  # a key given twice would warn
QUICK = "Layout=LSTM|4,DENSE|8|TANH,LINEAR:MaxEpochs=2:BatchSize=20:RandomSeed=3:Silent"


@pytest.fixture(scope="module")
def multiclass_model():
    X, y = three_class_sample(1000, 0)
    return tl.train(X, y, None, f"{MULTICLASS}:RandomSeed=1", class_names=CLASS_NAMES)


@pytest.fixture(scope="module")
def regression_model():
    X, Y = regression_sample(3000, 0)
    return tl.train(X, Y, None, f"{REGRESSION}:RandomSeed=1", target_names=TARGET_NAMES)


def test_multiclass_learns_classes_that_differ_only_in_time_structure(multiclass_model):
    """3 classes of AR(1) sequences (rho = +0.5, -0.5, 0; the same N(0,1) at every step).

    Test-sample accuracy over seeds 0..4 (``tests/torch_quality_types.py``, 3000 training
    events, 20 epochs, stratified random validation split): PyTorch LSTM(8) -> 32 tanh -> 3
    with softmax cross-entropy 0.683 0.684 0.645 0.679 0.685 (mean 0.675); tmva_lstm
    0.673 0.644 0.648 0.662 0.674 (mean 0.660); Bayes-optimal 0.703 0.700 0.704 0.713 0.701.
    The floor is PyTorch's worst seed, 0.645 (this test: seed 0); chance is 0.333.
    """
    Xt, yt = three_class_sample(1000, 1000)
    p = multiclass_model.predict(Xt)
    assert p.shape == (3000, 3) and p.dtype == np.float64
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)
    accuracy = (p.argmax(axis=1) == yt).mean()
    assert accuracy >= 0.645, f"accuracy {accuracy:.3f} < PyTorch's floor 0.645"
    assert accuracy <= bayes_accuracy(Xt, yt) + 0.03  # no classifier beats Bayes by much
    assert multiclass_model.class_names == CLASS_NAMES


def test_regression_learns_known_functions_of_the_sequence(regression_model):
    """Targets 10 mean_t(x0) + 5 and 10 x1[first step] + 5 of white-noise sequences.

    Test-sample RMS / target std over seeds 0..4 (``tests/torch_quality_types.py``, 3000
    training events, 40 epochs, targets and inputs normalised to [-1, 1] as VarTransform=N):
    PyTorch [mean, first] [0.049 0.064] [0.071 0.064] [0.092 0.068] [0.056 0.078]
    [0.046 0.054]; tmva_lstm [0.069 0.102] [0.069 0.083] [0.084 0.063] [0.074 0.104]
    [0.049 0.063]. Worst seeds: PyTorch 0.092 and 0.078, tmva_lstm 0.084 and 0.104 (on the
    second target tmva_lstm averages 0.083 against PyTorch's 0.066). The floor, 0.10 and
    0.11, lies above both models' worst seeds (this test: seed 0). A constant prediction
    scores 1.0.
    """
    Xt, Yt = regression_sample(3000, 1000)
    p = regression_model.predict(Xt)
    assert p.shape == (3000, 2) and p.dtype == np.float64
    rms = np.sqrt(((p - Yt) ** 2).mean(axis=0)) / Yt.std(axis=0)
    assert rms[0] <= 0.10 and rms[1] <= 0.11, f"RMS/std {rms} above the floor 0.10, 0.11"
    assert abs(p.mean(axis=0) - Yt.mean(axis=0)).max() < 0.5  # in the targets' own units
    assert regression_model.target_names == TARGET_NAMES
    assert regression_model.target_transform.kind == "N"


def test_model_files_keep_analysis_type_names_and_target_transform(
    multiclass_model, regression_model, tmp_path
):
    X, _ = three_class_sample(50, 7)
    for model, kind, names in (
        (multiclass_model, "Multiclass", CLASS_NAMES),
        (regression_model, "Regression", TARGET_NAMES),
    ):
        path = model.save(tmp_path / f"{kind}.weights.xml")
        again = tl.load_model(path)
        assert np.array_equal(again.predict(X), model.predict(X))
        assert again.analysis_type == model.analysis_type
        root = ET.parse(path).getroot()
        info = {i.get("name"): i.get("value") for i in root.iter("Info")}
        assert info["AnalysisType"] == kind
        if kind == "Multiclass":
            assert [c.get("Name") for c in root.find("Classes")] == CLASS_NAMES
            assert again.class_names == CLASS_NAMES
        else:
            assert [c.get("Name") for c in root.find("Classes")] == ["Regression"]
            assert [t.get("Expression") for t in root.find("Targets")] == names
            assert again.target_names == names
            text = path.read_text()  # an edited target transformation fails the checksum
            edited = path.with_name("edited.xml")
            first = text.index('Name="offset"', text.index("<TargetTransform"))
            start = text.index(">", first) + 1
            edited.write_text(
                text[:start] + ("A" if text[start] != "A" else "B") + text[start + 1 :]
            )
            with pytest.raises(ModelFileError):
                tl.load_model(edited)


def test_single_regression_target_gives_n_by_1_and_identity_without_var_transform():
    X, Y = regression_sample(400, 3)
    model = tl.train(X, Y[:, 1], None, f"AnalysisType=Regression:{QUICK}")
    p = model.predict(X)
    assert p.shape == (400, 1) and model.target_names == ["target0"]
    assert model.target_transform.kind == "NONE"
    direct = model.logits(X).astype(np.float64)  # identity output: the linear output itself
    np.testing.assert_array_equal(p, direct)


def test_regression_event_weights_pull_the_prediction():
    """Two groups with the same inputs and targets 0 and 4: weights 3:1 put the best constant
    at 1 (the weighted mean), equal weights at 2."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(1200, 4, 1)).astype(np.float32)
    y = np.where(np.arange(1200) % 2 == 0, 0.0, 4.0)
    opts = f"AnalysisType=Regression:{QUICK}:LearningRate=1e-2".replace(
        "MaxEpochs=2:", "MaxEpochs=15:"
    )
    means = []
    for w in (np.ones(1200), np.where(y == 0, 3.0, 1.0)):
        means.append(tl.train(X, y, w, opts).predict(X).mean())
    assert abs(means[0] - 2.0) < 0.3 and abs(means[1] - 1.0) < 0.3, means


def test_multiclass_event_weights_enter_the_loss():
    """The weighted loss of a batch equals the loss of the batch with events repeated."""
    rng = np.random.default_rng(2)
    z, y = rng.normal(size=(6, 3)), np.array([0, 1, 2, 2, 1, 0])
    w = np.array([1, 2, 1, 3, 1, 1.0])
    for strategy in ("CROSSENTROPY", "MUTUALEXCLUSIVE", "SUMOFSQUARES"):
        head = head_for("Multiclass", strategy)
        rep = np.repeat(np.arange(6), w.astype(int))
        lw, _ = head.loss(z, head.encode(y, 3, np.float64), w)
        lr, _ = head.loss(z[rep], head.encode(y[rep], 3, np.float64), np.ones(len(rep)))
        assert lw * 6 == pytest.approx(lr * len(rep)), strategy


@pytest.mark.parametrize(
    "kind, strategy",
    [("Multiclass", "CROSSENTROPY"), ("Multiclass", "MUTUALEXCLUSIVE"),
     ("Multiclass", "SUMOFSQUARES"), ("Regression", "CROSSENTROPY"),
     ("Classification", "SUMOFSQUARES")],
)  # fmt: skip
def test_head_gradients_match_finite_differences(kind, strategy):
    rng = np.random.default_rng(4)
    k = 1 if kind == "Classification" else 3
    z = rng.normal(size=(5, k))
    w = rng.uniform(0.5, 2, size=5)
    head = head_for(kind, strategy)
    y = rng.normal(size=(5, k)) if kind == "Regression" else rng.integers(0, max(k, 2), 5)
    t = head.encode(y, k, np.float64)
    _, dz = head.loss(z, t, w)
    eps = 1e-6
    num = np.zeros_like(z)
    for idx in np.ndindex(*z.shape):
        zp, zm = z.copy(), z.copy()
        zp[idx] += eps
        zm[idx] -= eps
        num[idx] = (head.loss(zp, t, w)[0] - head.loss(zm, t, w)[0]) / (2 * eps)
    np.testing.assert_allclose(dz, num, rtol=1e-6, atol=1e-9)


def test_tmva_normalisations_of_the_losses():
    """TMVA: CROSSENTROPY and SUMOFSQUARES divide by N K, MUTUALEXCLUSIVE by N."""
    z, w = np.array([[0.5, -1.0, 2.0]]), np.array([2.0])
    t = np.array([[0.0, 0.0, 1.0]])
    sig = 1 / (1 + np.exp(-z))
    ce = -(t * np.log(sig) + (1 - t) * np.log(1 - sig)).sum() * 2 / 3
    assert head_for("Multiclass", "CROSSENTROPY").loss(z, t, w)[0] == pytest.approx(ce)
    sce = -np.log(softmax(z)[0, 2]) * 2
    assert head_for("Multiclass", "MUTUALEXCLUSIVE").loss(z, t, w)[0] == pytest.approx(sce)
    mse = ((z - t) ** 2).sum() * 2 / 3
    assert head_for("Regression").loss(z, t, w)[0] == pytest.approx(mse)


def test_prepare_weights_per_class_for_k_classes():
    y = np.array([0, 0, 1, 2, 2, 2])
    w = prepare_weights(y, np.array([1, 3, 5, 1, 1, 4.0]), ["a", "b", "c"])
    assert [w[y == k].sum() for k in range(3)] == pytest.approx([2, 1, 3])
    with pytest.raises(DataError, match="the c events have a total weight"):
        prepare_weights(y, np.array([1, 3, 5, 1, -1, 0.0]), ["a", "b", "c"])


def test_options_round_trip_with_analysis_type():
    o = MethodOptions.from_string("AnalysisType=multiclass:ErrorStrategy=MutualExclusive")
    assert (o.analysis_type, o.error_strategy) == ("MULTICLASS", "MUTUALEXCLUSIVE")
    assert MethodOptions.from_string(o.to_string()) == o
    assert MethodOptions.from_string("Regression").analysis_type == "REGRESSION"  # loose value
    with pytest.raises(OptionError, match="AnalysisType"):
        MethodOptions.from_string("AnalysisType=Clustering")


@pytest.mark.parametrize(
    "opts, y, kwargs, error, fragment",
    [
        ("", [0, 1, 2] * 20, {}, DataError, "AnalysisType=Multiclass"),
        ("AnalysisType=Multiclass", [0, 1, 3] * 20, {"class_names": ["a", "b", "c"]},
         DataError, "0..2"),
        ("AnalysisType=Multiclass", [0, 0, 2] * 20, {}, DataError, "class [1]"),
        ("AnalysisType=Multiclass", [0, 1, 0.5] * 20, {}, DataError, "integer class indices"),
        ("ErrorStrategy=MUTUALEXCLUSIVE", [0, 1] * 30, {}, OptionError, "Multiclass"),
        ("AnalysisType=Regression", np.zeros((60, 2, 2)), {}, DataError, "(N,) or (N, M)"),
        ("AnalysisType=Regression", np.zeros((60, 2)), {"target_names": ["a"]}, DataError,
         "1 target names for 2"),
        ("AnalysisType=Multiclass", [0, 1, 2] * 20, {"class_names": ["a", "a", "b"]},
         DataError, "unique"),
    ],
)  # fmt: skip
def test_bad_labels_and_targets(opts, y, kwargs, error, fragment):
    X = np.zeros((60, 3, 2), dtype=np.float32)
    with pytest.raises(error) as err:
        tl.train(X, np.asarray(y), None, f"{QUICK}:{opts}", **kwargs)
    assert fragment in str(err.value)


def test_nonfinite_regression_targets_stop_or_drop():
    X, Y = regression_sample(200, 4)
    Y[[3, 17], 0] = np.nan
    with pytest.raises(NonFiniteInputError, match="2 training events.*targets"):
        tl.train(X, Y, None, f"AnalysisType=Regression:{QUICK}")
    model = tl.train(X, Y, None, f"AnalysisType=Regression:NonFinite=DROP:{QUICK}")
    assert np.isfinite(model.predict(X)).all()


def test_multiclass_resume_equals_uninterrupted(tmp_path):
    X, y = three_class_sample(100, 9)
    opts = f"AnalysisType=Multiclass:{QUICK}".replace("MaxEpochs=2:", "MaxEpochs=4:")
    full = tl.train(X, y, None, opts)

    class Stop(Exception):
        pass

    def stop(epoch):
        if epoch == 2:
            raise Stop

    with pytest.raises(Stop):
        tl.train(X, y, None, opts, checkpoint=tmp_path / "c.xml", on_epoch=stop)
    again = resume(tmp_path / "c.xml", X, y)
    assert again.class_names == ["class0", "class1", "class2"]
    assert np.array_equal(again.predict(X), full.predict(X))
