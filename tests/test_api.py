"""The public surface: what ``import tmva_lstm`` offers, and what importing costs."""

from __future__ import annotations

import subprocess
import sys

import tmva_lstm


def test_public_api_is_pinned():
    assert sorted(tmva_lstm.__all__) == sorted(
        [
            "__version__",
            "MethodOptions",
            "Model",
            "TmvaLstmError",
            "apply_files",
            "load",
            "load_model",
            "resume",
            "score_events",
            "train",
        ]
    )
    for name in tmva_lstm.__all__:
        assert getattr(tmva_lstm, name) is not None


def test_importing_the_tmva_package_loads_neither_numpy_nor_root():
    """So ``pin_blas_threads()`` can still set the BLAS thread variables before NumPy starts."""
    code = (
        "import sys, tmva_lstm.tmva as t; "
        "assert 'numpy' not in sys.modules and 'ROOT' not in sys.modules, sorted(sys.modules); "
        "assert t.pin_blas_threads(1)"
    )
    env = {k: v for k, v in __import__("os").environ.items() if not k.endswith("NUM_THREADS")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr


def test_unknown_attribute():
    import pytest

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        tmva_lstm.nope  # noqa: B018
