"""tmva_lstm.data: the three sequence layouts, expressions, streaming and the errors.

Every file is written during the test (tmp_path) with uproot; std::vector<float> branches
are written with PyROOT, and those tests are skipped where ROOT does not import.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import uproot

from tmva_lstm import data
from tmva_lstm.data import Dataset, SequenceLayout
from tmva_lstm.errors import (
    BranchNotFoundError,
    DataError,
    InputFileError,
    NonFiniteInputError,
    OptionError,
    TreeNotFoundError,
)

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "time_data_t10_d30.root"
T, F = 4, 3


def write_tree(path: Path, trees: dict[str, dict[str, object]], chunk: int | None = None) -> Path:
    """Write TTrees with uproot's mktree/extend (several baskets when ``chunk`` is set)."""
    with uproot.recreate(path) as f:
        for name, branches in trees.items():
            n = len(next(iter(branches.values())))
            types = {}
            for b, v in branches.items():
                if isinstance(v, ak.Array):
                    types[b] = v.type.content
                else:
                    types[b] = (np.asarray(v).dtype, np.asarray(v).shape[1:])
            tree = f.mktree(name, types)
            step = chunk or max(n, 1)
            for start in range(0, n, step):
                tree.extend({b: v[start : start + step] for b, v in branches.items()})
    return path


def per_step_events(rng: np.random.Generator, n: int, shift: float = 0.0) -> np.ndarray:
    return (rng.normal(size=(n, T, F)) + shift).astype(np.float32)


@pytest.fixture
def per_step_file(tmp_path: Path, rng: np.random.Generator) -> tuple[Path, np.ndarray, dict]:
    """Trees sgn/bkg with vars_time0..3 float[3], and scalars w, nTrk, isSignal."""
    xs, xb = per_step_events(rng, 37, 1.0), per_step_events(rng, 41)
    extra = {}
    trees = {}
    for name, x in (("sgn", xs), ("bkg", xb)):
        n = len(x)
        branches: dict[str, object] = {f"vars_time{t}": x[:, t, :] for t in range(T)}
        extra[name] = {
            "w": rng.uniform(0.5, 2.0, n),
            "nTrk": rng.integers(0, 6, n).astype(np.int32),
        }
        branches.update(extra[name])
        trees[name] = branches
    path = write_tree(tmp_path / "steps.root", trees, chunk=10)
    return path, {"sgn": xs, "bkg": xb}, extra


# --------------------------------------------------------------------------------------
# SequenceLayout
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "per-step:vars_time{t}",
        "per-step:vars_time{t}:T=10",
        "per-step:vars_time%d",
        "array:x",
        "array:x:time_axis=1",
        "jagged:trk_pt,trk_eta,trk_phi:max=20",
        "jagged:pt:max=1",
    ],
)
def test_layout_string_round_trip(text: str) -> None:
    layout = SequenceLayout.from_string(text)
    assert str(layout) == text
    assert SequenceLayout.from_string(str(layout)) == layout


def test_layout_constructors_match_strings() -> None:
    assert SequenceLayout.per_step("v{t}", 5) == SequenceLayout.from_string("per-step:v{t}:T=5")
    assert SequenceLayout.array("x", 1) == SequenceLayout.from_string("array:x:time_axis=1")
    assert SequenceLayout.jagged(["a", "b"], 7) == SequenceLayout.from_string("jagged:a,b:max=7")
    assert SequenceLayout.per_step("vars_time%d").step_branch(3) == "vars_time3"


@pytest.mark.parametrize(
    ("text", "culprit"),
    [
        ("perstep:v{t}", "per-step"),  # did you mean
        ("per-step:v{t}:max=3", "T=N"),  # wrong key, names the valid one
        ("jagged:a,b", "max"),
        ("jagged:a:max=x", "integer"),
        ("per-step:vars_time", "{t}"),
        ("array:x,y", "one branch"),
        ("array", "KIND:BRANCHES"),
        ("per-step:v{t}:T=0", "positive"),
    ],
)
def test_layout_string_errors(text: str, culprit: str) -> None:
    with pytest.raises(OptionError, match=None) as err:
        SequenceLayout.from_string(text)
    assert culprit in str(err.value)


