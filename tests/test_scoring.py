"""``tl.score_events``: a model applied to awkward arrays of events (coffea, dask-awkward)."""

from __future__ import annotations

import awkward as ak
import numpy as np
import uproot

import tmva_lstm as tl
from tmva_lstm.data import Dataset, iterate

SAMPLE = "data/time_data_t10_d30.root"


def _model(layout: str, T: int, F: int):
    from tmva_lstm.model import Model
    from tmva_lstm.nn.network import Network
    from tmva_lstm.options import MethodOptions

    net = Network.from_layout("LSTM|4,LINEAR", T, F)
    opts = MethodOptions.from_string(f"InputLayout={T}|{F}:Layout=LSTM|4,LINEAR")
    model = Model(net, net.init_params(np.random.default_rng(2)), opts,
                  [f"x{i}" for i in range(T * F)])  # fmt: skip
    model.data_layout = layout
    return model


def test_score_events_on_awkward_events_equals_predict():
    model = _model("per-step:vars_time{t}", 10, 30)
    events = uproot.open(SAMPLE)["sgn"].arrays(entry_stop=500)
    data = Dataset.concat(list(iterate(f"{SAMPLE}:sgn", layout=model.data_layout, max_events=500)))
    scores = tl.score_events(model, events)
    assert isinstance(scores, ak.Array) and len(scores) == 500
    np.testing.assert_array_equal(ak.to_numpy(scores), model.predict(data.X))


def test_score_events_on_jagged_branches_masks_the_padding(tmp_path):
    model = _model("jagged:a,b:max=3", 3, 2)
    rng = np.random.default_rng(1)
    counts = rng.integers(0, 5, 200)
    a = ak.unflatten(rng.normal(size=counts.sum()).astype(np.float32), counts)
    b = ak.unflatten(rng.normal(size=counts.sum()).astype(np.float32), counts)
    with uproot.recreate(tmp_path / "j.root") as f:
        f.mktree("t", {"a": a.type.content, "b": b.type.content}, counter_name=lambda _: "n")
        f["t"].extend({"a": a, "b": b})
    data = Dataset.concat(list(iterate(f"{tmp_path / 'j.root'}:t", layout=model.data_layout)))
    scores = tl.score_events(model, ak.zip({"a": a, "b": b}, depth_limit=1))
    np.testing.assert_array_equal(ak.to_numpy(scores), model.predict(data.X, data.mask))


def test_on_a_typetracer_only_the_layout_branches_are_needed():
    """What dask-awkward's column optimisation sees: the step branches, nothing else."""
    model = _model("per-step:vars_time{t}", 10, 30)
    events = uproot.open(SAMPLE)["sgn"].arrays(entry_stop=10)
    events["other"] = np.arange(10)
    tracer, report = ak.typetracer.typetracer_with_report(
        ak.to_layout(events).form_with_key(), highlevel=True
    )
    out = tl.score_events(model, tracer)
    assert ak.backend(out) == "typetracer"
    touched = {key.split("-")[0] for key in report.data_touched}
    assert len(touched) == 10  # the ten vars_time{t} columns, not "other"
