"""Tests of tmva_lstm.evaluate against hand-computed cases, a literal transcription of
TMVA::ROCCurve, the Mann-Whitney statistic and (where importable) ROOT itself."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tmva_lstm.errors import DataError, NonFiniteInputError, OptionError
from tmva_lstm.evaluate import (
    EFF_B_POINTS,
    Evaluation,
    Hist1D,
    eff_s_at_eff_b,
    evaluate,
    kolmogorov_prob,
    kolmogorov_test,
    roc_curve,
    roc_integral,
)
from tmva_lstm.evaluation.efficiencies import _brent_root, _Spline1
from tmva_lstm.evaluation.histograms import _filled

# ---- independent oracles -------------------------------------------------------------------


def tmva_roc_integral_loops(scores, labels, weights=None) -> float:
    """ROCCurve.cxx transcribed loop by loop (Python's sorted() is stable, like our sort)."""
    n = len(scores)
    w = [1.0] * n if weights is None else [float(np.float32(x)) for x in weights]
    events = sorted(
        (
            (float(np.float32(s)), wi, bool(lab))
            for s, wi, lab in zip(scores, w, labels, strict=True)
        ),
        key=lambda e: e[0],
    )
    tn_sum, tns = 0.0, []
    for _, wi, is_sig in events:
        tn_sum += wi * (not is_sig)
        tns.append(tn_sum)
    spec = [0.0] + [tn / tn_sum for tn in tns] + [1.0]
    tp_sum, tps = 0.0, []
    for _, wi, is_sig in reversed(events):
        tp_sum += wi * is_sig
        tps.append(tp_sum)
    tps.reverse()
    sens = [1.0] + [tp / tp_sum for tp in tps] + [0.0]
    integral = 0.0
    for i in range(len(sens) - 1):
        integral += 0.5 * ((1 - sens[i + 1]) - (1 - sens[i])) * (spec[i] + spec[i + 1])
    return integral


def mann_whitney_auc(scores, labels, weights=None) -> float:
    """P(score_s > score_b) + 0.5 P(equal), weighted: the textbook AUC."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels) == 1
    w = np.ones_like(s) if weights is None else np.asarray(weights, dtype=np.float64)
    ss, ws = s[y], w[y]
    sb, wb = s[~y], w[~y]
    gt = (ss[:, None] > sb[None, :]).astype(float)
    eq = (ss[:, None] == sb[None, :]).astype(float)
    pair_w = ws[:, None] * wb[None, :]
    return float(((gt + 0.5 * eq) * pair_w).sum() / pair_w.sum())


def adjacency_excess(scores, labels, weights=None) -> float:
    """sum over (signal at k, background at k+1) of 0.5 w_s w_b / (S B), ascending order."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels) == 1
    w = np.ones_like(s) if weights is None else np.asarray(weights, dtype=np.float64)
    order = np.argsort(s, kind="stable")
    ys, ws = y[order], w[order]
    pairs = ys[:-1] & ~ys[1:]
    return float(0.5 * (ws[:-1] * ws[1:])[pairs].sum() / (w[y].sum() * w[~y].sum()))


def root_or_skip():
    return pytest.importorskip("ROOT", reason="PyROOT (pip install ROOT) is not importable")


# ---- ROC integral: hand-computed cases ------------------------------------------------------


def test_roc_integral_two_by_two_by_hand():
    # ascending: b0.2 s0.4 b0.6 s0.8; spec = [0, .5, .5, 1, 1, 1], sens = [1, 1, 1, .5, .5, 0]
    # trapezoids: 0.5*0.5*(0.5+1) + 0.5*0.5*(1+1) = 0.375 + 0.5
    scores = [0.8, 0.4, 0.6, 0.2]
    labels = [1, 1, 0, 0]
    assert roc_integral(scores, labels) == pytest.approx(0.875, abs=1e-15)
    # Mann-Whitney counts 3 of 4 pairs; the excess is 0.5 * (1/2) * (1/2) for s0.4 -> b0.6
    assert mann_whitney_auc(scores, labels) == pytest.approx(0.75)
    eff_s, rej_b = roc_curve(scores, labels)
    np.testing.assert_allclose(eff_s, [1, 1, 1, 0.5, 0.5, 0])
    np.testing.assert_allclose(rej_b, [0, 0.5, 0.5, 1, 1, 1])


def test_roc_integral_weighted_by_hand():
    # ascending: b0.2 (w1) s0.4 (w3) b0.6 (w2) s0.8 (w1); S = 4, B = 3
    # s0.4: (3/4) * (1 + 3)/(2*3) = 0.5 ;  s0.8: (1/4) * (3 + 3)/(2*3) = 0.25
    scores = [0.8, 0.4, 0.6, 0.2]
    labels = [1, 1, 0, 0]
    weights = [1.0, 3.0, 2.0, 1.0]
    assert roc_integral(scores, labels, weights) == pytest.approx(0.75, abs=1e-15)
    assert mann_whitney_auc(scores, labels, weights) == pytest.approx(0.5)  # 6 of 12
    assert adjacency_excess(scores, labels, weights) == pytest.approx(0.25)  # 0.5*3*2/12


def test_roc_integral_ties_follow_input_order():
    # One signal and one background event with the same score. TMVA's std::sort leaves tied
    # events in an unspecified order (libstdc++ keeps input order for N <= 16); the integral
    # depends on it: signal first gives 0.5, background first gives 1.0. Mann-Whitney: 0.5.
    assert roc_integral([0.5, 0.5], [1, 0]) == pytest.approx(0.5)
    assert roc_integral([0.5, 0.5], [0, 1]) == pytest.approx(1.0)
    assert mann_whitney_auc([0.5, 0.5], [1, 0]) == pytest.approx(0.5)


def test_roc_integral_rounds_scores_to_float32_like_tmva():
    # 0.1 and 0.1 + 1e-12 are one float32 value: a tie, resolved by input order
    a = [0.1 + 1e-12, 0.1]
    assert roc_integral(a, [1, 0]) == pytest.approx(0.5)  # tie: signal first
    assert roc_integral(np.array(a, dtype=np.float64), [0, 1]) == pytest.approx(1.0)


def test_roc_integral_perfect_and_inverted():
    assert roc_integral([0.9, 0.8, 0.1, 0.2], [1, 1, 0, 0]) == pytest.approx(1.0)
    # fully inverted: the biased trapezoid still gives 0.5 * w_s w_b/(S B) for the one
    # signal-background adjacency (s0.2 -> b0.8)
    assert roc_integral([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0]) == pytest.approx(0.125)


@pytest.mark.parametrize(
    ("scores", "labels", "err"),
    [
        ([0.1, 0.2], [1, 1], DataError),  # one class only
        ([0.1, np.nan], [1, 0], NonFiniteInputError),
        ([0.1, 0.2], [1, 2], DataError),
        ([0.1, 0.2, 0.3], [1, 0], DataError),
        ([], [], DataError),
    ],
)
def test_roc_integral_rejects_bad_input(scores, labels, err):
    with pytest.raises(err):
        roc_integral(scores, labels)


# ---- ROC integral: oracle, identity, bias ---------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 6),  # few distinct scores: plenty of ties
            st.booleans(),
            st.floats(0.1, 5.0),
        ),
        min_size=2,
        max_size=40,
    ).filter(lambda ev: 0 < sum(e[1] for e in ev) < len(ev))
)
def test_roc_integral_matches_literal_tmva_loops(events):
    scores = [e[0] / 7.0 for e in events]
    labels = [int(e[1]) for e in events]
    weights = [e[2] for e in events]
    ours = roc_integral(scores, labels, weights)
    ref = tmva_roc_integral_loops(scores, labels, weights)
    assert ours == pytest.approx(ref, rel=1e-12, abs=1e-14), f"ours {ours} vs loops {ref}"


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.floats(0.1, 5.0)), min_size=2, max_size=60).filter(
        lambda ev: 0 < sum(e[0] for e in ev) < len(ev)
    ),
    st.randoms(use_true_random=False),
)
def test_tmva_minus_mann_whitney_is_the_adjacency_term(events, rnd):
    # distinct scores: TMVA's integral = Mann-Whitney + sum of the (s, b) adjacency terms
    scores = rnd.sample(range(1000), len(events))
    scores = [s / 1000.0 for s in scores]
    labels = [int(e[0]) for e in events]
    weights = [float(np.float32(e[1])) for e in events]
    diff = roc_integral(scores, labels, weights) - mann_whitney_auc(scores, labels, weights)
    assert diff == pytest.approx(adjacency_excess(scores, labels, weights), abs=1e-12)


