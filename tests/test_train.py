"""The training loop: learning, determinism, early stopping, resume, weights and errors."""

from __future__ import annotations

import io

import numpy as np
import pytest

from tmva_lstm.errors import DataError, NonFiniteInputError, OptionError, TrainingDivergedError
from tmva_lstm.nn.network import flatten_params
from tmva_lstm.options import MethodOptions
from tmva_lstm.training import Progress, prepare_weights, resume, train

SMALL = "RandomSeed=11:Layout=LSTM|4,DENSE|8|TANH,LINEAR:MaxEpochs=4:BatchSize=20:LearningRate=1e-2"


def marker_task(n: int, T: int, rng: np.random.Generator):
    """Label = sign of the value at the one marked step: needs memory of a position."""
    v = rng.uniform(-1, 1, size=(n, T))
    m = np.zeros((n, T))
    pos = rng.integers(0, T, n)
    m[np.arange(n), pos] = 1
    X = np.stack([v, m], axis=2).astype(np.float32)
    return X, (v[np.arange(n), pos] > 0).astype(int)


def auc(scores, y):
    ranks = np.empty(len(scores))
    ranks[np.argsort(scores)] = np.arange(1, len(scores) + 1)
    n1, n0 = y.sum(), len(y) - y.sum()
    return (ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)


@pytest.fixture(scope="module")
def marker_data():
    rng = np.random.default_rng(1)
    return marker_task(4000, 20, rng), marker_task(2000, 20, rng)


def assert_same_params(a, b):
    fa, fb = flatten_params(a), flatten_params(b)
    assert fa.keys() == fb.keys()
    for k in fa:
        assert np.array_equal(fa[k], fb[k]), f"{k} differs"


def test_lstm_learns_a_task_that_a_dense_network_cannot(marker_data):
    (X, y), (Xt, yt) = marker_data
    common = "RandomSeed=5:MaxEpochs=30:BatchSize=32:LearningRate=1e-2:ConvergenceSteps=5"
    lstm = train(X, y, None, f"{common}:Layout=LSTM|8,DENSE|16|TANH,LINEAR")
    dense = train(X, y, None, f"{common}:Layout=DENSE|16|TANH,LINEAR")
    a_lstm, a_dense = auc(lstm.predict(Xt), yt), auc(dense.predict(Xt), yt)
    assert a_lstm > 0.97, f"LSTM AUC {a_lstm}"
    assert a_dense < 0.85, f"dense AUC {a_dense}"


def test_same_seed_gives_bit_identical_weights(marker_data):
    (X, y), _ = marker_data
    a = train(X[:600], y[:600], None, SMALL)
    b = train(X[:600], y[:600], None, SMALL)
    assert_same_params(a.params, b.params)
    c = train(X[:600], y[:600], None, SMALL.replace("RandomSeed=11", "RandomSeed=12"))
    assert not np.array_equal(
        flatten_params(a.params)["lstm_0/W"], flatten_params(c.params)["lstm_0/W"]
    )


def test_seed_zero_draws_and_records_a_seed(marker_data):
    (X, y), _ = marker_data
    m = train(
        X[:300], y[:300], None, SMALL.replace("RandomSeed=11", "RandomSeed=0") + ":MaxEpochs=1"
    )
    assert m.history.seed > 0


@pytest.mark.parametrize("stop_after", [1, 3])
def test_resume_equals_uninterrupted(marker_data, tmp_path, stop_after):
    (X, y), _ = marker_data
    X, y = X[:600], y[:600]
    opts = SMALL.replace(":MaxEpochs=4", "") + (
        ":TrainingStrategy=MaxEpochs=3,Optimizer=ADAM|MaxEpochs=2,Optimizer=SGD,Momentum=0.5"
    )
    full = train(X, y, None, opts)

    class Interrupted(Exception):
        pass

    def interrupt(epoch):
        if epoch == stop_after:
            raise Interrupted

    ckpt = tmp_path / "ckpt.xml"
    with pytest.raises(Interrupted):
        train(X, y, None, opts, checkpoint=ckpt, on_epoch=interrupt)
    resumed = resume(ckpt, X, y)
    assert_same_params(full.params, resumed.params)
    assert resumed.history.train_loss == full.history.train_loss
    assert len(full.history.epoch) == 5


def test_resume_refuses_other_data(marker_data, tmp_path):
    (X, y), _ = marker_data
    ckpt = tmp_path / "c.xml"
    train(X[:300], y[:300], None, SMALL + ":MaxEpochs=1", checkpoint=ckpt)
    with pytest.raises(DataError, match="the data differ"):
        resume(ckpt, X[300:600], y[300:600])


def test_early_stopping_keeps_the_best_weights(marker_data):
    (X, y), _ = marker_data
    m = train(X[:800], y[:800], None, SMALL + ":MaxEpochs=40:ConvergenceSteps=2:LearningRate=0.3")
    h = m.history
    assert h.stop_reason == "converged" and len(h.epoch) < 40
    best = int(np.nanargmin(h.val_loss))
    assert h.best_epoch == h.epoch[best]
    # the kept weights reproduce the best validation loss (the last 20% of the 800 events)
    from tmva_lstm.nn.losses import binary_cross_entropy

    w = prepare_weights(y[:800], np.ones(800))[640:]
    out = m.logits(X[640:800])[:, 0].astype(np.float64)
    loss, _ = binary_cross_entropy(out, y[640:800].astype(np.float64), w)
    assert loss == pytest.approx(h.val_loss[best], rel=1e-5)


def test_event_weights_enter_the_loss(marker_data):
    (X, y), _ = marker_data
    w = np.where(np.arange(600) % 3 == 0, 3.0, 1.0)
    a = train(X[:600], y[:600], None, SMALL)
    b = train(X[:600], y[:600], w, SMALL)
    assert not np.array_equal(
        flatten_params(a.params)["dense_2/W"], flatten_params(b.params)["dense_2/W"]
    )


