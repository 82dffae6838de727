"""RNN and GRU layers inside the method: Layout parsing with MethodDL's fields, mixed stacks
(LSTM, GRU, RNN) through the network, the model file, training through the public API and
the command line."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from recurrent_oracles import finite_differences

import tmva_lstm as tl
from tmva_lstm.errors import ModelFileError, OptionError
from tmva_lstm.evaluate import roc_integral
from tmva_lstm.nn.losses import binary_cross_entropy
from tmva_lstm.nn.network import Network, flatten_params
from tmva_lstm.options import LayerSpec, MethodOptions, parse_layout

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "time_data_t10_d30.root"


# --------------------------------------------------------------------------- Layout


def test_layout_fields_and_defaults_as_methoddl():
    """ParseRecurrentLayer: TYPE|stateSize|inputSize|timeSteps|rememberState|returnSequence
    |resetGateAfter, positional, unspecified positions 0."""
    specs = parse_layout("GRU|6|3|5|0|1|1,RNN|4,GRU|5,LSTM|3|0|0|0|0|0,LINEAR")
    assert specs[0] == LayerSpec("GRU", 6, return_sequences=True, input_size=3, time_steps=5,
                                 reset_after=True)  # fmt: skip
    assert specs[1] == LayerSpec("RNN", 4)
    assert specs[2] == LayerSpec("GRU", 5)  # TMVA's default: reset gate before the matmul
    assert not specs[2].reset_after and not specs[2].return_sequences
    assert specs[3] == LayerSpec("LSTM", 3)
    assert [s.to_string() for s in specs[:3]] == [
        "GRU|6|3|5|0|1|1",
        "RNN|4|0|0|0|0",
        "GRU|5|0|0|0|0|0",
    ]
    assert parse_layout("gru|4,linear")[0].kind == "GRU"  # keys are case-insensitive here


@pytest.mark.parametrize(
    ("layout", "fragment"),
    [
        ("GRU|4|0|0|1,LINEAR", "rememberState=1"),
        ("RNN|0,LINEAR", "needs a positive state size, e.g. RNN|10"),
        ("GRU|x,LINEAR", "use GRU|stateSize|inputSize|timeSteps|rememberState|returnSequence|"),
        ("RNN|4|0|0|0|1|1,LINEAR", "resetGateAfter (the sixth number) applies to GRU"),
        ("LSTM|4|0|0|0|1|1,LINEAR", "applies to GRU layers only"),
        ("GRU|4|0|0|0|1|1|0,LINEAR", "has 7 numbers; at most 6"),
        ("GRU|4", "must end with a DENSE layer"),
    ],
)
def test_bad_recurrent_layers_name_the_layer(layout, fragment):
    with pytest.raises(OptionError, match=re.escape(fragment)):
        MethodOptions.from_string(f"Layout={layout}")


def test_mixed_stack_resolves_like_methoddl():
    net = Network.from_layout("LSTM|8|0|0|0|1,GRU|6|0|0|0|1|1,RNN|4,DENSE|16|TANH,LINEAR", 10, 3)
    assert [(la.name, la.kind, la.n_in, la.units) for la in net.layers] == [
        ("lstm_0", "LSTM", 3, 8),
        ("gru_1", "GRU", 8, 6),
        ("rnn_2", "RNN", 6, 4),
        ("dense_3", "DENSE", 4, 16),
        ("dense_4", "DENSE", 16, 1),
    ]
    assert net.layers[1].reset_after and not net.layers[0].reset_after
    assert net.to_layout() == (
        "LSTM|8|3|10|0|1,GRU|6|8|10|0|1|1,RNN|4|6|10|0|0,DENSE|16|TANH,DENSE|1|LINEAR"
    )
    assert Network.from_layout(net.to_layout(), 10, 3) == net
    shapes = net.param_shapes()
    assert shapes["gru_1"] == {"W": (8, 18), "U": (6, 18), "b": (18,)}
    assert shapes["rnn_2"] == {"W": (6, 4), "U": (4, 4), "b": (4,)}
    # TMVA's parameter counts: GRU 3 (H D + H H + H), RNN H D + H H + H
    params = net.init_params(np.random.default_rng(0))
    assert sum(a.size for a in params["gru_1"].values()) == 3 * (6 * 8 + 6 * 6 + 6)
    assert sum(a.size for a in params["rnn_2"].values()) == 4 * 6 + 4 * 4 + 4
    with pytest.raises(OptionError, match="GRU layer 1 receives a single vector"):
        Network.from_layout("RNN|4,GRU|3,LINEAR", 10, 3)
    with pytest.raises(OptionError, match=r"RNN layer 0 declares input size 5 but receives 3"):
        Network.from_layout("RNN|4|5,LINEAR", 10, 3)


STACKS = [
    "LSTM|2|0|0|0|1,GRU|2|0|0|0|1|1,RNN|2|0|0|0|1,RESHAPE|FLAT,DENSE|3|TANH,LINEAR",
    "GRU|3|0|0|0|1,LSTM|2,LINEAR",
    "RNN|3|0|0|0|1,GRU|2|0|0|0|0|1,DENSE|4|SOFTSIGN,LINEAR",
]


@pytest.mark.parametrize("layout", STACKS)
def test_whole_stack_gradients_by_finite_differences(layout, rng):
    """Every parameter of a mixed stack, masked inputs, weighted cross-entropy."""
    net = Network.from_layout(layout, time_steps=4, features=2)
    params = net.init_params(rng, "XAVIER", np.float64)
    for d in params.values():  # non-zero biases so every path is exercised
        d["b"] += rng.normal(size=d["b"].shape) * 0.3
    x = rng.normal(size=(3, 4, 2))
    mask = np.ones((3, 4), dtype=bool)
    mask[1, 2:] = False
    mask[2, 3] = False
    y, w = np.array([1.0, 0.0, 1.0]), rng.random(3) + 0.5

    def loss() -> float:
        return binary_cross_entropy(net.logits(params, x, mask)[:, 0], y, w)[0]

    out, caches = net.forward(params, x, mask)
    _, dz = binary_cross_entropy(out[:, 0], y, w)
    grads = flatten_params(net.backward(params, dz[:, None], caches))
    flat = flatten_params(params)
    assert sorted(grads) == sorted(flat)
    for key, p in flat.items():
        numeric = finite_differences(loss, p)
        np.testing.assert_allclose(grads[key], numeric, rtol=1e-6, atol=1e-9, err_msg=key)


# --------------------------------------------------------------------------- training, files


def toy_sequences(n: int, T: int, seed: int):
    """Classes that differ only in time order: signal rises, background falls (same values)."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(-1.0, 1.0, T)
    y = (rng.random(n) < 0.5).astype(float)
    sign = np.where(y == 1, 1.0, -1.0)
    X = np.empty((n, T, 2), dtype=np.float32)
    X[:, :, 0] = sign[:, None] * ramp[None, :] + rng.normal(0, 0.8, (n, T))
    X[:, :, 1] = rng.normal(0, 1.0, (n, T))
    return X, y