@pytest.mark.parametrize("n", [100, 800, 5000])
def test_bias_against_mann_whitney_is_about_one_over_2n(n):
    # Gaussian toys, unit weights, 50/50 classes, weak separation (0.5 sigma); averaged over
    # seeds to tame the fluctuation of the number of signal -> background adjacencies
    rng = np.random.default_rng(n)
    biases = []
    for _ in range(20 if n < 5000 else 3):
        labels = np.repeat([1, 0], n // 2)
        scores = rng.normal(size=n) + 0.5 * labels
        biases.append(roc_integral(scores, labels) - mann_whitney_auc(scores, labels))
    bias = float(np.mean(biases))
    # with separation d the expected excess is a bit below 1/(2N); 0.5 sigma gives ~0.95/(2N)
    assert 0.8 / (2 * n) < bias < 1.05 / (2 * n), f"bias {bias:.3g} vs 1/(2N) {1 / (2 * n):.3g}"


# ---- efficiency at fixed background efficiency ---------------------------------------------


def _uniform_grids(n: int = 20000):
    # background uniform on [0, 1], signal uniform on [0.5, 1.5]: for a cut c,
    # effB = 1 - c and effS = 1.5 - c, so effS(effB) = effB + 0.5
    b = (np.arange(n) + 0.5) / n
    s = 0.5 + (np.arange(n) + 0.5) / n
    scores = np.concatenate([s, b])
    labels = np.concatenate([np.ones(n, int), np.zeros(n, int)])
    return scores, labels


@pytest.mark.parametrize(("eff_b", "expected"), [(0.01, 0.51), (0.10, 0.60), (0.30, 0.80)])
def test_eff_s_at_eff_b_on_linear_curves(eff_b, expected):
    scores, labels = _uniform_grids()
    got = eff_s_at_eff_b(scores, labels, None, eff_b)
    # GetEfficiency scans effS in steps of 0.001 and returns a multiple of 0.001
    assert got == pytest.approx(expected, abs=2e-3), f"ours {got} vs hand {expected}"
    assert round(got * 1000) == pytest.approx(got * 1000, abs=1e-9)
    # the orientation is found from the means: flipping the sign of the response changes
    # nothing
    assert eff_s_at_eff_b(-scores, labels, None, eff_b) == pytest.approx(got, abs=2e-3)
    # the unbinned ROCCurve::GetEffSForEffB agrees on such a fine grid
    unbinned = eff_s_at_eff_b(scores, labels, None, eff_b, method="roccurve")
    assert unbinned == pytest.approx(expected, abs=1e-3)


def test_eff_s_at_eff_b_roccurve_interpolation_by_hand():
    # ascending: b0.2 s0.3 s0.7 b0.8 s0.9 (S = 3, B = 2). GetEffSForEffB's graph, with
    # effB ascending: effB = [0, 0, 0, .5, .5, .5, 1], effS = [0, 1/3, 1/3, 2/3, 1, 1, 1].
    # effB = 0.25 lies between (0, 1/3) and (0.5, 2/3): effS = 1/2; effB = 0.75 gives 1.
    scores = [0.9, 0.7, 0.3, 0.8, 0.2]
    labels = [1, 1, 1, 0, 0]
    assert eff_s_at_eff_b(scores, labels, None, 0.25, method="roccurve") == pytest.approx(0.5)
    assert eff_s_at_eff_b(scores, labels, None, 0.75, method="roccurve") == pytest.approx(1.0)


def test_eff_s_at_eff_b_rejects_bad_arguments():
    scores, labels = _uniform_grids(100)
    with pytest.raises(OptionError):
        eff_s_at_eff_b(scores, labels, None, 1.5)
    with pytest.raises(OptionError):
        eff_s_at_eff_b(scores, labels, None, 0.1, method="spline")


def test_spline1_follows_tmva_tspline1():
    spl = _Spline1(np.array([0.0, 1.0, 2.0]), np.array([0.0, 10.0, 0.0]))
    assert spl(0.5) == pytest.approx(5.0)
    assert spl(1.0) == pytest.approx(10.0)  # on a knot: the knot's value
    assert spl(1.5) == pytest.approx(5.0)
    assert spl(-1.0) == pytest.approx(-10.0)  # linear extrapolation below the first knot
    assert spl(3.0) == pytest.approx(-10.0)  # and above the last


def test_brent_root_finds_roots_of_monotone_functions():
    assert _brent_root(lambda x: 1.0 - x, 0.3, 0.0, 1.0) == pytest.approx(0.7, abs=1e-12)
    spl = _Spline1(np.linspace(0, 1, 11), np.linspace(1, 0, 11) ** 2)
    root = _brent_root(spl, 0.25, 0.0, 1.0)
    assert spl(root) == pytest.approx(0.25, abs=1e-12)
    assert _brent_root(lambda x: x, 5.0, 0.0, 1.0) == 1.0  # no root: TMVA returns 1


# ---- histograms and Kolmogorov-Smirnov ----------------------------------------------------


def test_kolmogorov_prob_reference_values():
    assert kolmogorov_prob(0.1) == 1.0
    # Q_KS(1) = 2 sum (-1)^(j-1) exp(-2 j^2) = 0.27000 (tables)
    assert kolmogorov_prob(1.0) == pytest.approx(0.2700, abs=1e-4)
    assert kolmogorov_prob(0.5) == pytest.approx(0.9639, abs=1e-4)
    assert kolmogorov_prob(7.0) == 0.0


def test_kolmogorov_prob_matches_root():
    ROOT = root_or_skip()
    for z in (0.05, 0.3, 0.6, 0.755, 0.9, 1.5, 3.0, 6.0, 6.9):
        assert kolmogorov_prob(z) == pytest.approx(ROOT.TMath.KolmogorovProb(z), rel=1e-12)


def _root_hist(ROOT, name, x, w, nbins, lo, hi):
    h = ROOT.TH1D(name, name, nbins, lo, hi)
    h.Sumw2()
    for xi, wi in zip(x, w, strict=True):
        h.Fill(float(xi), float(wi))
    return h


def test_filled_histogram_matches_root_th1d(rng):
    ROOT = root_or_skip()
    x = np.concatenate([rng.normal(size=300), [0.0, 1.0, -1.0, 2.5, -3.0]])  # edges, outside
    w = rng.uniform(0.2, 2.0, x.size)
    ours = _filled("_S", x, w, 40, -1.0, 1.0)
    ref = _root_hist(ROOT, "h_fill_ref", x, w, 40, -1.0, 1.0)
    root_contents = np.array([ref.GetBinContent(i) for i in range(42)])
    root_sumw2 = np.array([ref.GetSumw2()[i] for i in range(42)])
    np.testing.assert_allclose(ours.contents, root_contents, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.sumw2, root_sumw2, rtol=1e-12, atol=1e-12)
    stats = np.zeros(4)
    ref.GetStats(stats)
    np.testing.assert_allclose(ours.stats, stats, rtol=1e-10)
    assert ours.entries == ref.GetEntries()


def test_kolmogorov_test_matches_root(rng):
    ROOT = root_or_skip()
    x1, w1 = rng.normal(size=500), rng.uniform(0.5, 1.5, 500)
    x2, w2 = rng.normal(0.1, 1.1, size=800), rng.uniform(0.5, 1.5, 800)
    ours = kolmogorov_test(_filled("a", x1, w1, 40, -3, 3), _filled("b", x2, w2, 40, -3, 3))
    h1 = _root_hist(ROOT, "ks_ref_a", x1, w1, 40, -3, 3)
    h2 = _root_hist(ROOT, "ks_ref_b", x2, w2, 40, -3, 3)
    ref = h1.KolmogorovTest(h2, "")
    assert ours == pytest.approx(ref, rel=1e-9), f"ours {ours} vs ROOT {ref}"


def test_kolmogorov_test_of_identical_histograms_is_one(rng):
    h = _filled("a", rng.normal(size=200), np.ones(200), 40, -3, 3)
    assert kolmogorov_test(h, h) == 1.0


# ---- evaluate() ------------------------------------------------------------------------------


def _toy(rng, n, shift):
    labels = rng.integers(0, 2, n)
    scores = 1.0 / (1.0 + np.exp(-(rng.normal(size=n) + shift * labels)))
    weights = rng.uniform(0.5, 1.5, n)
    return scores, labels, weights


def test_evaluate_fields_and_histograms(rng):
    test = _toy(rng, 2000, 1.0)
    train = _toy(rng, 4000, 1.1)
    ev = evaluate(*test, *train)
    assert isinstance(ev, Evaluation)
    assert ev.roc_integral == roc_integral(*test)
    assert ev.roc_integral_train == pytest.approx(roc_integral(*train), abs=1e-6)
    assert set(ev.eff_at_b) == set(ev.eff_at_b_train) == set(EFF_B_POINTS)
    for p in EFF_B_POINTS:
        assert ev.eff_at_b[p] == eff_s_at_eff_b(*test, p)
        assert 0.0 < ev.eff_at_b[p] < 1.0
    assert ev.eff_at_b[0.01] < ev.eff_at_b[0.10] < ev.eff_at_b[0.30]
    assert 0.0 <= ev.ks_signal <= 1.0 and 0.0 <= ev.ks_background <= 1.0
    assert ev.cut_orientation == 1

    hists = {h.name: h for h in ev.tmva_histograms("T")}
    expected = [
        "S",
        "B",
        "S_high",
        "B_high",
        "effS",
        "effB",
        "effBvsS",
        "rejBvsS",
        "invBeffvsSeff",
        "Train_S",
        "Train_B",
        "trainingEffS",
        "trainingEffB",
        "trainingEffBvsS",
        "trainingRejBvsS",
    ]
    assert list(hists) == [f"MVA_T_{k}" for k in expected]
    for key in ("S", "B", "Train_S", "Train_B"):
        h = hists[f"MVA_T_{key}"]
        assert h.nbins == 40 and h.sumw2 is not None
        assert (h.xmin, h.xmax) == (ev.xmin, ev.xmax + 1e-5)
        width = (h.xmax - h.xmin) / h.nbins
        assert h.values.sum() * width == pytest.approx(1.0)  # Tools::NormHist
    assert hists["MVA_T_S_high"].nbins == 10000
    assert hists["MVA_T_effS"].values.max() == pytest.approx(1.0)
    assert hists["MVA_T_effS"].title == "MVA_T (signal)"
    eff = hists["MVA_T_effBvsS"]
    assert (eff.nbins, eff.xmin, eff.xmax) == (100, 0.0, 1.0)
    assert (eff.x_title, eff.y_title) == ("Signal eff", "Backgr eff")
    assert np.all(np.diff(eff.values) >= -1e-12)  # background efficiency rises with effS
    np.testing.assert_allclose(hists["MVA_T_rejBvsS"].values, 1.0 - eff.values)
    assert hists["MVA_T_rejBvsS"].y_title == "Backgr rejection (1-eff)"


def test_evaluate_range_is_clipped_to_ten_rms(rng):
    scores, labels, weights = _toy(rng, 1000, 1.0)
    scores = scores.copy()
    scores[0] = 1e6  # one wild outlier
    ev = evaluate(scores, labels, weights, scores, labels, weights)
    assert ev.xmax < 1e6


def test_training_efficiency_uses_the_test_signal_spline(rng):
    # TMVA's GetTrainingEfficiency finds cuts on the TEST signal spline (fSplRefS). With
    # the same background in both samples the "training" efficiencies equal the test ones,
    # however different the training signal is.
    n = 3000
    bkg = rng.normal(size=n)
    sig_test = rng.normal(1.0, 1.0, n)
    sig_train = rng.normal(2.0, 0.5, n)  # very different training signal
    labels = np.repeat([1, 0], n)
    test = (np.concatenate([sig_test, bkg]), labels, None)
    train = (np.concatenate([sig_train, bkg]), labels, None)
    ev = evaluate(*test, *train)
    assert ev.eff_at_b_train == ev.eff_at_b
    assert ev.ks_signal < 1e-6  # ... while the K-S test does see the difference


def test_evaluate_same_sample_gives_identical_test_and_train(rng):
    sample = _toy(rng, 1500, 1.0)
    ev = evaluate(*sample, *sample)
    assert ev.eff_at_b_train == ev.eff_at_b
    assert ev.ks_signal == 1.0 and ev.ks_background == 1.0


def test_evaluate_constant_scores_stay_finite():
    labels = np.array([1, 0] * 50)
    ev = evaluate(np.full(100, 0.5), labels, None, np.full(100, 0.5), labels, None)
    assert math.isfinite(ev.roc_integral) and ev.xmax > ev.xmin


def test_summary_has_tmva_layout(rng):
    ev = evaluate(*_toy(rng, 1000, 1.0), *_toy(rng, 1000, 1.0))
    text = ev.summary("PyLSTM")
    lines = text.splitlines()
    prefix = " " * 25 + ": "
    assert all(line.startswith(prefix) for line in lines)
    body = [line[len(prefix) :] for line in lines]
    assert body[0] == "Evaluation results ranked by best signal efficiency and purity (area)"
    assert body[1] == "-" * 115
    # C printf semantics of the Factory's Form(...) as the reference
    assert "%-13s %-15s: %#1.3f" % ("dataset", "PyLSTM", ev.roc_integral) in body  # noqa: UP031
    assert f"dataset       PyLSTM         : {ev.roc_integral:.3f}" in body
    assert "Testing efficiency compared to training efficiency (overtraining check)" in body
    e, t = ev.eff_at_b, ev.eff_at_b_train
    row = (
        f"{'dataset':<20} {'PyLSTM':<15}: {e[0.01]:.3f} ({t[0.01]:.3f})       "
        f"{e[0.1]:.3f} ({t[0.1]:.3f})      {e[0.3]:.3f} ({t[0.3]:.3f})"
    )
    assert row in body
    assert ev.summary("PyLSTM", log_prefix=False).splitlines()[0] == body[0]


def test_hist1d_centers_and_edges():
    h = Hist1D("h", "h", 0.0, 1.0, np.zeros(6))
    np.testing.assert_allclose(h.edges, [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(h.centers(), [0.125, 0.375, 0.625, 0.875])
