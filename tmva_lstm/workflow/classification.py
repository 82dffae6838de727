"""Two-class (``AnalysisType=Classification``) jobs on ntuples, as a TMVA Factory runs them:
read, split, train (or resume), test, evaluate, write.

Outputs of :func:`train_on_files` under ``output_dir`` (TMVA's names)::

    <job>.root                                   TestTree, TrainTree, Method_PyLSTM/<title>/ histograms
    inputs.npy                                   with memmap=True only: the inputs, on disk
    <dataset>/weights/<job>_<title>.weights.xml  the model (TMVA-style weight file)
    <dataset>/weights/<job>_<title>.checkpoint.xml  the last epoch's training state (for --resume)
    roc.png/.pdf                                 background rejection vs signal efficiency
    overtraining.png/.pdf                        test vs training responses, K-S probabilities
    training_history.png/.pdf                    loss per epoch, best epoch marked
    input_variables.png/.pdf                     the input variables per class
    summary.txt                                  TMVA's evaluation printout
"""

from __future__ import annotations

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
    memmap_path,
    predict_rows,
    report_dropped,
    split_classes,
    train_or_resume,
)

__all__ = [
    "RunResult",
    "split_indices",
    "split_train_test",
    "train_on_files",
    "evaluate_on_files",
    "test_summary",
    "TUTORIAL_OPTIONS",
    "demo",
]

# The TMVA_RNN_Classification tutorial's LSTM (C++ version: 20 epochs).
TUTORIAL_OPTIONS = (
    "!H:!V:ErrorStrategy=CROSSENTROPY:VarTransform=None:WeightInitialization=XAVIERUNIFORM:"
    "ValidationSize=0.2:RandomSeed=1234:InputLayout=10|30:"
    "Layout=LSTM|10|30|10|0|1,RESHAPE|FLAT,DENSE|64|TANH,LINEAR:"
    "TrainingStrategy=LearningRate=1e-3,Momentum=0.0,ConvergenceSteps=5,BatchSize=100,"
    "TestRepetitions=1,WeightDecay=1e-2,Regularization=None,MaxEpochs=20,Optimizer=ADAM"
)


@dataclass
class RunResult:
    """What a training job produced."""

    model: Model
    evaluation: object  # tmva_lstm.evaluate.Evaluation
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def roc_integral(self) -> float:
        return self.evaluation.roc_integral


def split_indices(
    y: np.ndarray, n_train_signal: int = 0, n_train_background: int = 0, seed: int = 100
):
    """TMVA's ``SplitMode=Random`` split: ``(train_order, test_index)`` row numbers.

    ``n_train_*`` events of each class go to training, the rest to testing; 0 means half of
    the class (TMVA's default). The training rows are then mixed randomly, so the tail of the
    training sample (the validation set) holds both classes. The events chosen are not TMVA's
    (it draws with TRandom3), but the rule is.
    """
    _check_split_args(n_train_signal, n_train_background, seed)
    # signal (y = 1) as class 0: the signal events are drawn first, as TMVA lists them
    return split_classes(np.where(y == 1, 0, 1), ["Signal", "Background"],
                         {"Signal": n_train_signal, "Background": n_train_background}, seed)  # fmt: skip


def _check_split_args(n_train_signal, n_train_background, seed) -> None:
    for key, value in (("nTrain_Signal", n_train_signal), ("nTrain_Background", n_train_background),
                       ("split seed", seed)):  # fmt: skip
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise OptionError(
                f"{key}={value!r} must be a non-negative integer (0: half of the class)"
                if key != "split seed"
                else f"the split seed must be a non-negative integer, not {value!r}"
            )


def _sample_counts(data, train_rows, test_rows) -> dict[str, dict[str, int]]:
    out = {}
    for cls, name in ((1, "signal"), (0, "background")):
        out[name] = {
            "events" + (" after the cut" if "; cut:" in (data.source or "") else ""): int(
                np.sum(data.y == cls)
            ),
            "training": int(np.sum(data.y[train_rows] == cls)),
            "test": int(np.sum(data.y[test_rows] == cls)),
        }
    return out


