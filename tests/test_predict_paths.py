"""``Model.predict``'s paths give the same scores: one compiled call for a few events, the
batched layers for many, and the pure-NumPy reference (``TMVA_LSTM_KERNEL=numpy``)."""

from __future__ import annotations

import numpy as np
import pytest

import tmva_lstm as tl
from tmva_lstm.model import SMALL_BATCH
from tmva_lstm.nn import lstm as L

pytestmark = pytest.mark.filterwarnings("ignore:no epoch of .* improved:RuntimeWarning")

LAYOUT = (
    "LSTM|6|0|0|0|1,LSTM|5,DENSE|7|SIGMOID,DENSE|6|GAUSS,DENSE|5|SOFTSIGN,"
    "DENSE|5|SYMMRELU,DENSE|4|RELU,DENSE|4|TANH,LINEAR"
)


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(12)
    X = rng.normal(2.0, 3.0, size=(80, 5, 3)).astype(np.float32)
    y = (X[:, :, 0].mean(axis=1) > 2.0).astype(int)
    mask = rng.random((80, 5)) < 0.75
    options = f"Layout={LAYOUT}:VarTransform=N:MaxEpochs=2:BatchSize=20:RandomSeed=4"
    return tl.train(X, y, None, options, mask=mask), X, mask


@pytest.fixture
def kernel():
    before = L.kernel_name()
    yield L.set_kernel
    L.set_kernel(before)


def one_by_one(model, X, mask=None):
    return np.array(
        [
            model.predict(X[i : i + 1], None if mask is None else mask[i : i + 1])[0]
            for i in range(len(X))
        ]
    )


@pytest.mark.parametrize("masked", [False, True], ids=["all-steps", "mask"])
def test_one_event_equals_the_batch_and_the_numpy_reference(case, kernel, masked):
    model, X, mask = case
    m = mask if masked else None
    kernel("numba")
    assert model._event_path() is not None, "the compiled one-event path must serve this model"
    single = one_by_one(model, X, m)
    batch = model.predict(X, m)  # 80 events > SMALL_BATCH: the batched layers
    assert len(X) > SMALL_BATCH
    kernel("numpy")
    assert model._event_path() is None
    reference = model.predict(X, m)
    assert reference.std() > 1e-3, "scores that do not vary would test nothing"
    for name, ours in (("one event", single), ("batched, compiled", batch)):
        err = np.abs(ours - reference).max()
        assert err < 2e-6, f"{name} vs NumPy reference: max |diff| = {err:.3g}"
    flat = model.predict(X[:3].reshape(3, -1), None if m is None else m[:3])  # flat order
    assert np.abs(flat - reference[:3]).max() < 2e-6


def test_weights_changed_in_place_or_replaced_are_seen(case, kernel):
    model, X, _ = case
    kernel("numba")
    before = model.predict(X[:1])[0]
    W = model.params["dense_8"]["W"]
    saved = W.copy()
    try:
        W *= 3.0  # in place, as an optimizer does
        changed = model.predict(X[:1])[0]
        assert changed != pytest.approx(before, abs=1e-6)
        assert changed == pytest.approx(model.predict(np.repeat(X[:1], 40, axis=0))[0], abs=2e-6)
        model.params["dense_8"]["W"] = saved  # replaced
        assert model.predict(X[:1])[0] == pytest.approx(before, abs=1e-12)
    finally:
        model.params["dense_8"]["W"] = saved


def test_non_finite_input_scores_minus_999(case, kernel):
    model, X, _ = case
    kernel("numba")
    x = X[:2].copy()
    x[0, 1, 1] = np.nan
    np.testing.assert_array_equal(model.predict(x)[0], -999.0)
    assert 0 <= model.predict(x)[1] <= 1


def test_bad_shapes_still_raise(case):
    model, X, _ = case
    with pytest.raises(ValueError, match=r"\(N, 5, 3\)"):
        model.predict(X[:1, :4])
    with pytest.raises(ValueError, match=r"mask must be \(N, T\)"):
        model.predict(X[:1], np.ones((1, 4), dtype=bool))