# --------------------------------------------------------------------------------------
# Layout 1: one branch per time step
# --------------------------------------------------------------------------------------


def test_per_step_fixed_arrays(per_step_file) -> None:
    path, x, _ = per_step_file
    ds = data.load(f"{path}:sgn", f"{path}:bkg", layout="per-step:vars_time{t}")
    assert ds.X.shape == (78, T, F) and ds.X.dtype == np.float32
    np.testing.assert_array_equal(ds.X, np.concatenate([x["sgn"], x["bkg"]]))
    np.testing.assert_array_equal(ds.y, [1] * 37 + [0] * 41)
    np.testing.assert_array_equal(ds.weights, 1.0)
    assert ds.weights.dtype == np.float64
    assert ds.mask is None and ds.lengths is None
    assert ds.variable_names[:4] == [
        "vars_time0[0]",
        "vars_time0[1]",
        "vars_time0[2]",
        "vars_time1[0]",
    ]
    assert ds.variable_names[-1] == "vars_time3[2]" and len(ds.variable_names) == T * F
    # TMVA's flat order: variable j*F + k is time step j, feature k
    flat = ds.X.reshape(len(ds), -1)
    assert flat[5, 1 * F + 2] == ds.X[5, 1, 2]
    assert "sgn" in ds.source and "bkg" in ds.source


def test_per_step_explicit_T_and_float64(per_step_file) -> None:
    path, x, _ = per_step_file
    ds = data.load(
        f"{path}:sgn", f"{path}:bkg", layout="per-step:vars_time%d:T=2", dtype=np.float64
    )
    assert ds.X.shape == (78, 2, F) and ds.X.dtype == np.float64
    np.testing.assert_array_equal(ds.X[:37], x["sgn"][:, :2, :])


def test_per_step_scalar_branches(tmp_path: Path, rng) -> None:
    a = rng.normal(size=(20, 5)).astype(np.float32)
    path = write_tree(
        tmp_path / "s.root",
        {"t": {f"x_t{t}": a[:, t] for t in range(5)} | {"cls": np.arange(20) % 2}},
    )
    ds = data.load(path, layout="per-step:x_t{t}", class_expr="cls == 1")
    assert ds.X.shape == (20, 5, 1)
    np.testing.assert_array_equal(ds.X[:, :, 0], a)
    assert ds.variable_names == [f"x_t{t}" for t in range(5)]
    np.testing.assert_array_equal(ds.y, np.arange(20) % 2)


def test_integer_and_double_branches_become_floats(tmp_path: Path, rng) -> None:
    ints = rng.integers(-100, 100, size=(9, T, F)).astype(np.int16)
    doubles = rng.normal(size=(9, T, F))
    branches = {f"i_t{t}": ints[:, t, :].astype(np.int32) for t in range(T)}
    branches |= {"a": ints, "d": doubles, "c": np.arange(9) % 2}
    path = write_tree(tmp_path / "i.root", {"t": branches})
    for layout, want in (("per-step:i_t{t}", ints), ("array:a", ints), ("array:d", doubles)):
        for dtype in (np.float32, np.float64):
            ds = data.load(path, layout=layout, class_expr="c", dtype=dtype)
            assert ds.X.dtype == dtype
            np.testing.assert_array_equal(ds.X, want.astype(dtype))
            (chunk,) = data.iterate(path, layout=layout, dtype=dtype)
            np.testing.assert_array_equal(chunk.X, ds.X)


def test_shipped_sample_reads_with_tmva_names() -> None:
    ds = data.load(f"{SAMPLE}:sgn", f"{SAMPLE}:bkg", layout="per-step:vars_time{t}")
    assert ds.X.shape == (4000, 10, 30)
    assert ds.variable_names[0] == "vars_time0[0]" and ds.variable_names[-1] == "vars_time9[29]"
    assert np.isfinite(ds.X).all()


# --------------------------------------------------------------------------------------
# Layout 2: one fixed-size two-dimensional branch
# --------------------------------------------------------------------------------------


