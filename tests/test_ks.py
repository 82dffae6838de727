"""TMVAGui's Kolmogorov-Smirnov test, option "X": ROOT's own where PyROOT imports, and the
NumPy pseudo-experiments, which must follow the same distribution."""

from __future__ import annotations

import numpy as np
import pytest

from tmva_lstm.errors import OptionError
from tmva_lstm.evaluation.histograms import _filled, _norm_hist
from tmva_lstm.evaluation.ks import (
    ROOT_DEFAULT_SEED,
    kolmogorov_test,
    ks_probabilities,
    to_root_th1d,
)


def _pair(rng, shift: float, n1: int = 400, n2: int = 1600):
    """A test and a training response histogram as TMVA fills them (weighted, normalised)."""
    a = _norm_hist(_filled("_S", rng.beta(2, 3, n1), rng.uniform(0.8, 1.2, n1), 40, 0.0, 1.0))
    b = _norm_hist(
        _filled("_Train_S", rng.beta(2 + shift, 3, n2), rng.uniform(0.8, 1.2, n2), 40, 0.0, 1.0)
    )
    return a, b


def test_root_method_equals_th1_kolmogorov_test_with_option_x(rng):
    ROOT = pytest.importorskip("ROOT", reason="PyROOT (pip install ROOT) is not importable")
    pairs = [_pair(rng, 0.1), _pair(rng, 0.0)]
    ours, method = ks_probabilities(pairs, "root")
    assert method == "root"
    # TMVAGui in a fresh session: gRandom = TRandom3(4357), signal first, then background
    ROOT.gRandom.SetSeed(ROOT_DEFAULT_SEED)
    ref = [to_root_th1d(a).KolmogorovTest(to_root_th1d(b), "X") for a, b in pairs]
    assert ours == ref, f"ours {ours} vs ROOT {ref}"
    assert all(abs(p * 1000 - round(p * 1000)) < 1e-9 for p in ours)  # 1000 experiments


def test_numpy_pseudo_experiments_follow_roots_distribution(rng):
    ROOT = pytest.importorskip("ROOT", reason="PyROOT (pip install ROOT) is not importable")
    for shift in (0.0, 0.08):
        a, b = _pair(rng, shift)
        ra, rb = to_root_th1d(a), to_root_th1d(b)
        root_x = []
        for seed in range(1, 9):
            ROOT.gRandom.SetSeed(seed)
            root_x.append(ra.KolmogorovTest(rb, "X"))
        ours = [kolmogorov_test(a, b, "X", seed=s) for s in range(8)]
        # 8 x 1000 toys each: the two means differ by ~0.01 at most for p ~ 0.2
        assert np.mean(ours) == pytest.approx(np.mean(root_x), abs=0.03), (ours, root_x)
        # and "X" is not the analytic probability of option "" (TMVAGui shows "X")
        assert kolmogorov_test(a, b, "") == pytest.approx(ra.KolmogorovTest(rb, ""), rel=1e-9)


def test_numpy_method_is_reproducible_and_named(rng):
    pairs = [_pair(rng, 0.05)]
    first, method = ks_probabilities(pairs, "numpy")
    assert method == "numpy"
    assert ks_probabilities(pairs, "numpy")[0] == first
    with pytest.raises(OptionError, match="valid: auto, root, numpy"):
        ks_probabilities(pairs, "scipy")
    with pytest.raises(OptionError, match="not supported"):
        kolmogorov_test(*pairs[0], "UO")
