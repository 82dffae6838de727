"""Read HEP ntuples into ``(N, T, F)`` sequences for the LSTM, with uproot.

Axes: ``N`` events, ``T`` time steps, ``F`` input features per step.

Sources
    uproot's forms: ``"file.root:tree"``, a glob such as ``"dir/*.root:events"``, a
    ``{"file.root": "tree"}`` dict, a ``pathlib.Path`` (never split at a colon), or a list of
    these. Without a tree name the file's only TTree is used. Signal and background come
    as two sources, or as one source with a class expression (``class_expr="isSignal == 1"``).

Sequence layouts (:class:`SequenceLayout`, string form in brackets)
    1. one branch per time step, ``vars_time0`` ... ``vars_time9``, each holding F values
       (a fixed-size array, a ``std::vector``, or a scalar for F = 1); T is inferred from
       the branches present unless given                [``per-step:vars_time{t}[:T=10]``]
       (``%d`` works as the placeholder too, as in TMVA's ``AddVariablesArray``);
    2. one fixed-size two-dimensional branch ``float x[T][F]``; ``time_axis=1`` reads
       ``x[F][T]``; a one-dimensional ``x[T]`` gives F = 1   [``array:x[:time_axis=1]``];
    3. jagged per-object branches ``trk_pt[ntrk]``, ``trk_eta[ntrk]`` ... (or
       ``std::vector``): objects are the time steps, one branch per feature, padded with
       zeros or truncated to the first ``max`` objects; :attr:`Dataset.mask` ``(N, T)`` and
       :attr:`Dataset.lengths` ``(N,)`` mark the valid steps, which come first (an event
       without objects has length 0)
                                                 [``jagged:trk_pt,trk_eta,trk_phi:max=20``].
    ``SequenceLayout.from_string(s)`` parses these and ``str(layout)`` prints them back.

Variable names follow TMVA: event variable ``j*F + k`` is time step j, feature k, named as
TMVA's internal names (``vars_time0[0]`` ... ``vars_time9[29]``; ``x[j][k]``; ``trk_pt[j]``).

Expressions
    ``cut``, ``weight`` and ``class_expr`` are uproot expressions: Python syntax over branch
    names and NumPy functions (``sqrt``, ``abs``, ``where`` ...), one value per event, e.g.
    ``cut="(nTrk > 2) & (met > 20)"``, or TTreeFormula syntax (see
    :mod:`tmva_lstm.data.expressions`). Branches arrive as NumPy arrays; fixed-size arrays can
    be indexed, a constant index being an element of each event as in TTree::Draw
    (``x[0] > 1`` is ``x[:, 0] > 1``), variable-length ones cannot (cut on their counter branch,
    ``ntrk > 2``, instead). uproot evaluates them with
    Python's ``compile``/``eval``: like uproot's own ``cut=``, they are trusted input — never
    pass expressions from an untrusted party. A cut or class expression keeps or selects an
    event where its value is non-zero (TTree::Draw's rule).

Streaming
    :func:`iterate` yields one :class:`Dataset` per chunk of ``step_size`` (entries, or a
    memory size such as ``"100 MB"``); chunks never span files, so memory stays bounded by
    a few chunks. :func:`load` reads everything into one :class:`Dataset`; it equals the
    concatenation of :func:`iterate`'s chunks. Every file is opened and checked (tree,
    branches, types, expressions on the first entries) before any data are read, and
    :func:`load` returns a complete dataset or raises.

:func:`variable_branches` gives the arrays back in the ntuple's own branch shapes, for
writing the input variables next to the scores (TMVA's TestTree keeps ``vars_time0[30]``).

Errors (:mod:`tmva_lstm.errors`) name the file, the tree and the branch, and say what would
fix the problem: a missing file, a glob matching nothing, a file that is not ROOT, truncated
or corrupt → ``InputFileError``; a missing tree → ``TreeNotFoundError``; a missing branch (also
inside an expression) → ``BranchNotFoundError`` with the closest names; data that do not fit
the layout, an empty selection or class → ``DataError``; NaN or infinite inputs or weights →
``NonFiniteInputError``; bad arguments → ``OptionError``.
"""

from __future__ import annotations

from .dataset import Dataset
from .layout import SequenceLayout
from .loading import iterate, load, load_classes, variable_branches
from .sources import Source

__all__ = [
    "SequenceLayout",
    "Dataset",
    "load",
    "load_classes",
    "iterate",
    "variable_branches",
    "Source",
]
