"""Whole jobs on ntuples, as a TMVA Factory runs them: read, split, train (or resume), test,
evaluate, write. These are the functions behind the ``tmva-lstm`` command; they are part of
the Python API. One module per analysis type, and the steps they share:

* :mod:`~tmva_lstm.workflow.classification`: two classes (:func:`train_on_files`,
  :func:`evaluate_on_files`, :func:`demo`);
* :mod:`~tmva_lstm.workflow.analysis_types`: Multiclass (:func:`train_classes_on_files`) and
  Regression (:func:`train_regression_on_files`), :func:`evaluate_typed_on_files`;
* :mod:`~tmva_lstm.workflow.steps`: names, output files, options, train or resume, scoring.
"""

from __future__ import annotations

from ..scoring import apply_to_files  # re-exported: the apply path lives in scoring.py
from .analysis_types import (
    TypedRunResult,
    evaluate_typed_on_files,
    split_classes,
    train_classes_on_files,
    train_regression_on_files,
)
from .classification import (
    TUTORIAL_OPTIONS,
    RunResult,
    demo,
    evaluate_on_files,
    split_indices,
    split_train_test,
    test_summary,
    train_on_files,
)
from .steps import check_names, checkpoint_path

__all__ = [
    "RunResult",
    "TypedRunResult",
    "split_indices",
    "split_train_test",
    "split_classes",
    "train_on_files",
    "train_classes_on_files",
    "train_regression_on_files",
    "evaluate_on_files",
    "evaluate_typed_on_files",
    "apply_to_files",
    "test_summary",
    "check_names",
    "checkpoint_path",
    "TUTORIAL_OPTIONS",
    "demo",
]
