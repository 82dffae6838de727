"""Throughput of ``tmva-lstm apply`` over many files: one process, then 1 and 2 Dask workers.

    python bench/apply_files.py [--files 8] [--events 20000] [--step-size 16384] [--quick]

Writes ``--files`` per-step ntuples (10 steps x 30 floats, as in the TMVA RNN tutorial; sizes
from 1/2 to 3/2 of ``--events``) and a tutorial-shaped model to a temporary folder, then scores
all of them three ways on the same files, friend-tree outputs:

* single process: ``apply_to_files`` file after file in a fresh process with one BLAS thread
  (what ``tmva-lstm apply FILE --output OUT`` does), timed after a warm-up call;
* ``apply_files`` on a ``LocalCluster`` of 1 worker, then of 2 workers (one thread each),
  timed from the call to the report; the cluster's start-up is reported apart.

It prints events/s, the ratio to the single process (the overhead of Dask with 1 worker, the
scaling with 2) and the per-event cost in worker-seconds, from which the README projects the
cost of 10^9 events on N workers.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # as on Dask workers; set before NumPy starts
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402

T, F = 10, 30
LAYOUT = "LSTM|10|30|10|0|1,RESHAPE|FLAT,DENSE|64|TANH,LINEAR"

SINGLE = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np
    from tmva_lstm.scoring import apply_to_files, ModelPayload
    model, out, step, *files = sys.argv[1:]
    m = ModelPayload.of(model).load()
    m.predict(np.zeros((8, *m.input_layout), np.float32))  # warm-up: compiled kernels loaded
    t0 = time.perf_counter()
    for f in files:
        apply_to_files(model, f + ":events", f"{out}/{f.rsplit('/', 1)[1]}", friend=True,
                       step_size=int(step))
    print(json.dumps({"seconds": time.perf_counter() - t0}))
    """
)


def _write_inputs(folder: Path, n_files: int, events: int) -> tuple[Path, list[Path], int]:
    import uproot

    from tmva_lstm.model import Model
    from tmva_lstm.nn.network import Network
    from tmva_lstm.options import MethodOptions

    rng = np.random.default_rng(1)
    net = Network.from_layout(LAYOUT, T, F)
    opts = MethodOptions.from_string(f"InputLayout={T}|{F}:Layout={LAYOUT}")
    names = [f"vars_time{t}[{k}]" for t in range(T) for k in range(F)]
    model = Model(net, net.init_params(rng), opts, names)
    model.data_layout = "per-step:vars_time{t}"
    model_path = model.save(folder / "model.weights.xml")
    files, total = [], 0
    sizes = np.linspace(events // 2, 3 * events // 2, n_files).astype(int)
    for i, n in enumerate(sizes):
        path = folder / "in" / f"ntuple_{i:03d}.root"
        path.parent.mkdir(exist_ok=True)
        with uproot.recreate(path) as f:
            tree = f.mktree("events", {f"vars_time{t}": (np.float32, (F,)) for t in range(T)})
            for s in range(0, n, 20_000):
                m = min(20_000, n - s)
                tree.extend(
                    {f"vars_time{t}": rng.normal(size=(m, F)).astype(np.float32) for t in range(T)}
                )
        files.append(path)
        total += int(n)
    return model_path, files, total


def _single(model: Path, files: list[Path], out: Path, step: int) -> float:
    out.mkdir()
    proc = subprocess.run(
        [sys.executable, "-c", SINGLE, str(model), str(out), str(step), *map(str, files)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(proc.stdout.strip().splitlines()[-1])["seconds"]


def _dask(model: Path, folder: Path, out: Path, step: int, workers: int) -> tuple[float, float]:
    from dask.distributed import Client, LocalCluster

    import tmva_lstm as tl

    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           dashboard_address=":0", silence_logs=logging.CRITICAL)  # fmt: skip
    client = Client(cluster)

    def warm(path):
        from tmva_lstm.scoring import ModelPayload

        m = ModelPayload.of(path).load()
        m.predict(np.zeros((8, *m.input_layout), np.float32))

    client.run(warm, str(model))
    startup = time.perf_counter() - t0
    try:
        report = tl.apply_files(model, f"{folder}/*.root:events", out, client, friend=True,
                                step_size=step)  # fmt: skip
        assert not report.failures, report.summary()
        return report.seconds, startup
    finally:
        client.close()
        cluster.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--events", type=int, default=20_000, help="mean events per file")
    parser.add_argument("--step-size", type=int, default=16_384, help="entries per range")
    parser.add_argument("--quick", action="store_true", help="4 files of ~5000 events")
    args = parser.parse_args()
    if args.quick:
        args.files, args.events = 4, 5000
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model, files, total = _write_inputs(tmp, args.files, args.events)
        print(f"{len(files)} files, {total} events (10 steps x 30 floats), tutorial LSTM, "
              f"step {args.step_size} entries, friend-tree outputs, {os.cpu_count()} cores")  # fmt: skip
        rows = [("single process", _single(model, files, tmp / "single", args.step_size), 0.0)]
        for n in (1, 2):
            seconds, startup = _dask(model, tmp / "in", tmp / f"dask{n}", args.step_size, n)
            rows.append((f"Dask, {n} worker{'s' if n > 1 else ''}", seconds, startup))
        base = rows[0][1]
        print(f"{'mode':<16} {'time [s]':>9} {'events/s':>10} {'vs single':>10} "
              f"{'worker-us/event':>16} {'cluster start [s]':>18}")  # fmt: skip
        for (name, seconds, startup), workers in zip(rows, (1, 1, 2), strict=True):
            print(f"{name:<16} {seconds:9.2f} {total / seconds:10,.0f} {base / seconds:9.2f}x "
                  f"{1e6 * seconds * workers / total:16.1f} {startup:18.1f}")  # fmt: skip
        per_event = rows[1][1] / total  # worker-seconds per event, 1 worker (Dask included)
        print(f"projection for 1e9 events at {per_event * 1e6:.1f} worker-us/event: "
              + ", ".join(f"{n} workers {1e9 * per_event / n / 3600:.1f} h" for n in (10, 100, 1000)))  # fmt: skip


if __name__ == "__main__":
    main()