def test_array_layout(tmp_path: Path, rng) -> None:
    x = rng.normal(size=(30, T, F)).astype(np.float32)
    xt = np.ascontiguousarray(x.transpose(0, 2, 1))  # stored as x[F][T]
    v = rng.normal(size=(30, 6)).astype(np.float32)
    label = (np.arange(30) < 12).astype(np.int32)
    path = write_tree(tmp_path / "a.root", {"t": {"x": x, "xt": xt, "v": v, "label": label}})
    ds = data.load(f"{path}:t", layout="array:x", class_expr="label")
    np.testing.assert_array_equal(ds.X, x)
    assert ds.variable_names[:2] == ["x[0][0]", "x[0][1]"] and ds.variable_names[F] == "x[1][0]"
    np.testing.assert_array_equal(ds.y, label)
    ds_t = data.load(f"{path}:t", layout="array:xt:time_axis=1", class_expr="label")
    np.testing.assert_array_equal(ds_t.X, x)
    assert ds_t.X.flags.c_contiguous
    assert ds_t.variable_names[1] == "xt[1][0]"  # step 0, feature 1 is xt[1][0]
    ds_v = data.load(f"{path}:t", layout="array:v", class_expr="label")
    assert ds_v.X.shape == (30, 6, 1) and ds_v.variable_names[2] == "v[2]"
    np.testing.assert_array_equal(ds_v.X[:, :, 0], v)


# --------------------------------------------------------------------------------------
# Layout 3: jagged per-object branches
# --------------------------------------------------------------------------------------


def jagged_events(rng, n: int, max_objects: int = 7) -> tuple[np.ndarray, ak.Array, ak.Array]:
    counts = rng.integers(0, max_objects + 1, n)
    counts[:3] = [0, 2, max_objects]  # an empty event, a short one, a long one
    pt = ak.unflatten(rng.uniform(1, 10, counts.sum()).astype(np.float32), counts)
    eta = ak.unflatten(rng.normal(size=counts.sum()).astype(np.float32), counts)
    return counts, pt, eta


def test_jagged_padding_truncation_mask(tmp_path: Path, rng) -> None:
    counts, pt, eta = jagged_events(rng, 25)
    path = write_tree(
        tmp_path / "j.root",
        {"ev": {"trk_pt": pt, "trk_eta": eta, "isSignal": np.arange(25) % 3 == 0}},
    )
    ds = data.load(f"{path}:ev", layout="jagged:trk_pt,trk_eta:max=5", class_expr="isSignal")
    assert ds.X.shape == (25, 5, 2)
    np.testing.assert_array_equal(ds.lengths, np.minimum(counts, 5))
    np.testing.assert_array_equal(ds.mask, np.arange(5) < np.minimum(counts, 5)[:, None])
    assert ds.mask.dtype == bool
    for i in range(25):
        m = min(counts[i], 5)
        np.testing.assert_array_equal(ds.X[i, :m, 0], np.asarray(pt[i])[:m])  # first objects
        np.testing.assert_array_equal(ds.X[i, :m, 1], np.asarray(eta[i])[:m])
        assert not ds.X[i, m:].any()  # zeros in the padding
    assert ds.lengths[0] == 0 and ds.lengths[2] == 5  # empty event; truncated 7 -> 5
    assert ds.variable_names[:4] == ["trk_pt[0]", "trk_eta[0]", "trk_pt[1]", "trk_eta[1]"]
    # padding longer than any event
    wide = data.load(f"{path}:ev", layout="jagged:trk_pt:max=9", class_expr="isSignal")
    np.testing.assert_array_equal(wide.lengths, counts)
    assert not wide.mask[:, 7:].any()


def test_jagged_branches_of_different_lengths(tmp_path: Path, rng) -> None:
    counts, pt, _ = jagged_events(rng, 10)
    other = ak.unflatten(np.ones(counts.sum() + 1, np.float32), np.r_[counts[:-1], counts[-1] + 1])
    path = write_tree(
        tmp_path / "j.root", {"ev": {"trk_pt": pt, "cl_e": other, "s": np.arange(10) % 2}}
    )
    with pytest.raises(DataError, match="'trk_pt' and 'cl_e'.*entry 9"):
        data.load(path, layout="jagged:trk_pt,cl_e:max=4", class_expr="s")


# --------------------------------------------------------------------------------------
# std::vector<float> branches, written by PyROOT
# --------------------------------------------------------------------------------------