@pytest.mark.parametrize(
    "layout", ["GRU|6,DENSE|8|TANH,LINEAR", "RNN|6,LINEAR", "GRU|5|0|0|0|1|1,RNN|4,LINEAR"]
)
def test_train_through_the_public_api_and_save(layout, tmp_path):
    """The classes share every value distribution; only the order in time separates them."""
    X, y = toy_sequences(600, 8, 1)
    opts = f"Layout={layout}:MaxEpochs=15:BatchSize=32:LearningRate=0.01:RandomSeed=2:Silent"
    model = tl.train(X[:400], y[:400], None, opts)
    scores = model.predict(X[400:])
    roc = roc_integral(scores, y[400:])
    assert roc > 0.9, f"{layout}: ROC integral {roc:.3f} on held-out events"
    path = model.save(tmp_path / "m.weights.xml")
    again = tl.load_model(path)
    assert again.network == model.network
    assert np.array_equal(again.predict(X[400:]), scores)
    text = path.read_text()
    assert 'Kind="GRU"' in text or 'Kind="RNN"' in text


def test_model_file_stores_the_reset_gate_placement(tmp_path):
    X, y = toy_sequences(200, 5, 3)
    model = tl.train(X, y, None, "Layout=GRU|4|0|0|0|0|1,LINEAR:MaxEpochs=1:RandomSeed=1:Silent")
    path = model.save(tmp_path / "gru.weights.xml")
    text = path.read_text()
    assert 'ResetGateAfter="1"' in text and "GRU|4|2|5|0|0|1" in text
    tampered = tmp_path / "tampered.weights.xml"
    tampered.write_text(text.replace('ResetGateAfter="1"', 'ResetGateAfter="0"'))
    with pytest.raises(ModelFileError, match="layers do not match the stored Layout"):
        tl.load_model(tampered)


