"""Tests of tmva_lstm.export_onnx: the exported graph scores events as Model.predict does.

Oracles: onnxruntime (an independent C++ implementation of ONNX) and
onnx.reference.ReferenceEvaluator (the NumPy reference implementation of the ONNX spec);
TMVA SOFIE's generated C++ where ROOT has SOFIE. Scores are probabilities in [0, 1]: they
must agree to 1e-5 absolute (float32 networks, float64 sigmoid in Model.predict).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from tmva_lstm.errors import DependencyError, ModelFileError, OptionError
from tmva_lstm.export_onnx import (
    DEFAULT_OPSET,
    INPUT_NAME,
    LENGTH_NAME,
    OUTPUT_NAME,
    export_onnx,
    export_onnx_file,
    onnx_gru_weights,
    onnx_lstm_weights,
    onnx_rnn_weights,
    to_onnx,
)
from tmva_lstm.model import InputTransform, Model
from tmva_lstm.nn.activations import ACTIVATIONS
from tmva_lstm.nn.network import Layer, Network
from tmva_lstm.options import MethodOptions

ATOL = 1e-5
T, F = 4, 3
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "time_data_t10_d30.root"
TUTORIAL = "InputLayout=10|30:Layout=LSTM|10|30|10|0|1,RESHAPE|FLAT,DENSE|64|TANH,LINEAR"

# What RModelParser_ONNX registers (tmva/sofie_parsers/src/RModelParser_ONNX.cxx and the
# Register*Parsers it calls), restricted to what an exporter of ours could want.
SOFIE_OPS = {
    "Abs", "Add", "Div", "Exp", "Flatten", "GRU", "Gemm", "Identity", "LSTM", "Mul", "Neg", "RNN",
    "Relu", "Reshape", "Sigmoid", "Softmax", "Sub", "Tanh", "Transpose",
}  # fmt: skip

LAYOUTS = {
    "last-state": "LSTM|5,DENSE|8|TANH,LINEAR",
    "sequences+flatten": "LSTM|5|0|0|0|1,RESHAPE|FLAT,DENSE|8|TANH,LINEAR",
    "implicit-flatten": "LSTM|5|0|0|0|1,DENSE|8|TANH,LINEAR",
    "stacked": "LSTM|6|0|0|0|1,LSTM|4,DENSE|8|TANH,LINEAR",
    "stacked-sequences": "LSTM|6|0|0|0|1,LSTM|4|0|0|0|1,RESHAPE|FLAT,DENSE|8|RELU,LINEAR",
    "lstm-to-output": "LSTM|5,LINEAR",
    "dense-only": "DENSE|8|TANH,LINEAR",
    "flatten-dense": "RESHAPE|FLAT,DENSE|8|SIGMOID,DENSE|4|TANH,LINEAR",
    "gru-reset-before": "GRU|5,DENSE|8|TANH,LINEAR",
    "gru-reset-after-sequences": "GRU|5|0|0|0|1|1,RESHAPE|FLAT,DENSE|8|TANH,LINEAR",
    "rnn-to-output": "RNN|5,LINEAR",
    "rnn-sequences": "RNN|4|0|0|0|1,DENSE|6|RELU,LINEAR",
    "mixed-stack": "LSTM|6|0|0|0|1,GRU|4|0|0|0|1|1,RNN|3,DENSE|8|TANH,LINEAR",
}


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def onnx():
    return pytest.importorskip("onnx")


@pytest.fixture(scope="module")
def ort():
    return pytest.importorskip("onnxruntime")


def make_model(
    layout: str, rng: np.random.Generator, var_transform: str = "N", t: int = T, f: int = F
) -> tuple[Model, np.ndarray]:
    """A model with random weights and non-zero biases, and events to score with it."""
    network = Network.from_layout(layout, t, f)
    params = network.init_params(rng, "XAVIER", np.float32)
    for p in params.values():
        p["b"] += rng.normal(0.0, 0.5, p["b"].shape).astype(np.float32)
    # Variables far from [-1, 1], so that the transformation matters.
    X = (rng.normal(size=(11, t, f)) * 4 + 3).astype(np.float32)
    transform = (
        InputTransform.fit(var_transform, X) if var_transform != "NONE" else InputTransform()
    )
    options = MethodOptions.from_string(f"VarTransform={var_transform}:Layout={layout}")
    names = [f"v{i}" for i in range(t * f)]
    return Model(network, params, options, names, transform), X


def ort_session(ort, proto_or_path):
    opts = ort.SessionOptions()
    opts.log_severity_level = 3  # errors only on stderr
    source = (
        proto_or_path.SerializeToString()
        if hasattr(proto_or_path, "SerializeToString")
        else str(proto_or_path)
    )
    return ort.InferenceSession(source, opts, providers=["CPUExecutionProvider"])


def run_batched(run, X: np.ndarray, batch_size: int | None, lengths: np.ndarray | None = None):
    """Scores ``(N,)`` from ``run(feeds) -> score (B, 1)``, in batches of the exported size;
    the last batch is padded with zero events (length T) whose scores are dropped."""
    n = len(X)
    b = n if batch_size is None else batch_size
    out = []
    for start in range(0, n, b):
        xb = X[start : start + b]
        lb = None if lengths is None else lengths[start : start + b]
        pad = b - len(xb)
        if pad:
            xb = np.concatenate([xb, np.zeros((pad, *X.shape[1:]), X.dtype)])
            lb = None if lb is None else np.concatenate([lb, np.full(pad, X.shape[1])])
        feeds = {INPUT_NAME: np.ascontiguousarray(xb, dtype=np.float32)}
        if lb is not None:
            feeds[LENGTH_NAME] = lb.astype(np.int32)
        score = np.asarray(run(feeds))
        assert score.shape == (b, 1) and score.dtype == np.float32
        out.append(score[: b - pad, 0])
    return np.concatenate(out).astype(np.float64)


def scores(ort, proto, X, batch_size, lengths=None, reference=True) -> dict[str, np.ndarray]:
    sess = ort_session(ort, proto)
    got = {
        "onnxruntime": run_batched(
            lambda feeds: sess.run([OUTPUT_NAME], feeds)[0], X, batch_size, lengths
        )
    }
    if reference:
        from onnx.reference import ReferenceEvaluator

        ref = ReferenceEvaluator(proto)
        got["ReferenceEvaluator"] = run_batched(
            lambda feeds: ref.run([OUTPUT_NAME], feeds)[0], X, batch_size, lengths
        )
    return got


def assert_matches(ours: np.ndarray, got: dict[str, np.ndarray]) -> None:
    for who, theirs in got.items():
        np.testing.assert_allclose(
            theirs, ours, rtol=0, atol=ATOL, err_msg=f"{who} (actual) vs Model.predict (desired)"
        )


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize("layout", list(LAYOUTS.values()), ids=list(LAYOUTS))
def test_every_layout_scores_like_predict(layout, rng, onnx, ort):
    model, X = make_model(layout, rng)
    proto = to_onnx(model, batch_size=None)
    assert_matches(model.predict(X), scores(ort, proto, X, None))


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_dense_activation(activation, rng, onnx, ort):
    layout = f"LSTM|5,DENSE|8|{activation},DENSE|6|{activation},LINEAR"
    model, X = make_model(layout, rng)
    proto = to_onnx(model, batch_size=None)
    assert_matches(model.predict(X), scores(ort, proto, X, None))


@pytest.mark.parametrize("var_transform", ["NONE", "N"])
def test_input_transformation_is_in_the_graph(var_transform, rng, onnx, ort):
    model, X = make_model("LSTM|5|0|0|0|1,DENSE|8|TANH,LINEAR", rng, var_transform)
    proto = to_onnx(model, batch_size=None)
    ops = [n.op_type for n in proto.graph.node]
    assert (ops[:2] == ["Sub", "Mul"]) == (var_transform == "N")
    assert_matches(model.predict(X), scores(ort, proto, X, None))


@pytest.mark.parametrize("batch_size", [1, 3, 11, None])
def test_batch_sizes(batch_size, rng, onnx, ort, tmp_path):
    model, X = make_model("LSTM|6|0|0|0|1,LSTM|4,DENSE|8|TANH,LINEAR", rng)
    path = export_onnx(model, tmp_path / "model.onnx", batch_size=batch_size)
    proto = onnx.load(str(path))
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    if batch_size is None:
        assert dims[0].dim_param == "batch"
    else:
        assert dims[0].dim_value == batch_size
    assert_matches(model.predict(X), scores(ort, proto, X, batch_size))


@pytest.mark.parametrize("opset", [13, DEFAULT_OPSET])
def test_opsets(opset, rng, onnx, ort):
    model, X = make_model("LSTM|5|0|0|0|1,RESHAPE|FLAT,DENSE|8|SOFTSIGN,LINEAR", rng)
    proto = to_onnx(model, batch_size=None, opset=opset)
    assert proto.opset_import[0].version == opset
    assert_matches(model.predict(X), scores(ort, proto, X, None))


def test_newest_opset_with_the_reference(rng, onnx):
    from onnx.reference import ReferenceEvaluator

    newest = onnx.defs.onnx_opset_version()
    model, X = make_model("LSTM|5,DENSE|8|GAUSS,LINEAR", rng)
    proto = to_onnx(model, batch_size=None, opset=newest)
    got = ReferenceEvaluator(proto).run([OUTPUT_NAME], {INPUT_NAME: X})[0][:, 0]
    assert_matches(model.predict(X), {"ReferenceEvaluator": got.astype(np.float64)})


def test_float64_model_exports_float32(rng, onnx, ort):
    model, X = make_model("LSTM|5,DENSE|8|TANH,LINEAR", rng)
    model.params = {
        k: {n: a.astype(np.float64) for n, a in p.items()} for k, p in model.params.items()
    }
    proto = to_onnx(model, batch_size=None)
    assert {t.data_type for t in proto.graph.initializer} <= {
        onnx.TensorProto.FLOAT,
        onnx.TensorProto.INT64,
    }
    assert_matches(model.predict(X), scores(ort, proto, X, None))


@pytest.mark.parametrize(
    "layout",
    [
        "LSTM|5,DENSE|8|TANH,LINEAR",
        "LSTM|6|0|0|0|1,LSTM|4|0|0|0|1,DENSE|8|GAUSS,LINEAR",
        "GRU|5,DENSE|8|TANH,LINEAR",
        "GRU|5|0|0|0|1|1,RNN|4|0|0|0|1,RESHAPE|FLAT,DENSE|8|TANH,LINEAR",
        "RNN|5,LINEAR",
    ],
)
def test_sequence_lengths_reproduce_masked_predictions(layout, rng, onnx, ort):
    model, X = make_model(layout, rng)
    lengths = np.array([1, 2, 3, 4, 4, 1, 2, 3, 4, 2, 3])
    mask = np.arange(T) < lengths[:, None]
    X[~mask] = rng.normal(size=(int((~mask).sum()), F)) * 50  # garbage in the padding
    model.transform = InputTransform.fit("N", X, mask)
    ours = model.predict(X, mask)
    proto = to_onnx(model, batch_size=None, sequence_lengths=True)
    assert [i.name for i in proto.graph.input] == [INPUT_NAME, LENGTH_NAME]
    # The ReferenceEvaluator ignores sequence_lens ("TODO" in onnx/reference/ops/op_lstm.py).
    assert_matches(ours, scores(ort, proto, X, None, lengths, reference=False))
    # Without lengths, the full-length events still agree; the padded ones do not.
    plain = scores(ort, to_onnx(model, batch_size=None), X, None, reference=False)["onnxruntime"]
    full = lengths == T
    np.testing.assert_allclose(plain[full], ours[full], rtol=0, atol=ATOL)
    assert np.abs(plain[~full] - ours[~full]).max() > 1e-3


def test_tutorial_network_on_the_sample_data(onnx, ort, tmp_path):
    if not SAMPLE.exists():
        pytest.skip(f"{SAMPLE} is not there yet (data/make_sample.py writes it)")
    uproot = pytest.importorskip("uproot")
    from tmva_lstm.training import train

    branches = [f"vars_time{t}" for t in range(10)]
    with uproot.open(SAMPLE) as f:
        sgn, bkg = (
            np.stack([a[b] for b in branches], axis=1)
            for a in (
                f[tree].arrays(branches, library="np", entry_stop=150) for tree in ("sgn", "bkg")
            )
        )
    X = np.concatenate([sgn, bkg]).astype(np.float32)  # (300, 10, 30)
    y = np.r_[np.ones(len(sgn)), np.zeros(len(bkg))]
    model = train(X, y, None, f"RandomSeed=1:VarTransform=N:{TUTORIAL}:MaxEpochs=1:Silent")
    ours = model.predict(X)
    proto = to_onnx(model, batch_size=None)
    assert_matches(ours, scores(ort, proto, X, None))
    # The SOFIE form: batch 1 (the default), written to disk and read back.
    path = export_onnx(model, tmp_path / "tutorial.onnx")
    assert_matches(ours[:20], scores(ort, onnx.load(str(path)), X[:20], 1))


def test_onnx_lstm_weights_gate_order(rng):
    H, Fi = 2, 3
    W = np.arange(Fi * 4 * H, dtype=np.float32).reshape(Fi, 4 * H)
    U = np.arange(H * 4 * H, dtype=np.float32).reshape(H, 4 * H) + 100
    b = np.arange(4 * H, dtype=np.float32) + 1000
    Wo, Ro, Bo = onnx_lstm_weights({"W": W, "U": U, "b": b})
    assert Wo.shape == (1, 4 * H, Fi) and Ro.shape == (1, 4 * H, H) and Bo.shape == (1, 8 * H)
    i, f, g, o = (slice(k * H, (k + 1) * H) for k in range(4))
    for k, ours in enumerate([i, o, f, g]):  # ONNX blocks: i, o, f, c
        rows = slice(k * H, (k + 1) * H)
        np.testing.assert_array_equal(Wo[0, rows], W[:, ours].T)
        np.testing.assert_array_equal(Ro[0, rows], U[:, ours].T)
        np.testing.assert_array_equal(Bo[0, rows], b[ours])
    np.testing.assert_array_equal(Bo[0, 4 * H :], 0)


def test_onnx_gru_and_rnn_weights_block_order(rng):
    H, Fi = 2, 3
    W = np.arange(Fi * 3 * H, dtype=np.float32).reshape(Fi, 3 * H)
    U = np.arange(H * 3 * H, dtype=np.float32).reshape(H, 3 * H) + 100
    b = np.arange(3 * H, dtype=np.float32) + 1000
    b_hn = np.arange(H, dtype=np.float32) + 5000
    Wo, Ro, Bo = onnx_gru_weights({"W": W, "U": U, "b": b, "b_hn": b_hn})
    assert Wo.shape == (1, 3 * H, Fi) and Ro.shape == (1, 3 * H, H) and Bo.shape == (1, 6 * H)
    r, z, n = (slice(k * H, (k + 1) * H) for k in range(3))
    for k, ours in enumerate([z, r, n]):  # ONNX blocks: z, r, h
        rows = slice(k * H, (k + 1) * H)
        np.testing.assert_array_equal(Wo[0, rows], W[:, ours].T)
        np.testing.assert_array_equal(Ro[0, rows], U[:, ours].T)
        np.testing.assert_array_equal(Bo[0, rows], b[ours])
    np.testing.assert_array_equal(Bo[0, 3 * H : 5 * H], 0)  # Rb_z, Rb_r
    np.testing.assert_array_equal(Bo[0, 5 * H :], b_hn)  # Rb_h inside the reset gate
    Wr, Rr, Br = onnx_rnn_weights({"W": W[:, :H], "U": U[:, :H], "b": b[:H]})
    np.testing.assert_array_equal(Wr[0], W[:, :H].T)
    np.testing.assert_array_equal(Rr[0], U[:, :H].T)
    np.testing.assert_array_equal(Br[0], np.r_[b[:H], np.zeros(H)])


def test_gru_with_pytorch_b_hn_scores_like_predict(rng, onnx, ort):
    """A reset-after GRU holding PyTorch's recurrent candidate bias (e.g. from gru.from_torch):
    ONNX's Rb_h with linear_before_reset=1 is the same term."""
    model, X = make_model("GRU|5|0|0|0|0|1,DENSE|8|TANH,LINEAR", rng)
    model.params["gru_0"]["b_hn"] = rng.normal(0.0, 0.7, 5).astype(np.float32)
    proto = to_onnx(model, batch_size=None)
    (gru,) = [nd for nd in proto.graph.node if nd.op_type == "GRU"]
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in gru.attribute}
    assert attrs["linear_before_reset"] == 1
    assert_matches(model.predict(X), scores(ort, proto, X, None))