def write_vectors_with_root(
    path: Path,
    tree: str,
    branches: dict[str, list[list[float]]],
    scalars: dict[str, list[int]] | None = None,
) -> Path:
    root = pytest.importorskip("ROOT", reason="PyROOT (pip install ROOT) is not importable")
    f = root.TFile(str(path), "RECREATE")
    t = root.TTree(tree, tree)
    vecs = {b: root.std.vector["float"]() for b in branches}
    for b, v in vecs.items():
        t.Branch(b, v)
    bufs = {}
    for b in scalars or {}:
        bufs[b] = np.zeros(1, dtype=np.int32)
        t.Branch(b, bufs[b], f"{b}/I")
    n = len(next(iter(branches.values())))
    for i in range(n):
        for b, v in vecs.items():
            v.clear()
            for value in branches[b][i]:
                v.push_back(value)
        for b, buf in bufs.items():
            buf[0] = scalars[b][i]
        t.Fill()
    t.Write()
    f.Close()
    return path


def test_per_step_std_vector_from_pyroot(tmp_path: Path, rng) -> None:
    x = rng.normal(size=(12, T, F)).astype(np.float32)
    branches = {f"vars_time{t}": x[:, t, :].tolist() for t in range(T)}
    path = write_vectors_with_root(tmp_path / "v.root", "sgn", branches, {"idx": range(12)})
    assert "std::vector<float>" in uproot.open(path)["sgn"]["vars_time0"].typename
    chunks = list(data.iterate(f"{path}:sgn", layout="per-step:vars_time{t}", label=1, step_size=5))
    ds = Dataset.concat(chunks)
    np.testing.assert_array_equal(ds.X, x)
    assert ds.variable_names[F] == "vars_time1[0]"
    np.testing.assert_array_equal(ds.y, 1)
    # a cut that empties the first two chunks of five entries
    (last,) = data.iterate(
        f"{path}:sgn", layout="per-step:vars_time{t}", cut="idx >= 10", step_size=5
    )
    np.testing.assert_array_equal(last.X, x[10:])
    np.testing.assert_array_equal(last.entries, [10, 11])


def test_per_step_std_vector_unequal_lengths(tmp_path: Path) -> None:
    branches = {
        "vars_time0": [[1.0, 2.0], [1.0, 2.0], [3.0, 4.0]],
        "vars_time1": [[1.0, 2.0], [1.0], [3.0, 4.0]],
    }
    path = write_vectors_with_root(tmp_path / "v.root", "sgn", branches)
    with pytest.raises(DataError, match="'vars_time1'.*1 values at entry 1 but 2"):
        data.load(f"{path}:sgn", layout="per-step:vars_time{t}", class_expr="1")


def test_jagged_std_vector_from_pyroot(tmp_path: Path) -> None:
    pt = [[5.0, 4.0, 3.0], [], [9.0]]
    eta = [[0.1, 0.2, 0.3], [], [-1.0]]
    path = write_vectors_with_root(
        tmp_path / "v.root", "ev", {"pt": pt, "eta": eta}, {"sig": [1, 0, 1]}
    )
    ds = data.load(f"{path}:ev", layout="jagged:pt,eta:max=2", class_expr="sig == 1")
    np.testing.assert_array_equal(ds.lengths, [2, 0, 1])
    np.testing.assert_allclose(ds.X[:, :, 0], [[5, 4], [0, 0], [9, 0]])
    np.testing.assert_allclose(ds.X[:, :, 1], [[0.1, 0.2], [0, 0], [-1, 0]], rtol=1e-6)


# --------------------------------------------------------------------------------------
# Expressions, streaming, sources
# --------------------------------------------------------------------------------------


