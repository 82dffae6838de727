"""Time ``tmva_lstm.data`` against plain uproot on the same branches, and its streaming memory.

Writes a per-step ntuple (trees ``sgn`` and ``bkg``, ``vars_time0..9`` of ``float[30]``, as the
TMVA RNN tutorial) to a temporary folder, then measures:

1. in memory: ``uproot.open(f)[tree].arrays(branches, library="np")`` and
   ``uproot.concatenate`` against ``data.load`` (events/s, best of ``--repeats``);
   target: ``data.load`` adds less than 20% on top of uproot;
2. streaming: ``uproot.iterate`` against ``data.iterate`` over the whole file with a
   ``--step-size`` much smaller than the file; the peak memory traced by ``tracemalloc``
   (NumPy reports its buffers to it) is compared with the size of one chunk of ``X``;
   target: bounded by a few chunks, independent of the file size.

The streaming loop takes a per-chunk ``score`` callable, so a scoring step (``apply``) can be
timed in the same loop once it exists; ``--score`` uses a stand-in (a mean over time steps).

    python bench/read.py [--events N] [--step-size "10 MB"] [--repeats R] [--score] [--quick]
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import uproot

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tmva_lstm import data  # noqa: E402

T, F = 10, 30  # the tutorial's time steps and features per step
LAYOUT = data.SequenceLayout.per_step("vars_time{t}")
BRANCHES = [f"vars_time{t}" for t in range(T)]
EVENTS_PER_BASKET = 2000  # one extend() per 2000 events: 240 kB baskets per branch


def _parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=50_000, help="events in the file (both trees)")
    p.add_argument("--step-size", default="10 MB", help="chunk size for streaming")
    p.add_argument("--repeats", type=int, default=7, help="timed repeats (best is shown)")
    p.add_argument("--score", action="store_true", help="add a stand-in scoring step")
    p.add_argument("--quick", action="store_true", help="5000 events, one repeat")
    args = p.parse_args(argv)
    if args.quick:
        args.events, args.repeats = 5000, 1
    return args


def write_file(path: Path, n_events: int, seed: int = 1) -> Path:
    """Half the events in ``sgn``, half in ``bkg``; Gaussian noise is enough to time reading."""
    rng = np.random.default_rng(seed)
    with uproot.recreate(path) as f:
        for name, n in (("sgn", n_events // 2), ("bkg", n_events - n_events // 2)):
            tree = f.mktree(name, {b: ("f4", (F,)) for b in BRANCHES})
            for start in range(0, n, EVENTS_PER_BASKET):
                m = min(EVENTS_PER_BASKET, n - start)
                x = rng.normal(20.0, 10.0, size=(m, T, F)).astype(np.float32)
                tree.extend({b: x[:, t, :] for t, b in enumerate(BRANCHES)})
    return path


def best_times(fns: list[Callable[[], object]], repeats: int) -> list[float]:
    """Best wall time of each function; the functions take turns, so that load from other
    processes hits them alike."""
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            gc.collect()
            t0 = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


def traced_peak(fn: Callable[[], object]) -> float:
    """Peak bytes allocated (as traced) while ``fn`` runs, in MB."""
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 1e6


# --- the readers being compared ------------------------------------------------------------


def uproot_arrays(path: Path) -> int:
    n = 0
    with uproot.open(path) as f:
        for tree in ("sgn", "bkg"):
            arrays = f[tree].arrays(BRANCHES, library="np")
            n += len(arrays[BRANCHES[0]])
    return n


def uproot_concatenate(path: Path) -> int:
    n = 0
    for tree in ("sgn", "bkg"):
        arrays = uproot.concatenate(f"{path}:{tree}", BRANCHES, library="np")
        n += len(arrays[BRANCHES[0]])
    return n


def data_load(path: Path) -> int:
    return len(data.load(f"{path}:sgn", f"{path}:bkg", layout=LAYOUT))


def stand_in_score(chunk: data.Dataset) -> np.ndarray:
    """Placeholder for the network's forward pass: one number per event."""
    return chunk.X.mean(axis=(1, 2))


def uproot_stream(path: Path, step_size: str) -> int:
    n = 0
    for tree in ("sgn", "bkg"):
        for arrays in uproot.iterate(f"{path}:{tree}", BRANCHES, step_size=step_size, library="np"):
            n += len(arrays[BRANCHES[0]])
    return n


def data_stream(path: Path, step_size: str, score: Callable | None = None) -> int:
    n = 0
    for tree in ("sgn", "bkg"):
        for chunk in data.iterate(f"{path}:{tree}", layout=LAYOUT, step_size=step_size):
            if score is not None:
                score(chunk)
            n += len(chunk)
    return n


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    score = stand_in_score if args.score else None
    with tempfile.TemporaryDirectory(prefix="tmva_lstm_bench_") as tmp:
        path = write_file(Path(tmp) / "bench.root", args.events)
        size_mb = path.stat().st_size / 1e6
        x_mb = args.events * T * F * 4 / 1e6
        print(
            f"file: {args.events} events (sgn + bkg), per-step {T} x float[{F}], "
            f"{size_mb:.1f} MB on disk, X = {x_mb:.1f} MB as float32"
        )
        uproot_arrays(path)  # warm the page cache and imports

        print(f"\nin memory (best of {args.repeats})")
        print(f"{'reader':<38}{'time [s]':>10}{'events/s':>12}{'vs uproot':>12}{'peak [MB]':>12}")
        rows = [
            ("uproot tree.arrays(library='np')", lambda: uproot_arrays(path)),
            ("uproot.concatenate(library='np')", lambda: uproot_concatenate(path)),
            ("data.load (per-step layout)", lambda: data_load(path)),
        ]
        times = best_times([fn for _, fn in rows], args.repeats)
        for (name, fn), t in zip(rows, times, strict=True):
            peak = traced_peak(fn)
            print(
                f"{name:<38}{t:>10.3f}{args.events / t:>12,.0f}{t / times[0]:>11.2f}x{peak:>12.1f}"
            )

        steps = data.iterate(f"{path}:sgn", layout=LAYOUT, step_size=args.step_size)
        chunk_events = len(next(steps))
        steps.close()
        chunk_mb = chunk_events * T * F * 4 / 1e6
        print(
            f"\nstreaming, step_size {args.step_size!r}: {chunk_events} events per chunk "
            f"({chunk_mb:.1f} MB of X), {args.events / chunk_events:.1f} chunks"
        )
        print(f"{'reader':<38}{'time [s]':>10}{'events/s':>12}{'peak [MB]':>12}{'peak/chunk':>12}")
        rows = [
            ("uproot.iterate(library='np')", lambda: uproot_stream(path, args.step_size)),
            (
                "data.iterate" + (" + stand-in score" if score else ""),
                lambda: data_stream(path, args.step_size, score),
            ),
        ]
        times = best_times([fn for _, fn in rows], args.repeats)
        for (name, fn), t in zip(rows, times, strict=True):
            peak = traced_peak(fn)
            print(
                f"{name:<38}{t:>10.3f}{args.events / t:>12,.0f}{peak:>12.1f}"
                f"{peak / chunk_mb:>12.1f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
