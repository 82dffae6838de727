"""The TMVA binding's tests (tests/binding/) in a fresh pytest process of their own.

Each of them runs in a child forked from that process (the ``forked`` marker, tests/conftest.py,
and tests/binding/test_tmva_binding.py's docstring say why); forking is only safe from a
process that holds no other test's threads, which this suite's process does (Dask clusters,
progress monitors). Run them directly with ``TMVA_LSTM_BINDING_TESTS=1 python -m pytest
tests/binding``.

That process is started as soon as the suite is collected (tests/conftest.py,
``pytest_collection_finish``) and runs beside the other tests; the test below, moved to the end
of the run (``pytest_collection_modifyitems``), waits for it and checks its outcome. Started
alone, the test starts it itself.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytest.importorskip("ROOT", reason="the TMVA binding needs PyROOT (pip install ROOT)")

TESTS = Path(__file__).resolve().parent
_RUNNING: list = []  # [(Popen, its output file)] once started


def start_binding_tests() -> None:
    """Start the binding tests' pytest process in the background (once)."""
    if _RUNNING:
        return
    env = dict(os.environ, TMVA_LSTM_BINDING_TESTS="1")
    out = tempfile.TemporaryFile(mode="w+", prefix="tmva_lstm_binding_")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(TESTS / "binding")],
        cwd=TESTS.parent, env=env, stdout=out, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    _RUNNING.append((proc, out))


def stop_binding_tests() -> None:
    """Kill the process (and its forked children) if it is still running: the suite ended
    before its test did (``-x``, an interrupt)."""
    for proc, out in _RUNNING:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        out.close()
    _RUNNING.clear()


def test_the_binding_tests_pass_in_a_process_of_their_own():
    start_binding_tests()
    proc, out = _RUNNING[0]
    try:
        proc.wait(timeout=1800)
    except subprocess.TimeoutExpired:
        stop_binding_tests()
        pytest.fail("the binding tests did not finish in 30 minutes")
    out.seek(0)
    text = out.read()
    summary = text.strip().splitlines()[-1] if text.strip() else ""
    print(text[-6000:])  # shown when this test fails: which binding test, and why
    assert proc.returncode == 0, summary + "\n" + text[-3000:]
    passed = re.search(r"(\d+) passed", summary)
    assert passed and int(passed.group(1)) >= 30, summary  # the stand-in runs are not skipped