def test_cli_trains_a_gru_on_the_sample(tmp_path):
    """``tmva-lstm train`` with the tutorial's GRU row (TMVA_RNN_Classification, use_type 2)."""
    if not SAMPLE.exists():
        pytest.skip(f"{SAMPLE} is missing")
    opts = "Layout=GRU|10|30|10|0|1,RESHAPE|FLAT,DENSE|64|TANH,LINEAR:MaxEpochs=2:BatchSize=100"
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "tmva_lstm", "train", "--signal", f"{SAMPLE}:sgn",
         "--background", f"{SAMPLE}:bkg", "--layout", "per-step:vars_time{t}",
         "-o", opts + ":RandomSeed=5", "--output-dir", str(out), "--title", "GRU",
         "--n-train-signal", "400", "--n-train-background", "400"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    model = tl.load_model(out / "dataset/weights/TMVAClassification_GRU.weights.xml")
    assert [la.kind for la in model.network.layers][0] == "GRU"
    roc = float(proc.stdout.rsplit("ROC integral (TMVA):", 1)[1].split()[0])
    assert 0.5 < roc <= 1.0


# --------------------------------------------------------------------------- MakeClass


@pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed")
@pytest.mark.parametrize(
    "layout",
    [
        "GRU|5,DENSE|4|TANH,LINEAR",  # TMVA's default: reset gate before the matmul
        "GRU|5|0|0|0|1|1,RNN|4,LINEAR",  # reset after, a sequence into a plain RNN
        "RNN|4|0|0|0|1,RESHAPE|FLAT,DENSE|6|RELU,LINEAR",
        "LSTM|4|0|0|0|1,GRU|3|0|0|0|1,RNN|3,LINEAR",
    ],
)
def test_make_class_gru_and_rnn_compile_with_gxx_and_score_like_predict(layout, tmp_path):
    """The C++ class of GRU and RNN layers (g++ -std=c++17 -Wall -Wextra -Werror), on padded
    sequences: GetMvaValue(values, nSteps) equals Model.predict(X, mask) and GetMvaValue(values)
    equals Model.predict(X)."""
    from test_makeclass import assert_scores, run_class

    from tmva_lstm.makeclass import make_class

    X, y = toy_sequences(120, 6, 7)
    steps = np.random.default_rng(8).integers(1, 7, len(X))
    mask = np.arange(6)[None, :] < steps[:, None]
    X[~mask] = 0.0
    model = tl.train(X, y, None, f"Layout={layout}:MaxEpochs=2:RandomSeed=3:VarTransform=N:Silent",
                     mask=mask)  # fmt: skip
    model.data_layout = "jagged:a,b:max=6"  # as tmva-lstm train records it: nSteps overload
    if "GRU|5|0|0|0|1|1" in layout:  # PyTorch's recurrent candidate bias, inside the reset gate
        model.params["gru_0"]["b_hn"] = np.linspace(-0.5, 0.5, 5).astype(np.float32)
    cls = make_class(model, tmp_path / "recurrent.class.C")
    got = run_class(cls, tmp_path, model, X, steps)
    assert_scores(got[:, 1], model.predict(X, mask), "GetMvaValue(values, nSteps)")
    assert_scores(got[:, 0], model.predict(X), "GetMvaValue(values)")
    assert np.abs(got[:, 1] - got[:, 0]).max() > 1e-4, "the padding must matter here"