def test_cut_weight_and_max_events(per_step_file) -> None:
    path, x, extra = per_step_file
    ds = data.load(
        f"{path}:sgn", f"{path}:bkg", layout="per-step:vars_time{t}", cut="nTrk > 2", weight="w * 2"
    )
    keep_s, keep_b = extra["sgn"]["nTrk"] > 2, extra["bkg"]["nTrk"] > 2
    np.testing.assert_array_equal(ds.X, np.concatenate([x["sgn"][keep_s], x["bkg"][keep_b]]))
    np.testing.assert_allclose(
        ds.weights, 2 * np.concatenate([extra["sgn"]["w"][keep_s], extra["bkg"]["w"][keep_b]])
    )
    np.testing.assert_array_equal(ds.entries[: keep_s.sum()], np.flatnonzero(keep_s))
    assert "cut: nTrk > 2" in ds.source
    const = data.load(
        f"{path}:sgn", f"{path}:bkg", layout="per-step:vars_time{t}", weight="1.5", max_events=5
    )
    assert len(const) == 10 and np.all(const.weights == 1.5)
    np.testing.assert_array_equal(const.y, [1] * 5 + [0] * 5)


def test_in_place_and_joined_reads_agree(per_step_file) -> None:
    """Without a cut load() fills one array in place; with one it joins chunks."""
    path, _, extra = per_step_file
    kw = dict(layout="per-step:vars_time{t}", step_size=6)
    other = shutil.copy(path, path.with_name("copy.root"))  # a second background source
    plain = data.load(f"{path}:sgn", [f"{path}:bkg", f"{other}:sgn"], **kw)
    joined = data.load(f"{path}:sgn", [f"{path}:bkg", f"{other}:sgn"], cut="nTrk >= 0", **kw)
    for name in ("X", "y", "weights", "entries"):
        np.testing.assert_array_equal(getattr(plain, name), getattr(joined, name))
    assert len(plain) == 37 + 41 + 37
    capped = data.load(f"{path}:sgn", f"{path}:bkg", max_events=12, cut="nTrk > 1", **kw)
    np.testing.assert_array_equal(
        capped.entries[:12], np.flatnonzero(extra["sgn"]["nTrk"] > 1)[:12]
    )
    np.testing.assert_array_equal(capped.y, [1] * 12 + [0] * 12)


@pytest.mark.parametrize("step_size", [1, 7, 10, "1 kB"])
def test_streaming_equals_in_memory(per_step_file, step_size) -> None:
    path, _, _ = per_step_file
    kw = dict(layout="per-step:vars_time{t}", cut="nTrk != 3", weight="w")
    whole = data.load(f"{path}:sgn", f"{path}:bkg", **kw)
    chunks = [
        *data.iterate(f"{path}:sgn", label=1, step_size=step_size, **kw),
        *data.iterate(f"{path}:bkg", label=0, step_size=step_size, **kw),
    ]
    assert len(chunks) > 1
    assert all(c.source in (f"{path}:sgn", f"{path}:bkg") for c in chunks)
    streamed = Dataset.concat(chunks)
    for name in ("X", "y", "weights", "entries"):
        np.testing.assert_array_equal(getattr(streamed, name), getattr(whole, name))
    assert streamed.variable_names == whole.variable_names


def test_streaming_jagged_equals_in_memory(tmp_path: Path, rng) -> None:
    counts, pt, eta = jagged_events(rng, 60)
    sig = (np.arange(60) % 2).astype(np.int32)
    path = write_tree(
        tmp_path / "j.root",
        {"ev": {"trk_pt": pt, "trk_eta": eta, "sig": sig, "ntrk": counts.astype(np.int32)}},
        chunk=16,
    )
    kw = dict(layout="jagged:trk_pt,trk_eta:max=4", cut="ntrk > 0", weight="ntrk * 0.5")
    whole = data.load(f"{path}:ev", class_expr="sig == 1", **kw)
    streamed = Dataset.concat(
        list(data.iterate(f"{path}:ev", class_expr="sig == 1", step_size=9, **kw))
    )
    for name in ("X", "y", "weights", "mask", "lengths", "entries"):
        np.testing.assert_array_equal(getattr(streamed, name), getattr(whole, name))
    np.testing.assert_array_equal(whole.weights, 0.5 * counts[counts > 0])


def test_scoring_without_labels(per_step_file) -> None:
    path, x, _ = per_step_file
    (ds,) = data.iterate(f"{path}:bkg", layout="per-step:vars_time{t}")
    np.testing.assert_array_equal(ds.y, -1)
    np.testing.assert_array_equal(ds.X, x["bkg"])


