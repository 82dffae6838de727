"""data/make_sample.py: the TMVA RNN tutorial's toy time series, reproducible and as specified."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
import uproot

ROOT_DIR = Path(__file__).resolve().parents[1]
SAMPLE = ROOT_DIR / "data" / "time_data_t10_d30.root"
TREES = ("sgn", "bkg")


def _load_script():
    spec = importlib.util.spec_from_file_location(
        "make_sample", ROOT_DIR / "data" / "make_sample.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ms = _load_script()


def read_file(path: Path) -> dict[str, np.ndarray]:
    """{tree: (N, T, F)} from a file written by the script."""
    out = {}
    with uproot.open(path) as f:
        for name in TREES:
            arrays = f[name].arrays([f"vars_time{j}" for j in range(ms.N_TIME)], library="np")
            out[name] = np.stack([arrays[f"vars_time{j}"] for j in range(ms.N_TIME)], axis=1)
    return out


def test_same_seed_same_arrays(tmp_path: Path) -> None:
    a, b = tmp_path / "a.root", tmp_path / "b.root"
    assert ms.main(["--events", "60", "--seed", "7", "--output", str(a)]) == 0
    assert ms.main(["--events", "60", "--seed", "7", "--output", str(b)]) == 0
    ra, rb = read_file(a), read_file(b)
    for name in TREES:
        np.testing.assert_array_equal(ra[name], rb[name])
    other = ms.make_time_data(60, seed=8)
    assert not np.array_equal(other["sgn"], ra["sgn"])


def test_shipped_file_is_what_the_script_makes() -> None:
    """data/time_data_t10_d30.root = make_time_data(2000, DEFAULT_SEED), bit for bit."""
    shipped = read_file(SAMPLE)
    made = ms.make_time_data(ms.DEFAULT_EVENTS, ms.DEFAULT_SEED)
    for name in TREES:
        np.testing.assert_array_equal(shipped[name], made[name])


def test_layout_names_types_and_size() -> None:
    assert 1e6 < SAMPLE.stat().st_size < 10e6
    with uproot.open(SAMPLE) as f:
        classes = f.classnames()
        assert {k.split(";")[0]: v for k, v in classes.items()} == {"sgn": "TTree", "bkg": "TTree"}
        for name in TREES:
            tree = f[name]
            assert tree.num_entries == 2000
            assert tree.keys() == [f"vars_time{j}" for j in range(10)]
            assert {tree[k].typename for k in tree.keys()} == {"float[30]"}
            x = tree["vars_time3"].array(library="np")
            assert x.shape == (2000, 30) and x.dtype == np.float32


def expected_contents(signal: bool) -> np.ndarray:
    """(T, F) expected bin contents: 1000 times FillRandom's bin probabilities."""
    means, sigmas = ms.gaussian_parameters(signal)
    return np.array(
        [ms.N_ENTRIES * ms.bin_probabilities(m, s) for m, s in zip(means, sigmas, strict=True)]
    )


def test_parameters_follow_the_tutorial() -> None:
    j = np.arange(10)
    m_b, s_b = ms.gaussian_parameters(signal=False)
    m_s, s_s = ms.gaussian_parameters(signal=True)
    np.testing.assert_allclose(m_b, 5 + 0.2 * np.sin(np.pi * j / 10))
    np.testing.assert_allclose(s_b, 4 + 0.3 * np.sin(np.pi * j / 10))
    np.testing.assert_allclose(m_s, 5 + 0.2 * np.cos(np.pi * j / 10))
    np.testing.assert_allclose(s_s, 4 + 0.3 * np.cos(np.pi * j / 10))


def test_class_means_per_time_step() -> None:
    """Mean of each feature per class and step = 1000 * bin probability, within 5 sigma;
    the other class's expectation is rejected."""
    x = read_file(SAMPLE)
    for name, signal in (("sgn", True), ("bkg", False)):
        n = len(x[name])
        mean = x[name].astype(np.float64).mean(axis=0)  # (T, F)
        want = expected_contents(signal)
        p = want / ms.N_ENTRIES
        se = np.sqrt(ms.NOISE_SIGMA**2 + ms.N_ENTRIES * p * (1 - p)) / math.sqrt(n)
        z = (mean - want) / se
        assert np.abs(z).max() < 5, f"{name}: ours vs expected, worst z = {np.abs(z).max():.2f}"
        # all 30 features are filled (the tutorial's .py version leaves 10-29 at zero)
        assert np.all(mean[:, 10:] > 15)
        # the other class's shape does not fit: at step 0 the widths differ by 0.3
        wrong = (mean[0] - expected_contents(not signal)[0]) / se[0]
        assert np.sum(wrong**2) > 10 * 30, f"{name}: cannot tell the classes apart"
    # histogram centroids: signal's mean 5 + 0.2 cos sits above background's 5 + 0.2 sin at j=0
    centres = (np.arange(30) + 0.5) / 3
    centroid = {k: (x[k].mean(axis=0) @ centres) / x[k].mean(axis=0).sum(axis=1) for k in TREES}
    assert centroid["sgn"][0] > centroid["bkg"][0] + 0.05


def test_bin_probabilities_match_root_integral() -> None:
    root = pytest.importorskip("ROOT", reason="PyROOT (pip install ROOT) is not importable")
    f = root.TF1("gaus_check", "gaus", 0, 10)
    edges = np.linspace(0, 10, 31)
    for mean, sigma in ((5.0, 4.0), (5.2, 4.3), (5.06, 4.09)):
        f.SetParameters(1, mean, sigma)
        ref = np.array([f.Integral(edges[k], edges[k + 1]) for k in range(30)])
        np.testing.assert_allclose(ms.bin_probabilities(mean, sigma), ref / ref.sum(), rtol=1e-9)


def test_pyroot_reads_the_file() -> None:
    root = pytest.importorskip("ROOT", reason="PyROOT (pip install ROOT) is not importable")
    f = root.TFile.Open(str(SAMPLE))
    try:
        tree = f.Get("sgn")
        assert tree.GetEntries() == 2000
        tree.GetEntry(11)
        ours = read_file(SAMPLE)["sgn"][11, 4]
        np.testing.assert_array_equal(np.array(list(tree.vars_time4), dtype=np.float32), ours)
    finally:
        f.Close()


def test_write_is_atomic(tmp_path: Path) -> None:
    out = tmp_path / "out.root"
    out.write_bytes(b"previous")
    bad = {"sgn": np.zeros((5, 10, 30), np.float32), "bkg": np.zeros((5, 10), np.float32)}
    with pytest.raises(ValueError):
        ms.write_time_data(out, bad)  # the second tree cannot be unpacked into (n, T, F)
    assert out.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["out.root"]  # no temporary left behind


def test_cli_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        ms.main(["--events", "0", "--output", str(tmp_path / "x.root")])
    assert not (tmp_path / "x.root").exists()
