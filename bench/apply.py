"""Peak memory and speed of ``tmva-lstm apply`` (streaming) on a file much larger than a chunk.

    python bench/apply.py [--events 200000] [--step-size "10 MB"]

Writes a per-step ntuple (10 steps x 30 floats, like the tutorial) to a temporary directory,
makes a tutorial-shaped model, then scores the file in a fresh process and reports that
process's peak resident memory (ru_maxrss) against the file size and the chunk size. The
target: the peak is bounded by a few chunks, not by the file.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    from tmva_lstm.workflow import apply_to_files
    model, source, out, step, friend = sys.argv[1:6]
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    apply_to_files(model, source, out, step_size=step, friend=friend == "1")
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_mb": peak / 1024, "base_mb": base / 1024}))
    """
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--step-size", default="10 MB")
    args = parser.parse_args()

    import uproot

    from tmva_lstm.model import Model
    from tmva_lstm.nn.network import Network
    from tmva_lstm.options import MethodOptions

    T, F = 10, 30
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = tmp / "big.root"
        rng = np.random.default_rng(1)
        with uproot.recreate(data) as f:
            tree = f.mktree("events", {f"vars_time{t}": (np.float32, (F,)) for t in range(T)})
            for start in range(0, args.events, 20_000):
                n = min(20_000, args.events - start)
                tree.extend(
                    {f"vars_time{t}": rng.normal(size=(n, F)).astype(np.float32) for t in range(T)}
                )
        layout = "LSTM|10|30|10|0|1,RESHAPE|FLAT,DENSE|64|TANH,LINEAR"
        net = Network.from_layout(layout, T, F)
        opts = MethodOptions.from_string(f"InputLayout=10|30:Layout={layout}")
        model = Model(
            net,
            net.init_params(rng),
            opts,
            [f"vars_time{t}[{k}]" for t in range(T) for k in range(F)],
        )
        model.data_layout = "per-step:vars_time{t}"
        model_path = model.save(tmp / "model.xml")

        size_mb = data.stat().st_size / 2**20
        x_mb = args.events * T * F * 4 / 2**20
        print(f"file: {args.events} events, {size_mb:.0f} MB on disk, inputs {x_mb:.0f} MB as float32; "
              f"step_size {args.step_size}")  # fmt: skip
        print(
            f"{'mode':<8} {'time [s]':>9} {'events/s':>10} {'peak RSS [MB]':>14} {'after imports [MB]':>19}"
        )
        for friend in ("0", "1"):
            proc = subprocess.run(
                [sys.executable, "-c", CHILD, str(model_path), f"{data}:events", str(tmp / "out.root"),
                 args.step_size, friend],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            mode = "friend" if friend == "1" else "copy"
            print(f"{mode:<8} {r['seconds']:9.2f} {args.events / r['seconds']:10,.0f} "
                  f"{r['peak_mb']:14.0f} {r['base_mb']:19.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