@pytest.mark.parametrize("layout", ["LSTM|5,DENSE|8|TANH,LINEAR", "GRU|4|0|0|0|1,RNN|3,LINEAR"])
def test_a_model_trained_with_masks_exports_its_lengths(layout, rng, onnx, ort):
    """Issue 11: the default graph of a masked model takes 'length'; without it, refused."""
    model, X = make_model(layout, rng)
    assert [i.name for i in to_onnx(model, batch_size=None).graph.input] == [INPUT_NAME]
    model.trained_with_mask = True
    proto = to_onnx(model, batch_size=None)
    assert [i.name for i in proto.graph.input] == [INPUT_NAME, LENGTH_NAME]
    lengths = np.array([0, 1, 2, 3, 4, 4, 1, 2, 3, 4, 2])
    mask = np.arange(T) < lengths[:, None]
    X[~mask] = 0.0
    got = scores(ort, proto, X, None, lengths, reference=False)
    assert_matches(model.predict(X, mask), got)
    with pytest.raises(OptionError, match="trained on padded variable-length sequences"):
        to_onnx(model, sequence_lengths=False)
    model.trained_with_mask, model.data_layout = False, "jagged:pt,eta:max=4"  # older files
    assert len(to_onnx(model, batch_size=None).graph.input) == 2