def test_source_forms(tmp_path: Path, rng) -> None:
    parts = [per_step_events(rng, n) for n in (5, 6, 7)]
    for i, x in enumerate(parts):
        write_tree(
            tmp_path / f"part{i}.root", {"sgn": {f"vars_time{t}": x[:, t, :] for t in range(T)}}
        )
    want = np.concatenate(parts)
    layout = "per-step:vars_time{t}"
    files = [tmp_path / f"part{i}.root" for i in range(3)]
    forms = [
        f"{tmp_path}/part*.root:sgn",  # glob
        [f"{p}:sgn" for p in files],  # list
        {str(p): "sgn" for p in files},  # dict
        files,  # Paths: the files' only tree
    ]
    for form in forms:
        ds = Dataset.concat(list(data.iterate(form, layout=layout, label=1)))
        np.testing.assert_array_equal(ds.X, want)


def test_empty_trees(tmp_path: Path, rng) -> None:
    empty = write_tree(tmp_path / "empty.root", {"sgn": {"x": np.zeros((0, T, F), np.float32)}})
    full = write_tree(tmp_path / "full.root", {"sgn": {"x": rng.normal(size=(4, T, F))}})
    ds = Dataset.concat(list(data.iterate([empty, full], layout="array:x")))
    assert len(ds) == 4 and ds.X.dtype == np.float32
    with pytest.raises(DataError, match="signal source '.*empty.root' has no entries"):
        data.load(empty, full, layout="array:x")
    with pytest.raises(DataError, match="signal source '.*empty.root' has no entries"):
        data.load(empty, full, layout="array:x", cut="x[:, 0, 0] > -99")


def test_dataset_subset_concat_len(per_step_file) -> None:
    path, _, _ = per_step_file
    ds = data.load(f"{path}:sgn", f"{path}:bkg", layout="per-step:vars_time{t}")
    assert len(ds) == 78 and ds.n_steps == T and ds.n_features == F
    sub = ds.subset(np.arange(10, 20))
    np.testing.assert_array_equal(sub.X, ds.X[10:20])
    both = Dataset.concat([ds.subset(slice(0, 40)), ds.subset(slice(40, None))])
    np.testing.assert_array_equal(both.X, ds.X)
    np.testing.assert_array_equal(both.y, ds.y)
    assert "N=78" in repr(ds)
    with pytest.raises(DataError, match="variable names"):
        Dataset(X=np.zeros((2, 3, 4)), y=[0, 1], weights=[1, 1], variable_names=["a"])
    with pytest.raises(DataError, match="cannot join"):
        Dataset.concat([ds, Dataset(X=np.zeros((1, 2, 2)), y=[0], weights=[1])])


def test_variable_branches(per_step_file, tmp_path, rng) -> None:
    path, x, _ = per_step_file
    layout = SequenceLayout.per_step("vars_time{t}")
    ds = data.load(f"{path}:sgn", f"{path}:bkg", layout=layout)
    out = data.variable_branches(ds, layout)
    assert list(out) == [f"vars_time{t}" for t in range(T)]
    np.testing.assert_array_equal(out["vars_time2"][:37], x["sgn"][:, 2, :])
    counts, pt, eta = jagged_events(rng, 8)
    jpath = write_tree(tmp_path / "j.root", {"ev": {"trk_pt": pt, "trk_eta": eta}})
    (jds,) = data.iterate(jpath, layout="jagged:trk_pt,trk_eta:max=3")
    jout = data.variable_branches(jds, "jagged:trk_pt,trk_eta:max=3")
    assert jout["trk_eta"].shape == (8, 3)
    np.testing.assert_array_equal(jout["length"], np.minimum(counts, 3))


# --------------------------------------------------------------------------------------
# Errors: each names its culprit
# --------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no such file.*nope.root"):
        data.load(f"{tmp_path}/nope.root:sgn", f"{tmp_path}/nope.root:bkg", layout="per-step:v{t}")


def test_glob_matching_nothing(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"no file matches.*\*\.root"):
        list(data.iterate(f"{tmp_path}/*.root:t", layout="array:x"))