def split_train_test(data, n_train_signal: int = 0, n_train_background: int = 0, seed: int = 100):
    """:func:`split_indices` applied to a Dataset: ``(train, test)`` Datasets (copies)."""
    train_order, test_index = split_indices(data.y, n_train_signal, n_train_background, seed)
    return data.subset(train_order), data.subset(test_index)


def _tree_data(data, rows: np.ndarray, scores: np.ndarray, layout, with_variables: bool):
    from ..data import variable_branches
    from ..results import TreeData

    variables = variable_branches(data.subset(rows), layout) if with_variables else {}
    # a jagged layout's sequence length is a spectator (AddSpectator), not an input variable
    spectators = {}
    if layout.kind == "jagged" and "length" in variables:
        spectators["length"] = variables.pop("length")
    return TreeData(
        scores=scores, labels=data.y[rows], weights=data.weights[rows], variables=variables,
        spectators=spectators,
    )  # fmt: skip


def _write_outputs(model, title, job, dataset, output_dir, data, train_rows, test_rows, layout,
                   files, with_variables=True, create_mva_pdfs=False):  # fmt: skip
    from ..results import write_results

    train_scores = np.asarray(predict_rows(model, data, train_rows), dtype=np.float64)
    test_scores = np.asarray(predict_rows(model, data, test_rows), dtype=np.float64)
    evaluation, written = write_results(
        output_dir,
        title=title,
        job=job,
        dataset=dataset,
        test=_tree_data(data, test_rows, test_scores, layout, with_variables),
        train=_tree_data(data, train_rows, train_scores, layout, with_variables),
        history=model.history,
        weight_file_name=str(files.get("model", "")) or None,
        create_mva_pdfs=create_mva_pdfs,
    )
    files.update(written)
    return evaluation


def train_on_files(
    signal,
    background=None,
    *,
    layout: str,
    options: str | MethodOptions = "",
    output_dir: str | Path = "results",
    title: str = "PyLSTM",
    job: str = "TMVAClassification",
    dataset: str = "dataset",
    cut: str | None = None,
    weight: str | None = None,
    class_expr: str | None = None,
    n_train_signal: int = 0,
    n_train_background: int = 0,
    split_seed: int = 100,
    resume_training: bool = False,
    memmap: bool = False,
    progress: Progress | None = None,
) -> RunResult:
    """Read the ntuples, split, train (or resume), test, evaluate and write every output.

    ``memmap=True`` keeps the inputs on disk (``<output_dir>/inputs.npy``) instead of in
    memory, for samples larger than memory; TestTree and TrainTree then hold no input variables.
    """
    from ..data import SequenceLayout, load

    opts = options if isinstance(options, MethodOptions) else MethodOptions.from_string(options)
    check_names(title, job, dataset)
    check_output_dir(output_dir)
    _check_split_args(n_train_signal, n_train_background, split_seed)
    seq_layout = SequenceLayout.from_string(layout) if isinstance(layout, str) else layout
    data = load(
        signal,
        background,
        layout=seq_layout,
        cut=cut,
        weight=weight,
        class_expr=class_expr,
        non_finite=opts.non_finite.lower(),
        memmap=memmap_path(output_dir, memmap),
    )
    report_dropped(data)
    if opts.input_layout is None:
        opts = opts.replace(input_layout=(data.n_steps, data.n_features))
    train_rows, test_rows = split_indices(data.y, n_train_signal, n_train_background, split_seed)
    progress = progress or Progress(opts)
    progress.samples(_sample_counts(data, train_rows, test_rows))

    output_dir = Path(output_dir)
    files = job_files(output_dir, job, title, dataset)
    model = train_or_resume(
        data, data.y, opts, files, train_rows, resume_training=resume_training, progress=progress
    )
    model.data_layout = str(seq_layout)
    model.save(files["model"], title=title)
    evaluation = _write_outputs(
        model, title, job, dataset, output_dir, data, train_rows, test_rows, seq_layout, files,
        with_variables=not memmap, create_mva_pdfs=opts.create_mva_pdfs,
    )  # fmt: skip
    return RunResult(model, evaluation, files)


