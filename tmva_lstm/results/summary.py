"""The text summary: TMVA's evaluation printout, the same numbers as the file and the plots."""

from __future__ import annotations

import os
from pathlib import Path

from ..atomic import atomic_path
from ..evaluate import Evaluation

__all__ = ["write_summary"]


def write_summary(
    path: str | os.PathLike[str],
    evaluation: Evaluation,
    *,
    title: str,
    dataset: str = "dataset",
    notes: tuple[str, ...] = (),
) -> Path:
    """Write :meth:`Evaluation.summary` (TMVA's evaluation printout) to a text file.

    ``notes`` are extra lines appended after it (e.g. which plots were written).
    """
    text = evaluation.summary(title, dataset)
    if notes:
        text += "".join(f"{line}\n" for line in notes)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)
