"""Multiclass and regression jobs on ntuples, as a TMVA Factory runs them with
``AnalysisType=Multiclass`` or ``Regression``: read, split, train, test, evaluate, write.

Outputs under ``output_dir`` (TMVA's names)::

    <job>.root                                      TestTree, TrainTree, Method_PyLSTM/<title>/
                                                    histograms (tmva_lstm.results.analysis_types)
    <dataset>/weights/<job>_<title>.weights.xml     the model
    <dataset>/weights/<job>_<title>.checkpoint.xml  the last epoch's training state
    summary.txt                                     the Factory's evaluation printout

The split is TMVA's ``SplitMode=Random``: ``n_train`` events of each class (regression: of the
one sample) train, the rest test; 0 means half (TMVA's default).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import OptionError
from .model import Model
from .options import MethodOptions
from .training import Progress, train

__all__ = [
    "TypedRunResult",
    "split_classes",
    "train_classes_on_files",
    "train_regression_on_files",
    "evaluate_typed_on_files",
]


@dataclass
class TypedRunResult:
    """What a Multiclass or Regression job produced."""

    model: Model
    evaluation: object  # MulticlassEvaluation or RegressionEvaluation
    files: dict[str, Path] = field(default_factory=dict)


def split_classes(
    y: np.ndarray, class_names: Sequence[str], n_train: Mapping[str, int] | None = None,
    seed: int = 100,
):  # fmt: skip
    """TMVA's ``SplitMode=Random`` for K classes: ``(train_order, test_index)`` row numbers.

    ``n_train[name]`` events of class ``name`` train (TMVA's ``nTrain_<name>``), 0 or absent:
    half of the class; the training rows are then mixed.
    """
    n_train = dict(n_train or {})
    unknown = set(n_train) - set(class_names)
    if unknown:
        raise OptionError(
            f"n_train names unknown classes {sorted(unknown)}; classes: {class_names}"
        )
    rng = np.random.default_rng(seed)
    train_idx, test_idx = [], []
    for k, name in enumerate(class_names):
        idx = np.flatnonzero(y == k)
        n = n_train.get(name, 0) or len(idx) // 2
        if n >= len(idx) or n <= 0:
            raise OptionError(
                f"nTrain_{name}={n} leaves no {name} events for training or testing (there are "
                f"{len(idx)}); lower it"
            )
        idx = rng.permutation(idx)
        train_idx.append(idx[:n])
        test_idx.append(np.sort(idx[n:]))
    return rng.permutation(np.concatenate(train_idx)), np.concatenate(test_idx)


def _options(options, analysis_type: str, data) -> MethodOptions:
    opts = options if isinstance(options, MethodOptions) else MethodOptions.from_string(options)
    defaults = MethodOptions()
    if opts.analysis_type not in (analysis_type, defaults.analysis_type):
        raise OptionError(
            f"AnalysisType={opts.analysis_type.capitalize()} in the options contradicts the "
            f"{analysis_type.capitalize()} job; leave AnalysisType out"
        )
    opts = opts.replace(analysis_type=analysis_type)
    if opts.input_layout is None:
        opts = opts.replace(input_layout=(data.n_steps, data.n_features))
    return opts


def _predict_rows(model: Model, data, rows: np.ndarray, chunk: int = 8192) -> np.ndarray:
    parts = []
    for s in range(0, len(rows), chunk):
        r = rows[s : s + chunk]
        parts.append(model.predict(data.X[r], None if data.mask is None else data.mask[r]))
    return np.concatenate(parts)


def _run(data, opts, layout, output_dir, title, job, dataset, train_rows, test_rows, progress,
         class_names=None, target_names=None):  # fmt: skip
    from .atomic import atomic_write_bytes
    from .evaluation.analysis_types import evaluate_multiclass, evaluate_regression

    output_dir = Path(output_dir)
    weights_dir = output_dir / dataset / "weights"
    files = {
        "model": weights_dir / f"{job}_{title}.weights.xml",
        "checkpoint": weights_dir / f"{job}_{title}.checkpoint.xml",
    }
    y = data.targets if target_names is not None else data.y
    model = train(
        data.X, y, data.weights, opts, mask=data.mask, index=train_rows,
        variable_names=data.variable_names, class_names=class_names, target_names=target_names,
        checkpoint=files["checkpoint"], progress=progress,
    )  # fmt: skip
    model.data_layout = str(layout)
    model.save(files["model"], title=title)
    test_pred = _predict_rows(model, data, test_rows)
    train_pred = _predict_rows(model, data, train_rows)
    w = data.weights
    if target_names is None:
        evaluation = evaluate_multiclass(
            test_pred, data.y[test_rows], w[test_rows],
            train_pred, data.y[train_rows], w[train_rows], model.class_names,
        )  # fmt: skip
    else:
        evaluation = evaluate_regression(
            test_pred, data.targets[test_rows], w[test_rows],
            train_pred, data.targets[train_rows], w[train_rows], model.target_names,
        )  # fmt: skip
    files["output"] = _write_file(model, data, layout, output_dir / f"{job}.root", title,
                                  dataset, train_rows, test_rows, train_pred, test_pred)  # fmt: skip
    files["summary"] = atomic_write_bytes(
        output_dir / "summary.txt", evaluation.summary(title, dataset).encode()
    )
    return TypedRunResult(model, evaluation, files)


def _write_file(model, data, layout, path, title, dataset, train_rows, test_rows, train_pred,
                test_pred):  # fmt: skip
    from .data import variable_branches
    from .results.analysis_types import TypedTreeData, write_typed_file

    names = model.class_names or ["Regression"]

    def sample(rows, pred):
        return TypedTreeData(
            outputs=pred, y=data.y[rows], weights=data.weights[rows], class_names=names,
            targets=None if data.targets is None else data.targets[rows],
            target_names=model.target_names,
            variables=variable_branches(data.subset(rows), layout),
        )  # fmt: skip

    h = model.history
    return write_typed_file(
        path, title=title, dataset=dataset, test=sample(test_rows, test_pred),
        train=sample(train_rows, train_pred),
        history={"trainingError": h.train_loss, "valError": h.val_loss},
    )  # fmt: skip


def train_classes_on_files(
    classes: Mapping[str, object],
    *,
    layout: str,
    options: str | MethodOptions = "",
    output_dir: str | Path = "results",
    title: str = "PyLSTM",
    job: str = "TMVAMulticlass",
    dataset: str = "dataset",
    cut: str | None = None,
    weight: str | None = None,
    n_train: Mapping[str, int] | None = None,
    split_seed: int = 100,
    progress: Progress | None = None,
) -> TypedRunResult:
    """A Multiclass job: ``classes`` maps TMVA class names to sources, in class order
    (``{"Signal": "sig.root:t", "ttbar": "tt.root:t", "WJets": "w.root:t"}``)."""
    from .data import SequenceLayout, load_classes

    if len(classes) < 2:
        raise OptionError(f"a Multiclass job needs at least two classes, got {list(classes)}")
    seq_layout = SequenceLayout.from_string(layout) if isinstance(layout, str) else layout
    data = load_classes(classes, layout=seq_layout, cut=cut, weight=weight)
    opts = _options(options, "MULTICLASS", data)
    train_rows, test_rows = split_classes(data.y, data.class_names, n_train, split_seed)
    return _run(data, opts, seq_layout, output_dir, title, job, dataset, train_rows, test_rows,
                progress, class_names=data.class_names)  # fmt: skip


def train_regression_on_files(
    sources,
    *,
    targets: Sequence[str],
    layout: str,
    options: str | MethodOptions = "",
    output_dir: str | Path = "results",
    title: str = "PyLSTM",
    job: str = "TMVARegression",
    dataset: str = "dataset",
    cut: str | None = None,
    weight: str | None = None,
    n_train: int = 0,
    split_seed: int = 100,
    progress: Progress | None = None,
) -> TypedRunResult:
    """A Regression job: one sample (``sources``) and the target expressions ``targets``
    (TMVA's ``AddTarget``), each an uproot expression over the branches."""
    from .data import SequenceLayout, load

    seq_layout = SequenceLayout.from_string(layout) if isinstance(layout, str) else layout
    data = load(sources, layout=seq_layout, cut=cut, weight=weight, targets=list(targets))
    opts = _options(options, "REGRESSION", data)
    train_rows, test_rows = split_classes(
        data.y, ["Regression"], {"Regression": n_train}, split_seed
    )
    return _run(data, opts, seq_layout, output_dir, title, job, dataset, train_rows, test_rows,
                progress, target_names=list(targets))  # fmt: skip


def evaluate_typed_on_files(
    model_path: str | Path,
    *,
    classes: Mapping[str, object] | None = None,
    regression: tuple[object, Sequence[str]] | None = None,
    layout: str | None = None,
    cut: str | None = None,
    weight: str | None = None,
    output_dir: str | Path | None = None,
    title: str = "PyLSTM",
):
    """Evaluate a saved Multiclass model on ``classes`` (names as in the model) or a
    Regression model on ``regression = (sources, target expressions)``; every event is test
    (the training columns repeat the test figures). Writes ``summary.txt`` to ``output_dir``."""
    from .atomic import atomic_write_bytes
    from .data import load, load_classes
    from .evaluation.analysis_types import evaluate_multiclass, evaluate_regression
    from .workflow import _check_fits

    model = Model.load(model_path)
    kind = model.analysis_type
    if (kind == "MULTICLASS") != (classes is not None) or kind == "CLASSIFICATION":
        given = "--class sources" if classes is not None else "--input/--target"
        raise OptionError(
            f"{model_path} is an AnalysisType={kind.capitalize()} model; {given} do not fit it "
            "(two-class: --signal/--background; Multiclass: --class; Regression: --input/--target)"
        )
    layout = layout or model.data_layout
    if not layout:
        raise OptionError(f"{model_path} records no data layout; give --layout")
    if classes is not None:
        if list(classes) != model.class_names:
            raise OptionError(
                f"the model's classes are {model.class_names}, in this order; got {list(classes)}"
            )
        data = load_classes(classes, layout=layout, cut=cut, weight=weight)
    else:
        sources, targets = regression
        if len(targets) != len(model.target_names):
            raise OptionError(
                f"the model has {len(model.target_names)} targets ({model.target_names}); "
                f"got {len(targets)} --target expressions"
            )
        data = load(sources, layout=layout, cut=cut, weight=weight, targets=list(targets))
    _check_fits(model, model_path, data)
    rows = np.arange(len(data))
    pred = _predict_rows(model, data, rows)
    if classes is not None:
        ev = evaluate_multiclass(pred, data.y, data.weights, pred, data.y, data.weights,
                                 model.class_names)  # fmt: skip
    else:
        ev = evaluate_regression(pred, data.targets, data.weights, pred, data.targets,
                                 data.weights, model.target_names)  # fmt: skip
    if output_dir is not None:
        atomic_write_bytes(Path(output_dir) / "summary.txt", ev.summary(title).encode())
    return ev