def test_not_a_root_file(tmp_path: Path) -> None:
    bad = tmp_path / "notes.root"
    bad.write_text("this is not a ROOT file, but it is long enough " * 20)
    with pytest.raises(InputFileError, match="notes.root' is not a ROOT file"):
        data.load(f"{bad}:t", layout="array:x", class_expr="c")


def test_truncated_file(per_step_file, tmp_path: Path) -> None:
    path, _, _ = per_step_file
    raw = path.read_bytes()
    for size in (len(raw) // 2, 10):
        cut = tmp_path / f"cut{size}.root"
        cut.write_bytes(raw[:size])
        with pytest.raises(InputFileError, match=f"cut{size}.root' is truncated"):
            data.load(f"{cut}:sgn", f"{cut}:bkg", layout="per-step:vars_time{t}")


def test_corrupt_basket(per_step_file, tmp_path: Path) -> None:
    """Same size, but the bytes of a data basket overwritten: the read fails by name."""
    path, _, _ = per_step_file
    raw = bytearray(path.read_bytes())
    f = uproot.open(path)
    start = f["sgn"]["vars_time2"].member("fBasketSeek")[0]
    f.close()
    raw[start + 40 : start + 240] = b"\xff" * 200
    broken = tmp_path / "broken.root"
    broken.write_bytes(bytes(raw))
    with pytest.raises(InputFileError, match="broken.root:sgn.*corrupt"):
        data.load(f"{broken}:sgn", f"{broken}:bkg", layout="per-step:vars_time{t}")


def test_missing_tree_suggests(per_step_file) -> None:
    path, _, _ = per_step_file
    with pytest.raises(
        TreeNotFoundError,
        match=r"no tree 'sgnl' in '.*steps.root'.*did you "
        r"mean 'sgn'",
    ) as err:
        data.load(f"{path}:sgnl", f"{path}:bkg", layout="per-step:vars_time{t}")
    assert isinstance(err.value, KeyError)
    with pytest.raises(TreeNotFoundError, match="holds 2 trees"):
        data.load(path, layout="per-step:vars_time{t}", class_expr="nTrk > 2")


@pytest.mark.parametrize(
    ("layout", "missing", "suggest"),
    [
        ("per-step:var_time{t}", "var_time0", "vars_time0"),
        ("array:vars_tim0", "vars_tim0", "vars_time0"),
        ("jagged:nTrks:max=3", "nTrks", "nTrk"),
    ],
)
def test_missing_branch_suggests(per_step_file, layout, missing, suggest) -> None:
    path, _, _ = per_step_file
    with pytest.raises(BranchNotFoundError) as err:
        data.load(f"{path}:sgn", f"{path}:bkg", layout=layout)
    msg = str(err.value)
    assert f"no branch '{missing}'" in msg and "steps.root:sgn" in msg
    assert f"did you mean '{suggest}'" in msg


def test_unknown_name_in_expression(per_step_file) -> None:
    path, _, _ = per_step_file
    with pytest.raises(
        BranchNotFoundError,
        match=r"cut 'ntrk > 2' uses 'ntrk'.*steps.root:sgn"
        r".*did you mean 'nTrk'",
    ):
        data.load(f"{path}:sgn", f"{path}:bkg", layout="per-step:vars_time{t}", cut="ntrk > 2")
    with pytest.raises(OptionError, match="weight 'w \\*' is not a valid expression"):
        data.load(f"{path}:sgn", f"{path}:bkg", layout="per-step:vars_time{t}", weight="w *")
    with pytest.raises(DataError, match=r"weight 'vars_time0' gives \(3,\) values per event"):
        data.load(f"{path}:sgn", f"{path}:bkg", layout="per-step:vars_time{t}", weight="vars_time0")


def test_wrong_layouts(tmp_path: Path, rng) -> None:
    counts, pt, _ = jagged_events(rng, 6)
    path = write_tree(
        tmp_path / "w.root",
        {
            "t": {
                "trk_pt": pt,
                "x": rng.normal(size=(6, 2, 3)).astype(np.float32),
                "a_t0": np.zeros((6, 3), np.float32),
                "a_t1": np.zeros((6, 4), np.float32),
                "b_t0": np.zeros(6, np.float32),
                "b_t1": np.zeros(6, np.float32),
                "b_t3": np.zeros(6, np.float32),
                "name": ak.Array(["e"] * 6),
                "c": np.arange(6) % 2,
            }
        },
    )
    cases = [
        ("array:trk_pt", "branch 'trk_pt' in '.*w.root:t' is variable-length.*jagged:trk_pt"),
        ("jagged:x:max=3", "branch 'x' .* has a fixed size"),
        ("per-step:a_t{t}", "'a_t0' has 3 values, 'a_t1' has 4"),
        ("per-step:b_t{t}", "time step 2 of 'b_t{t}' is missing .*no branch 'b_t2'"),
        ("per-step:b_t{t}:T=4", "no branch 'b_t2'"),
        ("per-step:x_t{t}:T=2", None),
        ("array:name", "branch 'name' in '.*w.root:t' has type char\\*"),
        ("jagged:name:max=2", "branch 'name'"),
    ]
    for layout, pattern in cases:
        if pattern is None:
            with pytest.raises(BranchNotFoundError, match="x_t0"):
                data.load(path, layout=layout, class_expr="c")
            continue
        with pytest.raises(DataError, match=pattern):
            data.load(path, layout=layout, class_expr="c")
    # T=2 is fine: only the steps before the gap are used
    assert data.load(path, layout="per-step:b_t{t}:T=2", class_expr="c").X.shape == (6, 2, 1)


def test_empty_selections(per_step_file) -> None:
    path, _, _ = per_step_file
    with pytest.raises(DataError, match="cut 'nTrk > 99' keeps no events of the signal source"):
        data.load(f"{path}:sgn", f"{path}:bkg", layout="per-step:vars_time{t}", cut="nTrk > 99")
    with pytest.raises(DataError, match="class_expr 'nTrk > 99' selects no signal events"):
        data.load(f"{path}:sgn", layout="per-step:vars_time{t}", class_expr="nTrk > 99")
    with pytest.raises(DataError, match="selects no background events"):
        data.load(f"{path}:sgn", layout="per-step:vars_time{t}", class_expr="nTrk >= 0")


def test_non_finite_inputs(tmp_path: Path, rng) -> None:
    x = rng.normal(size=(10, T, F)).astype(np.float32)
    x[6, 2, 1] = np.nan
    w = np.ones(10)
    w[3] = np.inf
    path = write_tree(tmp_path / "nan.root", {"t": {"x": x, "w": w, "c": np.arange(10) % 2}})
    with pytest.raises(
        NonFiniteInputError,
        match=r"'x\[2\]\[1\]' is nan at entry 6 of "
        r"'.*nan.root:t'",
    ):
        data.load(path, layout="array:x", class_expr="c")
    with pytest.raises(NonFiniteInputError, match="weight 'w' is inf at entry 3"):
        data.load(path, layout="array:x", class_expr="c", weight="w")


def test_files_with_different_layouts(tmp_path: Path, rng) -> None:
    a = write_tree(tmp_path / "a.root", {"t": {"x": np.zeros((3, 4, 2), np.float32)}})
    b = write_tree(tmp_path / "b.root", {"t": {"x": np.zeros((3, 5, 2), np.float32)}})
    with pytest.raises(DataError, match="b.root:t' has T=5.*a.root:t' has T=4"):
        list(data.iterate([f"{a}:t", f"{b}:t"], layout="array:x"))
    with pytest.raises(DataError, match="b.root:t' has T=5.*a.root:t' has T=4"):
        data.load(f"{a}:t", f"{b}:t", layout="array:x")


def test_bad_arguments(per_step_file) -> None:
    path, _, _ = per_step_file
    src, layout = f"{path}:sgn", "per-step:vars_time{t}"
    with pytest.raises(OptionError, match="class_expr"):
        data.load(src, layout=layout)
    with pytest.raises(OptionError, match="class_expr is for one mixed source"):
        data.load(src, src, layout=layout, class_expr="nTrk > 1")
    with pytest.raises(OptionError, match="step_size"):
        data.load(src, src, layout=layout, step_size="lots")
    with pytest.raises(OptionError, match="dtype"):
        data.load(src, src, layout=layout, dtype=np.int32)
    with pytest.raises(OptionError, match="max_events"):
        data.load(src, src, layout=layout, max_events=0)
