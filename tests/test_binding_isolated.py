"""The TMVA binding's tests (tests/binding/) in a fresh pytest process of their own.

Each of them runs in a child forked from that process (the ``forked`` marker, tests/conftest.py,
and tests/binding/test_tmva_binding.py's docstring say why); forking is only safe from a
process that holds no other test's threads, which this suite's process does (Dask clusters,
progress monitors). Run them directly with ``TMVA_LSTM_BINDING_TESTS=1 python -m pytest
tests/binding``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ROOT", reason="the TMVA binding needs PyROOT (pip install ROOT)")

TESTS = Path(__file__).resolve().parent


def test_the_binding_tests_pass_in_a_process_of_their_own():
    env = dict(os.environ, TMVA_LSTM_BINDING_TESTS="1")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(TESTS / "binding")],
        cwd=TESTS.parent, env=env, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    print(proc.stdout[-6000:])  # shown when this test fails: which binding test, and why
    assert proc.returncode == 0, summary + "\n" + proc.stderr[-3000:]
    passed = re.search(r"(\d+) passed", summary)
    assert passed and int(passed.group(1)) >= 30, summary  # the stand-in runs are not skipped
