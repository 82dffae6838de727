"""Declare the C++ stand-in for TMVA (tmva_standin.h) through cling, once per process.

Two independent copies: ``tmva_standin`` (TMVA's "Plugins" method registered, as in a real
libTMVA) and ``tmva_standin_noplugins`` (kPlugins free). Used by the binding tests and by the
real-TMVA tests' stand-in runs.
"""

from __future__ import annotations

from pathlib import Path

from tmva_lstm._cling import declare

HEADER = Path(__file__).with_name("tmva_standin.h")
WITH_PLUGINS = "tmva_standin"  # "Plugins" holds kPlugins
NO_PLUGINS = "tmva_standin_noplugins"  # kPlugins free

_declared: list[bool] = []


def declare_standin():
    """Declare both copies (once) and return ``ROOT``."""
    import ROOT

    if not _declared:
        ok = declare(
            f'#include "{HEADER}"\n'
            f"#define TMVA_STANDIN_NS {NO_PLUGINS}\n"
            f'#include "{HEADER}"\n'
            "#undef TMVA_STANDIN_NS\n"
        )
        if not ok:
            raise RuntimeError("the TMVA stand-in did not compile (messages above)")
        ROOT.tmva_standin.detail.LoadLibraryTMVA()  # "Plugins" -> kPlugins, as libTMVA does
        _declared.append(True)
    return ROOT
