"""tmva_lstm._cling.declare keeps Python's GIL while cling compiles (PyROOT 6.40 releases it
around TInterpreter::Declare): no other Python thread runs during the compilation."""

from __future__ import annotations

import threading
import time

import pytest

ROOT = pytest.importorskip("ROOT", reason="needs PyROOT")

from tmva_lstm._cling import declare  # noqa: E402


def test_declare_keeps_the_gil_and_restores_pyroots_setting():
    count, stop = [0], [False]

    def spin():
        while not stop[0]:
            count[0] += 1

    thread = threading.Thread(target=spin, daemon=True)
    thread.start()
    try:
        start = count[0]
        time.sleep(0.2)
        rate = (count[0] - start) / 0.2  # increments per second with the GIL to spare
        code = "\n".join(
            f"inline double tmva_lstm_gil_check_{i}(double x) {{ return x * {i} + {i % 7}; }}"
            for i in range(4000)
        )
        before, t0 = count[0], time.perf_counter()
        assert declare(code)
        elapsed, progress = time.perf_counter() - t0, count[0] - before
    finally:
        stop[0] = True
        thread.join()
    assert ROOT.gInterpreter.ProcessLine("tmva_lstm_gil_check_3(2.0)") == 9
    # The other thread only runs at the Python-level switch points around the C++ call (a few
    # switch intervals of 5 ms), never for the compilation itself.
    assert elapsed > 0.2, f"the compilation took {elapsed:.3f} s: too short to tell"
    assert progress < rate * 0.05, f"{progress} increments in {elapsed:.2f} s at {rate:.0f}/s"
    assert ROOT.TInterpreter.Declare.__release_gil__  # PyROOT's own setting is back
