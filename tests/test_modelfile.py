"""The model file: exact round trip, and a clear error for every kind of damage."""

from __future__ import annotations

import os
import re
import time

import numpy as np
import pytest

from tmva_lstm import modelfile
from tmva_lstm.errors import ModelFileError
from tmva_lstm.model import Model
from tmva_lstm.nn.network import flatten_params
from tmva_lstm.training import train


@pytest.fixture(scope="module", params=[np.float32, np.float64])
def trained(request):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 6, 3))
    y = (X[:, :, 0].sum(axis=1) > 0).astype(int)
    opts = "RandomSeed=2:VarTransform=N:Layout=LSTM|5|0|0|0|1,RESHAPE|FLAT,DENSE|7|RELU,LINEAR:MaxEpochs=2"
    names = [f"v{t}[{f}]" for t in range(6) for f in range(3)]
    return train(X, y, None, opts, variable_names=names, dtype=request.param), X


def test_round_trip_is_exact(trained, tmp_path):
    model, X = trained
    path = model.save(tmp_path / "m.weights.xml", title="LSTM")
    back = Model.load(path)
    a, b = flatten_params(model.params), flatten_params(back.params)
    for k in a:
        assert a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]), k
    assert np.array_equal(model.predict(X), back.predict(X))
    assert back.options == model.options and back.network == model.network
    assert back.variable_names == model.variable_names
    assert np.array_equal(back.transform.scale, model.transform.scale)
    assert back.history == model.history


def test_file_is_tmva_style_xml(trained, tmp_path):
    model, _ = trained
    root = modelfile.parse_xml((model.save(tmp_path / "m.xml", title="LSTM")).read_bytes())
    assert root.tag == "MethodSetup" and root.get("Method") == "PyLSTM::LSTM"
    assert [c.tag for c in root] == [
        "GeneralInfo", "Options", "Variables", "Spectators", "Classes", "Transformations",
        "MVAPdfs", "Weights",
    ]  # fmt: skip
    variables = root.find("Variables")
    assert variables.get("NVar") == "18" and variables[4].get("Internal") == "v1[1]"
    assert variables[4].get("Expression") == "v1"


def _damage(path, change):
    text = path.read_text()
    path.write_text(change(text))
    return path


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda t: t[: len(t) // 2], "not valid XML"),
        (lambda t: t.replace("<Weights>", "<Weights><oops>", 1), "not valid XML"),
        (lambda t: re.sub(r'(Name="W" Shape=")(\d+)', lambda m: m[1] + str(int(m[2]) + 1), t, count=1),
         "holds"),
        (lambda t: re.sub(r'(<Array Name="b" Shape="\d+" DType="float\d+">)(.)', lambda m: m[1] + ("B" if m[2] != "B" else "C"), t, count=1),
         "checksum mismatch"),
        (lambda t: t.replace('FormatVersion="1"', 'FormatVersion="99"'), "newer than this tmva_lstm"),
        (lambda t: t.replace('Units="7"', 'Units="8"'), "do not match the stored Layout"),
        (lambda t: t.replace('Format="tmva_lstm"', 'Format="other"'), "no tmva_lstm <Model>"),
        (lambda t: t.replace("<Weights>", "<Weightz>").replace("</Weights>", "</Weightz>").replace("<Model ", "<Modl ").replace("</Model>", "</Modl>"),
         "no tmva_lstm model inside"),
    ],
)  # fmt: skip
def test_damaged_files_give_a_clear_error(trained, tmp_path, change, fragment):
    model, _ = trained
    path = _damage(model.save(tmp_path / "m.xml"), change)
    with pytest.raises(ModelFileError) as err:
        Model.load(path)
    msg = str(err.value)
    assert fragment in msg and str(path) in msg, msg
    assert "\n" not in msg


def test_mismatched_shape_with_valid_bytes(trained, tmp_path):
    model, _ = trained
    # a consistent array of the wrong shape (bytes fit the declared shape)
    doc = modelfile.model_document(model)
    arr = doc.find(".//Layer[@Name='dense_3']/Array[@Name='b']")
    new = modelfile.array_to_element("b", np.zeros(2, dtype=model.dtype))
    arr.set("Shape", new.get("Shape"))
    arr.text = new.text
    path = modelfile.atomic_write_bytes(tmp_path / "m.xml", modelfile.document_bytes(doc))
    with pytest.raises(ModelFileError, match=r"dense_3/b has shape \(2,\), expected \(1,\)"):
        Model.load(path)


def test_entity_bomb_is_refused_fast(tmp_path):
    lol = (
        '<!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(
            f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i else "&lol;" * 10}">'
            for i in range(10)
        )
        + "]>"
    )
    path = tmp_path / "bomb.xml"
    path.write_text(f'<?xml version="1.0"?>{lol}<MethodSetup>&lol9;</MethodSetup>')
    t0 = time.perf_counter()
    with pytest.raises(ModelFileError, match="DTD or entities"):
        Model.load(path)
    assert time.perf_counter() - t0 < 1.0


@pytest.mark.parametrize("kind", ["missing", "directory", "empty"])
def test_bad_paths(tmp_path, kind):
    path = tmp_path / "m.xml"
    if kind == "directory":
        path.mkdir()
    elif kind == "empty":
        path.write_text("")
    with pytest.raises(ModelFileError, match={"missing": "does not exist", "directory": "is a directory",
                                              "empty": "is empty"}[kind]):  # fmt: skip
        Model.load(path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file(trained, tmp_path):
    model, _ = trained
    path = model.save(tmp_path / "m.xml")
    path.chmod(0)
    with pytest.raises(ModelFileError, match="not readable"):
        Model.load(path)


def test_atomic_write_keeps_the_old_file_on_failure(trained, tmp_path, monkeypatch):
    model, _ = trained
    path = model.save(tmp_path / "m.xml")
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.xml"]  # no temporary file left