def test_cli_exports_a_jagged_model_with_lengths(rng, onnx, ort, tmp_path):
    """Issue 11, end to end: train on a jagged ntuple, export with the command, and score the
    same events with onnxruntime: the ONNX scores equal Model.predict on the padded events."""
    import subprocess

    import awkward as ak
    import uproot

    import tmva_lstm as tl

    n, T_max = 300, 5
    counts = rng.integers(0, 8, n)
    sig = np.arange(n) % 2 == 0
    pt = rng.exponential(5.0, counts.sum()) + np.repeat(np.where(sig, 2.0, 0.0), counts)
    eta = rng.normal(size=counts.sum())
    path = tmp_path / "jagged.root"
    branches = {
        "trk_pt": ak.unflatten(pt.astype(np.float32), counts),
        "trk_eta": ak.unflatten(eta.astype(np.float32), counts),
    }
    with uproot.recreate(path) as f:  # a TTree (uproot's mktree), not an RNTuple
        tree = f.mktree(
            "ev", {**{k: v.type.content for k, v in branches.items()}, "isSignal": bool}
        )
        tree.extend({**branches, "isSignal": sig})
    layout = f"jagged:trk_pt,trk_eta:max={T_max}"
    out = tmp_path / "run"
    env_run = [sys.executable, "-m", "tmva_lstm"]
    proc = subprocess.run(
        [*env_run, "train", "--signal", f"{path}:ev", "--class-expr", "isSignal", "--layout",
         layout, "-o", "Layout=GRU|6,DENSE|8|TANH,LINEAR:MaxEpochs=2:RandomSeed=4:VarTransform=N",
         "--output-dir", str(out), "--title", "GRU"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    weights = out / "dataset/weights/TMVAClassification_GRU.weights.xml"
    onnx_path = tmp_path / "jagged_model.onnx"
    proc = subprocess.run(
        [*env_run, "export-onnx", str(weights), "--output", str(onnx_path), "--batch-size", "7"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    proto = onnx.load(str(onnx_path))
    assert [i.name for i in proto.graph.input] == [INPUT_NAME, LENGTH_NAME]

    data = tl.load(f"{path}:ev", class_expr="isSignal", layout=layout)
    model = tl.load_model(weights)
    ours = model.predict(data.X, data.mask)
    got = scores(ort, proto, data.X, 7, data.lengths, reference=False)
    assert_matches(ours, got)
    assert (data.lengths < T_max).sum() > 50  # many padded events were compared

    refused = subprocess.run(
        [*env_run, "export-onnx", str(weights), "--output", str(tmp_path / "no.onnx"),
         "--no-sequence-lengths"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert refused.returncode == 2
    assert "--sequence-lengths" in refused.stderr and "Traceback" not in refused.stderr
    assert not (tmp_path / "no.onnx").exists()


# --------------------------------------------------------------------------- the file


def test_file_passes_the_checker_and_fits_sofie(rng, onnx, tmp_path):
    model, _ = make_model(
        "LSTM|6|0|0|0|1,LSTM|4|0|0|0|1,DENSE|8|SOFTSIGN,DENSE|4|GAUSS,LINEAR", rng
    )
    path = export_onnx(model, tmp_path / "model.onnx")
    assert path == tmp_path / "model.onnx"
    onnx.checker.check_model(str(path), full_check=True)
    proto = onnx.load(str(path))
    assert proto.opset_import[0].domain == "" and proto.opset_import[0].version == DEFAULT_OPSET
    assert proto.ir_version == onnx.helper.find_min_ir_version_for(list(proto.opset_import))

    (x,) = proto.graph.input
    (score,) = proto.graph.output
    assert (x.name, score.name) == (INPUT_NAME, OUTPUT_NAME)
    assert x.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert score.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert [d.dim_value for d in x.type.tensor_type.shape.dim] == [1, T, F]
    assert [d.dim_value for d in score.type.tensor_type.shape.dim] == [1, 1]

    # Only operators SOFIE parses, in the forms its parsers read.
    initializers = {t.name for t in proto.graph.initializer}
    assert {n.op_type for n in proto.graph.node} <= SOFIE_OPS
    for node in proto.graph.node:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type == "Flatten":
            assert attrs.get("axis", 1) == 1  # ParseReshape never reads Flatten's axis
        if node.op_type == "Reshape":
            assert node.input[1] in initializers and not attrs
        if node.op_type == "LSTM":
            assert attrs.get("direction", b"forward") == b"forward"  # SOFIE rejects "reverse"
            assert attrs.get("layout", 0) == 0  # onnxruntime rejects layout=1
            assert "activations" not in attrs and "clip" not in attrs
            assert len(node.input) == 4 and node.input[3] in initializers  # B pre-broadcast
            assert len(node.output) <= 2  # no Y_c
        if node.op_type == "Gemm":
            assert attrs == {"transB": 1} and node.input[1] in initializers
    # Names SOFIE keeps as they are (it strips other characters).
    names = {
        n for node in proto.graph.node for n in [*node.input, *node.output] if n
    } | initializers
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", n) for n in names)
    props = {p.key: p.value for p in proto.metadata_props}
    assert props["input_layout"] == f"{T}|{F}" and props["var_transform"] == "N"
    assert json.loads(props["variables"]) == model.variable_names


def test_export_onnx_file_loads_our_model_file(rng, onnx, ort, tmp_path):
    model, X = make_model("LSTM|5,DENSE|8|TANH,LINEAR", rng)
    saved = model.save(tmp_path / "weights" / "model.weights.xml")
    out = export_onnx_file(saved, tmp_path / "out" / "model.onnx", batch_size=None)
    assert out == tmp_path / "out" / "model.onnx" and out.is_file()
    assert_matches(model.predict(X), scores(ort, out, X, None, reference=False))


# --------------------------------------------------------------------------- SOFIE


def _sofie_parser_or_skip():
    ROOT = pytest.importorskip(
        "ROOT", reason="PyROOT is not importable: the SOFIE check needs ROOT"
    )
    try:
        sofie = ROOT.TMVA.Experimental.SOFIE
        if not hasattr(sofie, "RModelParser_ONNX"):  # a separate library in some builds
            ROOT.gSystem.Load("libROOTTMVASofieParser")
        return ROOT, sofie.RModelParser_ONNX
    except AttributeError:
        pytest.skip(
            "ROOT has no TMVA SOFIE ONNX parser (the PyPI wheel has no TMVA; conda-forge's "
            "ROOT is built without tmva-sofie): the SOFIE check needs ROOT built with "
            "-Dtmva-sofie=ON"
        )


@pytest.mark.parametrize(
    ("key", "layout", "batch_size"),
    [
        ("last", "LSTM|5,DENSE|8|TANH,LINEAR", 1),
        ("seq", "LSTM|6|0|0|0|1,LSTM|4|0|0|0|1,RESHAPE|FLAT,DENSE|8|SOFTSIGN,LINEAR", 4),
        ("gru_rnn", "GRU|5|0|0|0|1|1,GRU|4|0|0|0|1,RNN|3,DENSE|8|TANH,LINEAR", 2),
    ],
)
def test_sofie_generated_code_scores_like_predict(key, layout, batch_size, rng, onnx, tmp_path):
    ROOT, Parser = _sofie_parser_or_skip()
    model, X = make_model(layout, rng)
    stem = f"tmva_lstm_sofie_{key}_{batch_size}"
    path = export_onnx(model, tmp_path / f"{stem}.onnx", batch_size=batch_size)
    rmodel = Parser().Parse(str(path))
    rmodel.Generate()
    header = tmp_path / f"{stem}.hxx"
    rmodel.OutputGenerated(str(header))  # writes the weights to {stem}.dat next to it
    from tmva_lstm._cling import declare

    assert declare(f'#include "{header}"')
    session = getattr(ROOT, f"TMVA_SOFIE_{stem}").Session(str(header.with_suffix(".dat")))

    def run(feeds):
        x = np.ascontiguousarray(feeds[INPUT_NAME]).ravel()
        return np.asarray(session.infer(x), dtype=np.float32).reshape(-1, 1)

    assert_matches(model.predict(X), {"TMVA SOFIE": run_batched(run, X, batch_size)})


# --------------------------------------------------------------------------- errors


def test_more_than_one_output_is_refused(rng, onnx, tmp_path):
    network = Network.from_layout("LSTM|5,LINEAR", T, F, n_outputs=2)
    model = Model(network, network.init_params(rng), MethodOptions(), ["v"] * (T * F))
    with pytest.raises(OptionError, match="two-class classifier needs one network output"):
        export_onnx(model, tmp_path / "m.onnx")
    assert not list(tmp_path.iterdir())


def _typed_model(kind: str, rng):
    """A trained Multiclass (3 classes) or Regression (2 targets, VarTransform=N) model."""
    import tmva_lstm as tl

    X = (rng.normal(size=(240, T, F)) * 3 + 2).astype(np.float32)
    if kind == "Multiclass":
        y = rng.integers(0, 3, len(X))
        extra, names = "ErrorStrategy=MUTUALEXCLUSIVE", {"class_names": ["a", "b", "c"]}
    else:
        y = np.stack([X[:, :, 0].mean(1) * 10 + 50, X[:, 0, 1]], axis=1)
        extra, names = "VarTransform=N", {"target_names": ["mean", "first"]}
    opts = (f"AnalysisType={kind}:{extra}:Layout=GRU|5|0|0|0|1,LSTM|4,DENSE|6|TANH,LINEAR:"
            "MaxEpochs=2:BatchSize=40:RandomSeed=2:Silent")  # fmt: skip
    return tl.train(X, y, None, opts, **names), X


@pytest.mark.parametrize("kind", ["Multiclass", "Regression"])
def test_multiclass_and_regression_models_score_like_predict(kind, rng, onnx, ort, tmp_path):
    """Softmax over the K classes; the M targets in their own units (Div, Add in the graph);
    onnxruntime's output equals Model.predict column by column, through the command too."""
    model, X = _typed_model(kind, rng)
    ours = model.predict(X)
    width = ours.shape[1]
    assert width == (3 if kind == "Multiclass" else 2)
    sess = ort_session(ort, to_onnx(model, batch_size=None))
    got = sess.run([OUTPUT_NAME], {INPUT_NAME: X})[0]
    assert got.shape == (len(X), width) and got.dtype == np.float32
    scale = 1.0 if kind == "Multiclass" else np.abs(ours).max(axis=0)
    np.testing.assert_allclose(got / scale, ours / scale, rtol=0, atol=ATOL)
    if kind == "Regression":
        assert np.abs(ours[:, 0]).mean() > 20  # the targets' units, not [-1, 1]

    saved = model.save(tmp_path / "m.weights.xml")
    out = tmp_path / "m.onnx"
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-m", "tmva_lstm", "export-onnx", str(saved), "--output", str(out),
         "--batch-size", "8"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    loaded = onnx.load(str(out))
    assert {n.op_type for n in loaded.graph.node} <= SOFIE_OPS  # operators SOFIE parses
    props = {p.key: p.value for p in loaded.metadata_props}
    assert props["analysis_type"] == kind.upper()
    names = model.class_names if kind == "Multiclass" else model.target_names
    assert json.loads(props["class_names" if kind == "Multiclass" else "target_names"]) == names
    sess = ort_session(ort, out)
    got = np.concatenate([sess.run([OUTPUT_NAME], {INPUT_NAME: X[i : i + 8]})[0]
                          for i in range(0, len(X), 8)])  # fmt: skip
    np.testing.assert_allclose(got / scale, ours / scale, rtol=0, atol=ATOL)


@pytest.mark.parametrize("batch_size", [0, -2, 1.5, True, "4"])
def test_bad_batch_size(batch_size, rng, onnx):
    model, _ = make_model("LSTM|5,LINEAR", rng)
    with pytest.raises(OptionError, match="batch_size"):
        to_onnx(model, batch_size=batch_size)


@pytest.mark.parametrize("opset", [12, 10**6, "17"])
def test_bad_opset(opset, rng, onnx):
    model, _ = make_model("LSTM|5,LINEAR", rng)
    with pytest.raises(OptionError, match="opset"):
        to_onnx(model, opset=opset)


def test_unsupported_transformation_activation_and_shapes(rng, onnx):
    model, _ = make_model("LSTM|5,DENSE|8|TANH,LINEAR", rng)
    model.transform = InputTransform(kind="G")
    with pytest.raises(OptionError, match="VarTransform"):
        to_onnx(model)

    model, _ = make_model("LSTM|5,DENSE|8|TANH,LINEAR", rng)
    layers = tuple(
        Layer(la.name, la.kind, la.n_in, la.units, "ELU", la.return_sequences)
        if la.kind == "DENSE"
        else la
        for la in model.network.layers
    )
    model.network = Network(layers, T, F)
    with pytest.raises(OptionError, match="ELU"):
        to_onnx(model)

    model, _ = make_model("LSTM|5,DENSE|8|TANH,LINEAR", rng)
    model.params["lstm_0"]["U"] = model.params["lstm_0"]["U"][:, :4]
    with pytest.raises(ModelFileError, match="lstm_0"):
        to_onnx(model)


def test_sequence_lengths_need_a_recurrent_layer_first(rng, onnx):
    model, _ = make_model("DENSE|8|TANH,LINEAR", rng)
    with pytest.raises(OptionError, match=r"needs a recurrent layer \(LSTM, GRU, RNN\) first"):
        to_onnx(model, sequence_lengths=True)


def test_failure_leaves_an_existing_file_alone(rng, onnx, tmp_path):
    model, _ = make_model("LSTM|5,LINEAR", rng)
    target = tmp_path / "model.onnx"
    target.write_bytes(b"previous")
    with pytest.raises(OptionError):
        export_onnx(model, target, batch_size=0)
    assert target.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]


def test_missing_onnx_gives_the_install_command(rng, monkeypatch, tmp_path):
    model, _ = make_model("LSTM|5,LINEAR", rng)
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` now raises ImportError
    with pytest.raises(DependencyError, match=re.escape("pip install 'tmva-lstm[onnx]'")) as err:
        export_onnx(model, tmp_path / "m.onnx")
    assert isinstance(err.value, ImportError)
    with pytest.raises(DependencyError, match="tmva-lstm"):
        export_onnx_file(tmp_path / "no-such-model.xml", tmp_path / "m.onnx")
    assert not list(tmp_path.iterdir())
