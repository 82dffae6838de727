"""Every output of one classifier, as ``tmva-lstm train`` and ``evaluate`` write them."""

from __future__ import annotations

import os
import warnings
from dataclasses import replace
from pathlib import Path

from ..errors import DependencyError
from ..evaluate import Evaluation, evaluate, roc_curve
from ..evaluation.pdfs import create_mva_pdfs as create_mva_pdfs_
from .plots import plot_history, plot_input_variables, plot_overtraining, plot_roc
from .rootfile import write_tmva_file
from .summary import write_summary
from .trees import TreeData
from .variables import describe_scatter_rule, input_variable_histograms

__all__ = ["write_results"]

_NO_MVA_PDFS = "CreateMVAPdfs: no training sample, so no PDFs, probability or rarity histograms"


def write_results(
    output_dir: str | os.PathLike[str],
    *,
    title: str,
    test: TreeData,
    train: TreeData | None = None,
    history=None,
    job: str = "TMVAClassification",
    dataset: str = "dataset",
    method_type: str = "PyLSTM",
    weight_file_name: str | None = None,
    ks_method: str = "auto",
    plots: bool = True,
    create_mva_pdfs: bool = False,
) -> tuple[Evaluation, dict[str, Path]]:
    """Evaluate, then write the TMVA file, the plots and ``summary.txt`` under ``output_dir``.

    With ``train``: ``<job>.root`` (:func:`write_tmva_file`), ``roc``, ``overtraining``,
    ``training_history`` (when ``history``, a :class:`tmva_lstm.model.History`, has epochs)
    and ``input_variables`` plots (PNG and PDF). Without ``train`` (scoring new labelled
    events): no ROOT file and no overtraining comparison; ``roc`` and ``response`` plots.
    Plots are skipped, with a note in the summary, when matplotlib/mplhep are missing.
    ``create_mva_pdfs`` (TMVA's ``CreateMVAPdfs``): also the PDFs of the training responses,
    the probability and rarity histograms and the ``prob_<title>`` leaf
    (:mod:`tmva_lstm.evaluation.pdfs`); without ``train`` it warns that there are none.
    Returns the evaluation and ``{"output": ..., "roc.png": ..., "summary": ...}``.
    """
    out = Path(output_dir)
    files: dict[str, Path] = {}
    notes: list[str] = []
    extra = []
    if create_mva_pdfs and train is None:
        notes.append(_NO_MVA_PDFS)
        warnings.warn(_NO_MVA_PDFS, UserWarning, stacklevel=2)
    elif create_mva_pdfs:
        pdfs = create_mva_pdfs_(
            method_type, train.scores, train.labels == 1, train.event_weights,
            test.scores, test.labels == 1, test.event_weights,
        )  # fmt: skip
        test = replace(test, probabilities=pdfs.test_proba)
        train = replace(train, probabilities=pdfs.train_proba)
        extra = [*pdfs.method_histograms] + [
            replace(h, name=f"MVA_{title}{h.name}", title=f"MVA_{title}{h.title}")
            for h in pdfs.test_histograms
        ]
        notes.append(
            f"CreateMVAPdfs: PDFs from {pdfs.method_histograms[0].nbins}-bin histograms of the "
            "training responses (Spline2); probability and rarity histograms written"
        )
    if train is not None:
        evaluation = evaluate(
            test.scores, test.labels, test.weights,
            train.scores, train.labels, train.weights, ks_method=ks_method,
        )  # fmt: skip
        files["output"] = out / f"{job}.root"
        write_tmva_file(
            files["output"], title=title, method_type=method_type, dataset=dataset, test=test,
            train=train, weight_file_name=weight_file_name, evaluation=evaluation,
            extra_histograms=extra,
            history=None if history is None else {"train_loss": history.train_loss,
                                                  "val_loss": history.val_loss},
        )  # fmt: skip
        n_vars = len(train.variable_infos())
        if n_vars:
            notes.append(f"Input variables: {n_vars}; {describe_scatter_rule(n_vars)}")
    else:
        evaluation = evaluate(test.scores, test.labels, test.weights)
    if plots:
        try:
            files |= _plots(out, title, evaluation, test, train, history)
        except DependencyError as exc:
            notes.append(f"Plots not written: {exc}")
    files["summary"] = write_summary(
        out / "summary.txt", evaluation, title=title, dataset=dataset, notes=tuple(notes)
    )
    return evaluation, files


def _roc_label(sample: str, integral: float) -> str:
    return f"{sample} sample (ROC integral {integral:.3f})"


def _plots(out: Path, title, evaluation, test, train, history) -> dict[str, Path]:
    files: dict[str, Path] = {}

    def keep(name: str, paths: list[Path]) -> None:
        for p in paths:
            files[f"{name}{p.suffix}"] = p

    curves = [
        (
            _roc_label("test", evaluation.roc_integral),
            *roc_curve(test.scores, test.labels, test.weights),
        )
    ]
    if train is not None:
        curves.append(
            (_roc_label("training", evaluation.roc_integral_train),
             *roc_curve(train.scores, train.labels, train.weights))
        )  # fmt: skip
    keep(
        "roc",
        plot_roc(
            out / "roc", curves, title=f"Signal efficiency vs. Background rejection ({title})"
        ),
    )
    name = "overtraining" if evaluation.has_training else "response"
    keep(name, plot_overtraining(out / name, evaluation, title=title))
    if history is not None and len(history.train_loss):
        keep("training_history", plot_history(
            out / "training_history", history.train_loss, history.val_loss,
            best_epoch=history.best_epoch, title=title,
        ))  # fmt: skip
    if train is not None and train.variables:
        keep(
            "input_variables",
            plot_input_variables(out / "input_variables", input_variable_histograms(train)),
        )
    return files
