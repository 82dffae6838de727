"""Multiclass and regression jobs on ntuples, as a TMVA Factory runs them with
``AnalysisType=Multiclass`` or ``Regression``: read, split, train (or resume), test, evaluate,
write. The steps they share with two-class jobs are in :mod:`tmva_lstm.workflow.steps`.

Outputs under ``output_dir`` (TMVA's names)::

    <job>.root                                      TestTree, TrainTree, Method_PyLSTM/<title>/
                                                    objects (tmva_lstm.results.analysis_types)
    inputs.npy                                      with memmap=True only: the inputs, on disk
    <dataset>/weights/<job>_<title>.weights.xml     the model
    <dataset>/weights/<job>_<title>.checkpoint.xml  the last epoch's training state (--resume)
    summary.txt                                     the Factory's evaluation printout
    <figure>.png/.pdf                               TMVAGui's figures for the type
                                                    (tmva_lstm.results.type_plots):
        Multiclass: class_outputs, roc_1vsrest, roc_1vs1; Regression: deviation_target_test,
        deviation_target_training, average_deviations; both: input_variables,
        training_history

The split is TMVA's ``SplitMode=Random``: ``n_train`` events of each class (regression: of the
one sample) train, the rest test; 0 means half (TMVA's default). ``resume_training=True``
continues from the checkpoint (same data, same split: bit-identical to an uninterrupted run);
``memmap=True`` keeps the inputs on disk (``<output_dir>/inputs.npy``) for samples larger than
memory; TestTree and TrainTree then hold no input variables (and a Regression job writes no
``_reg_var`` histograms).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import OptionError
from ..model import Model
from ..options import MethodOptions
from ..training import Progress
from .steps import (
    check_fits,
    check_names,
    check_output_dir,
    job_files,
    job_options,
    memmap_path,
    predict_rows,
    report_dropped,
    split_classes,
    train_or_resume,
)

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


def _parse(options) -> MethodOptions:
    return options if isinstance(options, MethodOptions) else MethodOptions.from_string(options)


def _run(data, opts, layout, output_dir, title, job, dataset, train_rows, test_rows, progress,
         resume_training, with_variables, class_names=None, target_names=None):  # fmt: skip
    from ..atomic import atomic_write_bytes
    from ..evaluation.analysis_types import evaluate_multiclass, evaluate_regression

    output_dir = Path(output_dir)
    files = job_files(output_dir, job, title, dataset)
    y = data.targets if target_names is not None else data.y
    model = train_or_resume(
        data, y, opts, files, train_rows, resume_training=resume_training, progress=progress,
        class_names=class_names, target_names=target_names,
    )  # fmt: skip
    model.data_layout = str(layout)
    model.save(files["model"], title=title)
    test_pred = predict_rows(model, data, test_rows)
    train_pred = predict_rows(model, data, train_rows)
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
    test = _sample(model, data, layout, test_rows, test_pred, with_variables)
    train = _sample(model, data, layout, train_rows, train_pred, with_variables)
    files["output"] = _write_file(model, output_dir / f"{job}.root", title, dataset, test, train)
    notes = _write_plots(files, output_dir, model, title, test, train)
    summary = evaluation.summary(title, dataset) + "".join(f"\n{n}" for n in notes)
    files["summary"] = atomic_write_bytes(output_dir / "summary.txt", summary.encode())
    return TypedRunResult(model, evaluation, files)


def _sample(model, data, layout, rows, pred, with_variables):
    """The events ``rows`` with the model's outputs ``pred``, as the output file takes them."""
    from ..data import variable_branches
    from ..results.analysis_types import TypedTreeData

    return TypedTreeData(
        outputs=pred, y=data.y[rows], weights=data.weights[rows],
        class_names=model.class_names or ["Regression"],
        targets=None if data.targets is None else data.targets[rows],
        target_names=model.target_names,
        variables=variable_branches(data.subset(rows), layout) if with_variables else {},
    )  # fmt: skip


def _write_file(model, path, title, dataset, test, train):
    from ..results.analysis_types import write_typed_file

    h = model.history
    return write_typed_file(
        path, title=title, dataset=dataset, test=test, train=train,
        history={"trainingError": h.train_loss, "valError": h.val_loss},
    )  # fmt: skip


