"""Training on inputs larger than memory: ``tmva-lstm train --memmap`` vs in-memory.

    python bench/train_memmap.py [--events 100000]

Writes a labelled per-step ntuple (10 steps x 30 floats per event, --events per class), then
trains one epoch of the tutorial network on it in a fresh process, with and without
``--memmap``, sampling the process's anonymous resident memory (``RssAnon`` in
/proc/self/status: the memory that cannot be paged back to a file). With --memmap the inputs
live in OUTPUT_DIR/inputs.npy, whose pages the kernel can drop at will, so RssAnon stays far
below the size of the inputs. Linux only.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

CHILD = textwrap.dedent(
    """
    import sys, threading, time
    peak = [0]
    def watch():
        while True:
            for line in open("/proc/self/status"):
                if line.startswith("RssAnon:"):
                    peak[0] = max(peak[0], int(line.split()[1]))
            time.sleep(0.02)
    threading.Thread(target=watch, daemon=True).start()
    from tmva_lstm.cli import main
    t0 = time.perf_counter()
    rc = main(sys.argv[1:])
    print(f"RESULT {rc} {time.perf_counter() - t0:.1f} {peak[0] / 1024:.0f}")
    """
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="events per class")
    args = parser.parse_args()
    import uproot

    T, F = 10, 30
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "big.root"
        rng = np.random.default_rng(1)
        with uproot.recreate(data) as f:
            for name, shift in (("sgn", 0.1), ("bkg", 0.0)):
                tree = f.mktree(name, {f"vars_time{t}": (np.float32, (F,)) for t in range(T)})
                for start in range(0, args.events, 20_000):
                    n = min(20_000, args.events - start)
                    tree.extend({f"vars_time{t}": (rng.normal(size=(n, F)) + shift).astype(np.float32)
                                 for t in range(T)})  # fmt: skip
        x_mb = 2 * args.events * T * F * 4 / 2**20
        print(f"inputs: {2 * args.events} events, {x_mb:.0f} MB as float32")
        print(f"{'mode':<10} {'time [s]':>9} {'peak RssAnon [MB]':>18}")
        options = ("InputLayout=10|30:Layout=LSTM|10|30|10|0|1,RESHAPE|FLAT,DENSE|64|TANH,LINEAR:"
                   "MaxEpochs=1:BatchSize=100:RandomSeed=1")  # fmt: skip
        for mode in ("in-memory", "memmap"):
            cmd = [sys.executable, "-c", CHILD, "train", "--signal", f"{data}:sgn", "--background",
                   f"{data}:bkg", "--layout", "per-step:vars_time{t}", "-o", options,
                   "--output-dir", str(Path(tmp) / mode)] + (["--memmap"] if mode == "memmap" else [])  # fmt: skip
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            _, rc, seconds, peak = out.strip().splitlines()[-1].split()
            print(f"{mode:<10} {float(seconds):9.1f} {float(peak):18.0f}")


if __name__ == "__main__":
    main()
