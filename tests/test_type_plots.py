"""The figures of Multiclass and Regression jobs (``tmva_lstm.results.type_plots``): the
numbers TMVAGui would draw, and the figures drawn from a job's own objects."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tmva_lstm.results.analysis_types import TypedTreeData, regression_histograms
from tmva_lstm.results.plots import histograms_by_variable, plot_input_variables
from tmva_lstm.results.type_plots import average_deviation, write_typed_plots


def _regression_sample(rng, n=400):
    targets = rng.normal(3.0, 2.0, size=(n, 2))
    outputs = targets + rng.normal(0.0, [0.5, 1.5], size=(n, 2))
    return TypedTreeData(outputs=outputs, y=np.zeros(n, dtype=np.int64),
                         weights=rng.uniform(0.5, 2.0, n), class_names=["Regression"],
                         targets=targets, target_names=["E", "eta"])  # fmt: skip


def test_average_deviation_is_regression_averagedevs_on_roots_histogram():
    """``sqrt(GetMean())`` and ``GetRMS() / (sqrt(GetEntries()) 2 GetMean())`` of the
    ``_Quadr_Deviation`` TH1F, as ROOT computes them from the same weighted fills."""
    ROOT = pytest.importorskip("ROOT")
    data = _regression_sample(np.random.default_rng(3))
    tgt = np.asarray(data.targets, np.float32)
    ranges = np.stack([tgt.min(axis=0), tgt.max(axis=0)], axis=1)
    hists = regression_histograms("PyLSTM", "test", data, None, ranges)
    for j in range(2):
        ours = next(h for h in hists if h.name == f"MVA_PyLSTMtest_Quadr_Deviation_target_{j}_")
        sq = (np.float32(data.outputs[:, j]) - np.float32(data.targets[:, j])) ** 2
        root = ROOT.TH1F(f"tmva_lstm_test_quadr_{j}", "", ours.nbins, ours.xmin, ours.xmax)
        root.SetDirectory(ROOT.nullptr)  # Python owns it; no directory holds it
        for x, w in zip(sq.astype(np.float64), np.float32(data.weights), strict=True):
            root.Fill(float(x), float(w))
        value, error = average_deviation(ours)
        assert value == pytest.approx(math.sqrt(root.GetMean()), rel=1e-6)
        expected = root.GetRMS() / (math.sqrt(root.GetEntries()) * 2.0 * root.GetMean())
        assert error == pytest.approx(expected, rel=1e-5)
        # and it is the weighted root-mean-square deviation of the events themselves
        w = np.float32(data.weights).astype(np.float64)
        assert value == pytest.approx(math.sqrt((w * sq).sum() / w.sum()), rel=1e-5)


def test_input_variables_of_classes_whose_names_share_a_prefix(tmp_path):
    """Classes "Sig" and "Signal": each histogram goes to its own class (the class is the
    name's last ``__`` part, not a substring); a variable lacking a class is left out."""
    from tmva_lstm.errors import DataError
    from tmva_lstm.evaluation.histograms import Hist1D

    def hist(name):
        contents = np.zeros(42)
        contents[1:-1] = 1.0
        return Hist1D(name, name, 0.0, 1.0, contents)

    hs = {n: hist(n) for n in ("x__Sig_Id", "x__Signal_Id", "E__Signal_target_Id",
                               "E__Sig_target_Id", "y__Signal_Id", "a__b__Sig_Id",
                               "a__b__Signal_Id")}  # fmt: skip
    groups = histograms_by_variable(list(hs.values()), ["Sig", "Signal"])
    assert [(v, [h.name for h in g]) for v, g in groups] == [
        ("x", ["x__Sig_Id", "x__Signal_Id"]),
        ("E", ["E__Sig_target_Id", "E__Signal_target_Id"]),
        ("a__b", ["a__b__Sig_Id", "a__b__Signal_Id"]),
    ]
    paths = plot_input_variables(tmp_path / "iv", list(hs.values()), class_names=["Sig", "Signal"])
    assert [p.name for p in paths] == ["iv.png", "iv.pdf"]
    with pytest.raises(DataError, match="Sig"):
        plot_input_variables(tmp_path / "none", [hs["y__Signal_Id"]], class_names=["Sig", "Signal"])


def test_regression_figures_without_training_events(tmp_path):
    """A saved model evaluated on new events: the test sample's figures, nothing else."""
    data = _regression_sample(np.random.default_rng(4))
    files = write_typed_plots(tmp_path, "PyLSTM", data, None)
    assert sorted(files) == ["average_deviations.pdf", "average_deviations.png",
                             "deviation_target_test.pdf", "deviation_target_test.png"]  # fmt: skip
    assert all(p.stat().st_size > 1000 for p in files.values())