def _write_plots(files: dict, output_dir: Path, model, title, test, train) -> list[str]:
    """TMVAGui's figures for the type (:mod:`tmva_lstm.results.type_plots`), the input
    variables and the training history (``model`` None, ``train`` None: the test sample's
    figures only), into ``files``; returns notes for the summary (plots skipped where
    matplotlib/mplhep are missing)."""
    from ..errors import DependencyError
    from ..results.type_plots import write_typed_plots

    try:
        history = None if model is None else model.history
        files |= write_typed_plots(output_dir, title, test, train, history)
    except DependencyError as exc:
        return [f"Plots not written: {exc}"]
    return []


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
    resume_training: bool = False,
    memmap: bool = False,
    progress: Progress | None = None,
) -> TypedRunResult:
    """A Multiclass job: ``classes`` maps TMVA class names to sources, in class order
    (``{"Signal": "sig.root:t", "ttbar": "tt.root:t", "WJets": "w.root:t"}``)."""
    from ..data import SequenceLayout, load_classes

    if len(classes) < 2:
        raise OptionError(f"a Multiclass job needs at least two classes, got {list(classes)}")
    check_names(title, job, dataset)
    check_output_dir(output_dir)
    seq_layout = SequenceLayout.from_string(layout) if isinstance(layout, str) else layout
    opts = _parse(options)
    data = load_classes(classes, layout=seq_layout, cut=cut, weight=weight,
                        non_finite=opts.non_finite.lower(),
                        memmap=memmap_path(output_dir, memmap))  # fmt: skip
    report_dropped(data)
    opts = job_options(opts, "MULTICLASS", data)
    train_rows, test_rows = split_classes(data.y, data.class_names, n_train, split_seed)
    return _run(data, opts, seq_layout, output_dir, title, job, dataset, train_rows, test_rows,
                progress, resume_training, not memmap, class_names=data.class_names)  # fmt: skip


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
    resume_training: bool = False,
    memmap: bool = False,
    progress: Progress | None = None,
) -> TypedRunResult:
    """A Regression job: one sample (``sources``) and the target expressions ``targets``
    (TMVA's ``AddTarget``), each an uproot expression over the branches."""
    from ..data import SequenceLayout, load

    check_names(title, job, dataset)
    check_output_dir(output_dir)
    seq_layout = SequenceLayout.from_string(layout) if isinstance(layout, str) else layout
    opts = _parse(options)
    data = load(sources, layout=seq_layout, cut=cut, weight=weight, targets=list(targets),
                non_finite=opts.non_finite.lower(),
                memmap=memmap_path(output_dir, memmap))  # fmt: skip
    report_dropped(data)
    opts = job_options(opts, "REGRESSION", data)
    train_rows, test_rows = split_classes(
        data.y, ["Regression"], {"Regression": n_train}, split_seed
    )
    return _run(data, opts, seq_layout, output_dir, title, job, dataset, train_rows, test_rows,
                progress, resume_training, not memmap, target_names=list(targets))  # fmt: skip


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
    from ..atomic import atomic_write_bytes
    from ..data import load, load_classes
    from ..evaluation.analysis_types import evaluate_multiclass, evaluate_regression

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
    check_fits(model, model_path, data)
    rows = np.arange(len(data))
    pred = predict_rows(model, data, rows)
    if classes is not None:
        ev = evaluate_multiclass(pred, data.y, data.weights, pred, data.y, data.weights,
                                 model.class_names)  # fmt: skip
    else:
        ev = evaluate_regression(pred, data.targets, data.weights, pred, data.targets,
                                 data.weights, model.target_names)  # fmt: skip
    if output_dir is not None:
        output_dir = Path(output_dir)
        output_dir.mkdir(parents=True, exist_ok=True)
        test = _sample(model, data, layout, rows, pred, with_variables=False)
        notes = _write_plots({}, output_dir, None, title, test, None)
        summary = ev.summary(title) + "".join(f"\n{n}" for n in notes)
        atomic_write_bytes(output_dir / "summary.txt", summary.encode())
    return ev
