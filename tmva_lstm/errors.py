"""Exception classes of tmva_lstm.

Every error subclasses both :class:`TmvaLstmError` (catch everything of ours) and the
built-in it specialises (``KeyError``, ``ValueError``, ``OSError`` ...), so callers that
already catch the built-in keep working. Messages are one line: they name the culprit
(file, tree, branch, option) and say what would fix it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "TmvaLstmError",
    "OptionError",
    "InputFileError",
    "OutputFileError",
    "TreeNotFoundError",
    "BranchNotFoundError",
    "DataError",
    "NonFiniteInputError",
    "ModelFileError",
    "TrainingDivergedError",
    "DependencyError",
    "TmvaLstmWarning",
    "close_matches",
]


class TmvaLstmError(Exception):
    """Base class of every error raised on purpose by tmva_lstm."""

    def __str__(self) -> str:  # KeyError would otherwise print the repr of its message
        return str(self.args[0]) if self.args else ""


class OptionError(TmvaLstmError, ValueError):
    """An option string or argument is unknown or has a bad value."""


class InputFileError(TmvaLstmError, OSError):
    """An input file is missing, unreadable, not a ROOT file or truncated."""


class OutputFileError(TmvaLstmError, OSError):
    """An output path cannot be written (a directory, no permission)."""


class TreeNotFoundError(TmvaLstmError, KeyError):
    """A tree named in a source is not in its file."""


class BranchNotFoundError(TmvaLstmError, KeyError):
    """A branch named by the layout is not in its tree."""


class DataError(TmvaLstmError, ValueError):
    """The data read do not fit the declared layout or cannot be trained on."""


class NonFiniteInputError(DataError):
    """Inputs contain NaN or infinite values."""


class ModelFileError(TmvaLstmError, ValueError):
    """A model (weight) file is truncated, invalid, tampered with or does not fit the data."""


class TrainingDivergedError(TmvaLstmError, FloatingPointError):
    """The loss or the gradients stopped being finite during training."""


class DependencyError(TmvaLstmError, ImportError):
    """An optional dependency is missing; the message gives the command that installs it."""


class TmvaLstmWarning(UserWarning):
    """Something was accepted but may not be what was meant (e.g. an option given twice)."""


def close_matches(name: str, candidates: Iterable[str], n: int = 3) -> str:
    """Return ``" (did you mean 'a', 'b'?)"`` for the nearest candidates, or ``""``."""
    found = difflib.get_close_matches(name, list(candidates), n=n, cutoff=0.6)
    if not found:
        return ""
    return " (did you mean " + ", ".join(repr(f) for f in found) + "?)"