def evaluate_on_files(
    model_path: str | Path,
    signal,
    background=None,
    *,
    layout: str | None = None,
    cut: str | None = None,
    weight: str | None = None,
    class_expr: str | None = None,
    output_dir: str | Path | None = None,
    title: str | None = None,
):
    """Score labelled ntuples with a saved model and evaluate as TMVA does (all events are test).

    ``title``: the name in the printout (default: the title the model was saved with). There is
    no training sample here, so :func:`test_summary` is the printout (no overtraining check).
    """
    from ..data import load
    from ..evaluate import evaluate
    from ..modelfile import model_title

    model = Model.load(model_path)
    if model.analysis_type != "CLASSIFICATION":
        raise OptionError(
            f"{model_path} is an AnalysisType={model.analysis_type.capitalize()} model; "
            "give its sources with --class (Multiclass) or --input/--target (Regression)"
        )
    title = title or model_title(model_path)
    layout = layout or model.data_layout
    if not layout:
        raise OptionError(f"{model_path} records no data layout; give --layout")
    data = load(signal, background, layout=layout, cut=cut, weight=weight, class_expr=class_expr)
    check_fits(model, model_path, data)
    scores = model.predict(data.X, data.mask)
    if output_dir is None:  # new events only: no training sample, no overtraining check
        return evaluate(scores, data.y, data.weights)
    from ..results import TreeData, write_results

    result, _ = write_results(
        output_dir, title=title, test=TreeData(scores, data.y, data.weights), train=None
    )
    return result


def test_summary(evaluation, title: str, dataset: str = "dataset") -> str:
    """TMVA's evaluation printout for a sample with no training counterpart (``evaluate``).

    ROC-integ and the signal efficiencies at B = 0.01, 0.10, 0.30 of the one sample; the
    overtraining check and the K-S test need a training sample and are left out.
    """
    from ..evaluate import _HLINE, _LOG_PREFIX

    e = evaluation.eff_at_b
    lines = [
        "Evaluation results on the given events (no training sample: no overtraining check)",
        _HLINE,
        "DataSet       MVA                       ",
        "Name:         Method:          ROC-integ",
        f"{dataset:<13} {title:<15}: {evaluation.roc_integral:#1.3f}",
        _HLINE,
        "",
        "DataSet              MVA              Signal efficiency",
        "Name:                Method:          @B=0.01             @B=0.10            @B=0.30   ",
        _HLINE,
        f"{dataset:<20} {title:<15}: {e[0.01]:#1.3f}               {e[0.10]:#1.3f}"
        f"              {e[0.30]:#1.3f}",
        _HLINE,
    ]
    return "\n".join(_LOG_PREFIX + line for line in lines) + "\n"


def demo(output_dir: str | Path = "results", data_file: str | Path | None = None,
         max_epochs: int | None = None, progress: Progress | None = None) -> RunResult:  # fmt: skip
    """The tutorial job: TMVA_RNN_Classification's LSTM on the shipped sample, 1600 + 1600 training events."""
    from ..sample import sample_file

    path = Path(data_file) if data_file else sample_file()
    options = TUTORIAL_OPTIONS
    if max_epochs is not None:
        if isinstance(max_epochs, bool) or not isinstance(max_epochs, int) or max_epochs < 1:
            raise OptionError(
                f"the number of epochs must be a positive integer, not {max_epochs!r}"
            )
        options = options.replace("MaxEpochs=20", f"MaxEpochs={max_epochs}")
    return train_on_files(
        {str(path): "sgn"},
        {str(path): "bkg"},
        layout="per-step:vars_time{t}",
        options=options,
        output_dir=output_dir,
        title="PyLSTM",
        job="TMVA_LSTM_Classification",
        n_train_signal=1600,
        n_train_background=1600,
        split_seed=100,
        progress=progress,
    )