def test_prepare_weights_is_tmva_numevents():
    y = np.array([1, 1, 0, 0, 0])
    w = prepare_weights(y, np.array([2.0, 6.0, 1.0, 1.0, 4.0]))
    assert w[y == 1].sum() == pytest.approx(2) and w[y == 0].sum() == pytest.approx(3)
    assert np.allclose(prepare_weights(y, w), w)  # idempotent


def test_var_transform_normalises_to_unit_range(marker_data):
    (X, y), _ = marker_data
    m = train(X[:600] * 50 + 7, y[:600], None, SMALL + ":VarTransform=N:ValidationSize=0")
    Z = m.transform.apply((X[:600] * 50 + 7).astype(np.float32))
    assert Z.min() == pytest.approx(-1, abs=1e-5) and Z.max() == pytest.approx(1, abs=1e-5)


def test_flat_tmva_order_input_with_input_layout(marker_data):
    (X, y), _ = marker_data
    flat = X[:300].reshape(300, -1)
    a = train(flat, y[:300], None, SMALL + ":InputLayout=20|2:MaxEpochs=1")
    b = train(X[:300], y[:300], None, SMALL + ":InputLayout=20|2:MaxEpochs=1")
    assert_same_params(a.params, b.params)


def test_diverging_run_stops_and_keeps_last_good_weights(marker_data):
    (X, y), _ = marker_data
    with pytest.raises(TrainingDivergedError, match="diverged") as err:
        train(
            X[:600] * 1e20,
            y[:600],
            None,
            SMALL.replace("TANH", "LINEAR") + ":Optimizer=SGD:LearningRate=1e30",
        )
    model = err.value.model
    assert all(np.isfinite(a).all() for a in flatten_params(model.params).values())


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"options": SMALL + ":BatchSize=1000"}, OptionError, "BatchSize=1000 is larger than"),
        ({"options": SMALL + ":InputLayout=10|4"}, OptionError, "InputLayout=10|4 does not match"),
        ({"y": np.zeros(100, int)}, DataError, "no signal events"),
        ({"weights": np.zeros(100)}, DataError, "all event weights are zero"),
        ({"nan": True}, NonFiniteInputError, "2 training events have NaN"),
    ],
)
def test_bad_training_input(marker_data, kwargs, error, fragment):
    (X, y), _ = marker_data
    X, y = X[:100].copy(), kwargs.get("y", y[:100])
    if kwargs.get("nan"):
        X[3, 2, 0], X[7, 0, 1] = np.nan, np.inf
    with pytest.raises(error) as err:
        train(X, y, kwargs.get("weights"), kwargs.get("options", SMALL))
    assert fragment in str(err.value), str(err.value)


def test_nonfinite_drop_option(marker_data):
    (X, y), _ = marker_data
    X = X[:300].copy()
    X[5, 1, 1] = np.nan
    m = train(X, y[:300], None, SMALL + ":NonFinite=DROP:MaxEpochs=1")
    assert np.isfinite(m.predict(X[:5])).all()


def test_progress_is_quiet_off_terminal_and_a_table_when_verbose(marker_data):
    (X, y), _ = marker_data
    quiet, loud = io.StringIO(), io.StringIO()
    opts = MethodOptions.from_string(SMALL + ":MaxEpochs=2")
    train(X[:200], y[:200], None, opts, progress=Progress(opts, quiet))
    verbose = opts.replace(verbose=True)
    train(X[:200], y[:200], None, verbose, progress=Progress(verbose, loud))
    assert quiet.getvalue() == ""
    text = loud.getvalue()
    assert "Train Err." in text and "Val. Err." in text and len(text.splitlines()) == 4
    silent = verbose.replace(silent=True)
    assert not Progress(silent, io.StringIO()).enabled


@pytest.mark.parametrize("kind", ["L1", "L2"])
def test_regularization_term_and_gradient(kind, rng):
    """TMVA's weight decay: lambda * sum |W| or lambda * sum W^2 over dense weights, and its gradient."""
    from tmva_lstm.nn.network import Network

    net = Network.from_layout("LSTM|3,DENSE|4|TANH,LINEAR", 5, 2)
    params = net.init_params(rng, "XAVIER", np.float64)
    value, grads = net.regularization(params, kind, 0.1)
    dense_w = [params[k]["W"] for k in ("dense_1", "dense_2")]
    expected = sum((np.abs(W) if kind == "L1" else W * W).sum() for W in dense_w) * 0.1
    assert value == pytest.approx(expected) and set(grads) == {"dense_1", "dense_2"}
    W, eps = params["dense_1"]["W"], 1e-6
    old = W[0, 0]
    W[0, 0] = old + eps
    up, _ = net.regularization(params, kind, 0.1)
    W[0, 0] = old - eps
    down, _ = net.regularization(params, kind, 0.1)
    W[0, 0] = old
    assert grads["dense_1"][0, 0] == pytest.approx((up - down) / (2 * eps), rel=1e-6)


def test_training_with_weight_decay_shrinks_dense_weights(marker_data):
    (X, y), _ = marker_data
    free = train(X[:600], y[:600], None, SMALL + ":MaxEpochs=6")
    decayed = train(
        X[:600], y[:600], None, SMALL + ":MaxEpochs=6:Regularization=L2:WeightDecay=0.05"
    )
    norm = lambda m: float(np.square(m.params["dense_1"]["W"]).sum())  # noqa: E731
    assert norm(decayed) < 0.8 * norm(free)
    assert np.isfinite(decayed.history.train_loss).all()
