"""TMVA's multiclass and regression figures (tmva_lstm.evaluation.analysis_types)."""

from __future__ import annotations

import numpy as np
import pytest

from tmva_lstm.evaluate import roc_integral
from tmva_lstm.evaluation.analysis_types import (
    evaluate_multiclass,
    evaluate_regression,
    regression_deviations,
)


def test_deviations_follow_method_base_test_regression(rng):
    t = rng.normal(size=2000)
    r = t + 0.3 + rng.normal(scale=0.5, size=2000)
    r[:5] += 40  # outliers: removed by the 2-sigma truncation
    w = rng.uniform(0.5, 2.0, size=2000)
    d = r.astype(np.float32).astype(float) - t.astype(np.float32).astype(float)
    wf = w.astype(np.float32).astype(float)
    bias = np.average(d, weights=wf)
    rms = np.sqrt(np.average(d * d, weights=wf) - bias**2)
    keep = np.abs(d - bias) <= 2 * rms
    bias_t = np.average(d[keep], weights=wf[keep])
    got = regression_deviations(r, t, w)
    assert got.bias == pytest.approx(bias) and got.rms == pytest.approx(rms)
    assert got.bias_t == pytest.approx(bias_t) and got.bias_t == pytest.approx(0.3, abs=0.05)
    rms_t = np.sqrt(np.average(d[keep] ** 2, weights=wf[keep]) - bias_t**2)
    assert got.rms_t == pytest.approx(rms_t) and got.rms_t == pytest.approx(0.5, rel=0.05)
    assert keep.sum() == 1995  # exactly the five outliers are cut
    assert got.dev == pytest.approx(np.average(np.abs(d), weights=wf))


def test_mutual_information_tells_dependence_from_independence(rng):
    t = rng.normal(size=5000)
    same = regression_deviations(t, t).mutinf
    independent = regression_deviations(rng.normal(size=5000), t).mutinf
    assert same > 2.0 and 0 <= independent < 0.3


def test_regression_summary_rows_have_tmva_format():
    ev = evaluate_regression(
        np.array([[1.0], [2.0], [3.5]]), np.array([[1.0], [2.5], [3.0]]), None,
        np.array([[1.0], [2.0]]), np.array([[1.0], [2.0]]), None, ["E"],
    )  # fmt: skip
    text = ev.summary("PyLSTM", log_prefix=False)
    row = next(line for line in text.splitlines() if line.startswith("dataset"))
    d = ev.test[0]
    assert row == (
        f"{'dataset':<20} {'PyLSTM':<15}:{d.bias:#9.3g}{d.bias_t:#9.3g}{d.rms:#9.3g}"
        f"{d.rms_t:#9.3g}  |  {d.mutinf:#5.3f}  {d.mutinf_t:#5.3f}"
    )


def test_one_vs_rest_uses_each_class_probability_as_the_score(rng):
    y = rng.integers(0, 3, 600)
    probs = rng.dirichlet(np.ones(3), size=600)
    w = rng.uniform(0.5, 1.5, 600)
    ev = evaluate_multiclass(probs, y, w, probs, y, w, ["a", "b", "c"])
    for k, c in enumerate(ev.classes):
        assert c.roc_test == roc_integral(probs[:, k], (y == k).astype(int), w)
        assert c.roc_test == c.roc_train
    perfect = np.eye(3)[y] * 0.9 + 0.05
    assert all(c.roc_test == pytest.approx(1.0, abs=1e-3) for c in
               evaluate_multiclass(perfect, y, None, perfect, y, None, "abc").classes)  # fmt: skip
    text = ev.summary("PyLSTM", log_prefix=False)
    assert f"{'':<15}{'b':<15}{ev.classes[1].roc_test:5.3f} (" in text


def test_quantile_is_root_th1_getquantiles(rng):
    ROOT = pytest.importorskip("ROOT")
    from tmva_lstm.results.analysis_types import _quantile

    values, w = rng.exponential(size=500), rng.uniform(0.5, 2, 500)
    counts, edges = np.histogram(values, bins=50, range=(0, 3), weights=w)
    h = ROOT.TH1D("q", "q", 50, 0, 3)
    for v, wi in zip(values, w, strict=True):
        h.Fill(v, wi)
    q = np.zeros(1)
    h.GetQuantiles(1, q, np.array([0.9]))
    assert _quantile(counts, edges, 0.9) == pytest.approx(q[0], rel=1e-9)
