"""``tmva-lstm root 'macro.C(args)'``: run a C++ ROOT macro with PyLSTM registered in-process.

A C++ macro books ``PyLSTM`` once :func:`tmva_lstm.tmva.register` has run in its process. In
a ROOT built with Python support a macro can do that itself through ``TPython::Exec``; a ROOT
without TPython (the PyPI wheel, some conda builds) has no such bridge. The launcher turns the
situation around: it starts in Python, registers PyLSTM, then hands the macro to ROOT's C++
interpreter (cling) in the same process, as ``root -b -q 'macro.C(args)'`` would
(``gROOT->ProcessLine(".x macro.C(args)")``), so the macro finds ``PyLSTM`` already bookable.

Before the macro runs, ``TMVA_LSTM_LAUNCHER`` is defined for the C++ preprocessor: a macro can
skip its own ``TPython`` registration with ``#ifndef TMVA_LSTM_LAUNCHER``.

The exit status is the macro's: its return value when it returns an integer in 0..255 (so
``int macro()`` returning 1 fails the command), 0 for ``void`` macros; 1 when cling cannot
compile it or it ends in a C++ exception (the message names it).
"""

from __future__ import annotations

import ctypes
import re
import sys
from pathlib import Path

from tmva_lstm._cling import declare as cling_declare
from tmva_lstm.errors import InputFileError, TmvaLstmError
from tmva_lstm.tmva import _import_root, pin_blas_threads, register

__all__ = ["LAUNCHER_DEFINE", "macro_path", "run_macro"]

LAUNCHER_DEFINE = "TMVA_LSTM_LAUNCHER"  # defined for the macro's preprocessor

# "path/macro.C", optionally ACLiC's "+", "++", "+g", ..., then optionally "(arguments)".
_MACRO = re.compile(
    r"^\s*(?P<path>[^()]+?)(?P<aclic>\+{1,2}[gO]?)?\s*(?P<args>\(.*\))?\s*;?\s*$", re.S
)


def macro_path(macro: str) -> Path:
    """The file of a ``root``-style macro argument: ``'dir/m.C+("a", 2)'`` -> ``dir/m.C``."""
    match = _MACRO.match(macro)
    if not match:
        raise InputFileError(
            f"cannot read a macro file name in {macro!r}; write it as for root, e.g. "
            "'macros/TMVA_LSTM_Classification.C(\"data/time_data_t10_d30.root\", 20)'"
        )
    return Path(match.group("path"))


def run_macro(
    macro: str,
    *,
    namespace: str = "TMVA",
    declare: tuple[str, ...] | list[str] = (),
    base: str | None = None,
    batch: bool = True,
) -> int:
    """Register PyLSTM with ``namespace`` (TMVA), then run ``macro`` through cling; its status.

    ``declare``: C++ headers given to cling before the registration (e.g. a TMVA stand-in for
    tests, with ``namespace`` its namespace). ``batch``: no graphics windows (as ``root -b``).
    """
    path = macro_path(macro)
    if not path.is_file():
        raise InputFileError(f"no macro file {path}; give the path to a .C macro, as for root")
    pin_blas_threads()  # before NumPy and ROOT load their BLAS
    ROOT = _import_root()
    ROOT.gROOT.SetBatch(batch)
    for header in declare:
        if not Path(header).is_file():
            raise InputFileError(f"no header {header} to declare (--declare)")
        if not cling_declare(f'#include "{Path(header).resolve()}"'):
            raise InputFileError(f"cling could not compile {header} (--declare); messages above")
    registration = register(namespace, base=base)
    print(
        f"tmva-lstm root: {registration.name} registered with {namespace} "
        f"(base {registration.base}); running {macro}",
        file=sys.stderr,
    )
    cling_declare(f"#define {LAUNCHER_DEFINE} 1")
    error = ctypes.c_int(0)
    sys.stdout.flush()
    try:
        result = int(ROOT.gROOT.ProcessLine(f".x {macro}", error))
    except Exception as err:  # a C++ exception the macro did not catch, as a Python exception
        if isinstance(err, TmvaLstmError):
            raise  # ours (bad options, data): the command's one-line error, status 2
        print(f"tmva-lstm root: {macro} stopped with {type(err).__name__}: "
              f"{str(err).strip().splitlines()[-1]}", file=sys.stderr)  # fmt: skip
        return 1
    finally:
        sys.stdout.flush()
    if error.value != 0:
        print(
            f"tmva-lstm root: cling could not run {macro} (its messages are above)", file=sys.stderr
        )
        return 1
    return result if 0 <= result <= 255 else 1
