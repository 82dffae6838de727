"""Shared fixtures, and the ``forked`` marker. Warnings are errors in the test run
(pyproject.toml lists the exceptions)."""

from __future__ import annotations

import os
import pickle
import signal

import numpy as np
import pytest
from _pytest.runner import runtestprotocol

# tests/binding/ (the TMVA binding through the stand-in, and real TMVA where present) runs in a
# process of its own, started by tests/test_binding_isolated.py, where each test is forked from
# a process that holds no other test's threads (a fork copies only the forking thread: a lock
# another thread held, e.g. a Dask cluster's event loop, would never be released in the child).
# Run them directly with: TMVA_LSTM_BINDING_TESTS=1 python -m pytest tests/binding
collect_ignore = [] if os.environ.get("TMVA_LSTM_BINDING_TESTS") else ["binding"]


def pytest_collection_modifyitems(session, config, items) -> None:
    """The binding tests' check last: their process (below) then runs while the rest does."""
    last = [i for i in items if getattr(getattr(i, "module", None), "start_binding_tests", None)]
    items[:] = [i for i in items if i not in last] + last


def pytest_collection_finish(session) -> None:
    """Start the binding tests' process (tests/test_binding_isolated.py) now, so that it runs
    beside this suite instead of after it."""
    if session.config.option.collectonly:
        return
    for item in getattr(session, "items", ()):
        start = (
            getattr(item.module, "start_binding_tests", None) if hasattr(item, "module") else None
        )
        if start is not None:
            start()
            return


def pytest_sessionfinish(session) -> None:
    for item in getattr(session, "items", ()):
        stop = getattr(item.module, "stop_binding_tests", None) if hasattr(item, "module") else None
        if stop is not None:
            stop()
            return


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261124)


# ---------------------------------------------------------------- @pytest.mark.forked
# A test marked ``forked`` runs (setup, call, teardown) in a child forked from the test process,
# so that what it leaves in the process's memory does not reach the next test. The child sends
# its reports back through a pipe; a child that dies (a signal, a crash) is a failed test that
# says so. (The pytest-forked plugin does not run on pytest 9.)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    if item.get_closest_marker("forked") is None or not hasattr(os, "fork"):
        return None
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    for report in _run_forked(item):
        item.ihook.pytest_runtest_logreport(report=report)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def _run_forked(item) -> list:
    hook = item.config.hook
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run the test, send the reports, leave without cleanup
        os.close(read_end)
        status = 0
        try:
            reports = runtestprotocol(item, log=False)
            data = pickle.dumps(
                [hook.pytest_report_to_serializable(config=item.config, report=r) for r in reports]
            )
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(data)
        except BaseException:  # noqa: BLE001 - the parent reports the missing result
            status = 3
        os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if data and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        return [
            hook.pytest_report_from_serializable(config=item.config, data=d)
            for d in pickle.loads(data)
        ]
    if os.WIFSIGNALED(status):
        how = f"was killed by signal {signal.Signals(os.WTERMSIG(status)).name}"
    else:
        how = f"exited with status {os.WEXITSTATUS(status)}"
    call = pytest.CallInfo.from_call(lambda: pytest.fail(f"the forked test process {how}"), "call")
    return [pytest.TestReport.from_item_and_call(item, call)]
