"""The steps every job shares, whatever its analysis type: names, output files, the options of
the job, train or resume, save, and scoring the events chunk by chunk."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..errors import DataError, OptionError, OutputFileError
from ..model import Model
from ..options import MethodOptions
from ..training import Progress, resume, train

__all__ = [
    "check_names",
    "check_output_dir",
    "checkpoint_path",
    "job_files",
    "job_options",
    "memmap_path",
    "predict_rows",
    "report_dropped",
    "split_classes",
    "train_or_resume",
]


def check_names(title: str, job: str, dataset: str = "dataset") -> None:
    """Title (a branch and directory name), job and dataset (file and directory names)."""
    from ..modelfile import check_title

    check_title(title)
    for key, value in (("job", job), ("dataset", dataset)):
        if (not isinstance(value, str) or not value.strip() or value in (".", "..")
                or "/" in value or "\\" in value or os.sep in value or "\0" in value):  # fmt: skip
            raise OptionError(
                f"{key} name {value!r} must be a plain file name, without path separators; "
                "put outputs elsewhere with --output-dir"
            )


def check_output_dir(output_dir) -> None:
    if Path(output_dir).exists() and not Path(output_dir).is_dir():
        raise OutputFileError(f"output directory {output_dir} is a file; give a directory")


def checkpoint_path(output_dir, job: str, title: str, dataset: str = "dataset") -> Path:
    """Where a job keeps its checkpoint (``--resume`` continues from it)."""
    return Path(output_dir) / dataset / "weights" / f"{job}_{title}.checkpoint.xml"


def memmap_path(output_dir, memmap: bool) -> Path | None:
    """``<output_dir>/inputs.npy`` with ``memmap=True``: the inputs on disk."""
    return Path(output_dir) / "inputs.npy" if memmap else None


def job_files(output_dir, job: str, title: str, dataset: str = "dataset") -> dict[str, Path]:
    """The model and checkpoint files of a job (TMVA's ``<dataset>/weights/<job>_<title>``)."""
    weights_dir = Path(output_dir) / dataset / "weights"
    return {
        "model": weights_dir / f"{job}_{title}.weights.xml",
        "checkpoint": checkpoint_path(output_dir, job, title, dataset),
    }


def job_options(options, analysis_type: str, data) -> MethodOptions:
    """The method options of a job of ``analysis_type`` on ``data``: AnalysisType set by the
    job (as the Factory sets it; a contradicting value raises), InputLayout from the data."""
    opts = options if isinstance(options, MethodOptions) else MethodOptions.from_string(options)
    if opts.analysis_type not in (analysis_type, MethodOptions().analysis_type):
        raise OptionError(
            f"AnalysisType={opts.analysis_type.capitalize()} in the options contradicts the "
            f"{analysis_type.capitalize()} job; leave AnalysisType out"
        )
    opts = opts.replace(analysis_type=analysis_type)
    if opts.input_layout is None:
        opts = opts.replace(input_layout=(data.n_steps, data.n_features))
    return opts


def report_dropped(data) -> None:
    if data.n_dropped:
        print(
            f"tmva-lstm: dropped {data.n_dropped} events with NaN or infinite inputs (NonFinite=DROP)",
            file=sys.stderr,
        )


def train_or_resume(data, y, opts: MethodOptions, files: dict[str, Path], train_rows,
                    *, resume_training: bool, progress: Progress | None,
                    class_names=None, target_names=None) -> Model:  # fmt: skip
    """Train on ``data``'s rows ``train_rows`` (chosen by index: no copy; ``data.X`` may be a
    memory map), or continue from ``files["checkpoint"]`` with ``resume_training``."""
    if resume_training:
        if not files["checkpoint"].exists():
            raise DataError(
                f"no checkpoint {files['checkpoint']} to resume from; run without --resume first"
            )
        return resume(
            files["checkpoint"], data.X, y, data.weights, mask=data.mask, index=train_rows,
            progress=progress, options=opts,
        )  # fmt: skip
    return train(
        data.X, y, data.weights, opts, mask=data.mask, index=train_rows,
        variable_names=data.variable_names, class_names=class_names, target_names=target_names,
        checkpoint=files["checkpoint"], progress=progress,
    )  # fmt: skip


def check_fits(model: Model, model_path, data) -> None:
    """The data must have the (T, F) the model was trained on."""
    if (data.n_steps, data.n_features) != model.input_layout:
        T, F = model.input_layout
        raise DataError(
            f"model {model_path} was trained on {T} time steps x {F} features, but "
            f"'{data.source}' gives {data.n_steps} x {data.n_features}; use the model's data "
            f"layout ({model.data_layout or 'see --layout'}) or the matching model"
        )


def predict_rows(model: Model, data, rows: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """``model.predict`` of ``data``'s events ``rows``, read chunk by chunk (``data.X`` may be
    on disk): ``(len(rows),)`` for Classification, ``(len(rows), K or M)`` otherwise."""
    parts = []
    for s in range(0, len(rows), chunk):
        r = rows[s : s + chunk]
        parts.append(model.predict(data.X[r], None if data.mask is None else data.mask[r]))
    if not parts:
        return np.empty((0,) if model.analysis_type == "CLASSIFICATION" else (0, 0))
    return np.concatenate(parts)


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
