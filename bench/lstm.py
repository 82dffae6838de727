"""Time our LSTM against ``torch.nn.LSTM`` on the CPU, training and inference, float32.

Training is forward + backward of a sum loss with the input requiring grad (our backward also
returns ``dx``); inference is forward only (``torch.inference_mode`` for torch). Both sides run
with the same thread count: the threads NumPy's BLAS uses, or ``--threads``.

    python bench/lstm.py [--threads N] [--repeats R] [--quick]
    TMVA_LSTM_KERNEL=numpy python bench/lstm.py      # the pure-NumPy path

GFLOP/s counts the GEMM flops only: forward ``2 N T (F + H) 4H``, backward twice that.
The ``matmul`` column is NumPy's rate on one GEMM as large as the whole forward pass,
``(T N, F + H) @ (F + H, 4H)``, measured here: a ceiling for a loop of per-step GEMMs.

Each case is timed in phases of its own, as in real use, with a pause before each phase:
OpenBLAS's and torch's worker threads spin for a while after a call, and on a 2-core machine
that slows whichever library runs next several-fold. Phases alternate over a few rounds, so
slow drifts (other jobs on the machine) hit both sides alike. Times are medians over all
repeats; ``best`` is the ratio of the fastest repeats, a reading less exposed to other jobs.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import statistics
import sys
import time
from pathlib import Path

# (T, F, H, N): TMVA's RNN tutorial first, then wider, longer-and-wider and many-step cases.
SHAPES = [(10, 30, 10, 100), (10, 30, 64, 256), (50, 32, 128, 512), (100, 16, 32, 64)]
PAUSE_S = 0.15  # idle time before each timed phase: lets the other library's threads sleep
WARMUP_S = 0.05  # then calls until the clock and caches are warm again
BLOCK_S = 0.02  # one repeat calls the function back to back for about this long


def _parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=None, help="threads for BLAS, numba and torch")
    p.add_argument("--repeats", type=int, default=None, help="timed repeats per case (median)")
    p.add_argument("--quick", action="store_true", help="few repeats, one round: a smoke test")
    return p.parse_args()


def _blas_threads():
    """``(get, set)`` for the thread count of the loaded OpenBLAS (NumPy's wheels ship one)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "openblas" in line.lower()})
    except OSError:
        return None
    for path in paths:
        lib = ctypes.CDLL(path)
        for prefix in ("scipy_openblas", "openblas"):
            for suffix in ("64_", "_64_", ""):
                get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                set_ = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                if get is not None and set_ is not None:
                    return get, set_
    return None


def _block(fn, calls: int) -> float:
    """Seconds per call, over ``calls`` back-to-back calls."""
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t0) / calls


def _phase(fn, repeats: int, warmup: int) -> list[float]:
    time.sleep(PAUSE_S)
    t0 = time.perf_counter()
    for i in range(10**6):
        fn()
        if i + 1 >= warmup and time.perf_counter() - t0 > WARMUP_S:
            break
    calls = max(1, round(BLOCK_S / max(_block(fn, 1), 1e-7)))
    return [_block(fn, calls) for _ in range(repeats)]


def main() -> int:
    args = _parse()
    if args.threads is not None:  # before NumPy and numba start their threads
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)
        os.environ["NUMBA_NUM_THREADS"] = str(args.threads)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

    import numpy as np
    import torch

    from tmva_lstm.nn import lstm as L

    blas = _blas_threads()
    if args.threads is not None and blas is not None:
        blas[1](args.threads)
    n_threads = int(blas[0]()) if blas is not None else (args.threads or os.cpu_count() or 1)
    torch.set_num_threads(n_threads)
    rounds = 1 if args.quick else 3
    per_round = max(1, (args.repeats or (5 if args.quick else 24)) // rounds)
    warmup = 2 if args.quick else 3

    print(
        f"threads: NumPy's BLAS {n_threads}, torch.set_num_threads({n_threads}) -> "
        f"{torch.get_num_threads()}; our kernel: {L.kernel_name()}; float32; "
        f"median of {per_round * rounds} repeats in {rounds} rounds"
    )
    print(f"numpy {np.__version__}, torch {torch.__version__}, {os.cpu_count()} CPUs")
    header = (
        f"{'T':>4} {'F':>3} {'H':>4} {'N':>4}  {'mode':<5} {'ours ms':>8} {'torch ms':>9} "
        f"{'ratio':>6} {'best':>5} {'ours GF/s':>9} {'torch GF/s':>10} {'matmul GF/s':>11}"
    )
    print(header)
    print("-" * len(header))

    rng = np.random.default_rng(0)
    for T, F, H, N in SHAPES:
        params = L.init_lstm_params(F, H, rng, dtype=np.float32)
        params["b"][:] = rng.normal(0, 0.1, 4 * H)
        x = rng.normal(size=(N, T, F)).astype(np.float32)
        dh = np.ones((N, T, H), dtype=np.float32)  # d(sum h)/dh

        lstm = torch.nn.LSTM(F, H, batch_first=True)
        with torch.no_grad():
            for name, value in L.to_torch(params).items():
                getattr(lstm, name).copy_(torch.from_numpy(value))
        xt = torch.from_numpy(x.copy()).requires_grad_(True)

        def ours_train(x=x, params=params, dh=dh):
            _, cache = L.lstm_forward(x, params)
            L.lstm_backward(dh, cache)

        def ours_infer(x=x, params=params):
            L.lstm_forward(x, params)

        def torch_train(lstm=lstm, xt=xt):
            lstm.zero_grad(set_to_none=True)
            xt.grad = None
            out, _ = lstm(xt)
            out.sum().backward()

        def torch_infer(lstm=lstm, xt=xt):
            with torch.inference_mode():
                lstm(xt)

        a = rng.normal(size=(T * N, F + H)).astype(np.float32)
        b = rng.normal(size=(F + H, 4 * H)).astype(np.float32)
        c = np.empty((T * N, 4 * H), dtype=np.float32)

        def gemm(a=a, b=b, c=c):
            np.matmul(a, b, out=c)

        times: dict = {fn: [] for fn in (ours_train, torch_train, ours_infer, torch_infer, gemm)}
        for _ in range(rounds):
            for fn, ts in times.items():
                ts.extend(_phase(fn, per_round, warmup))
        med = {fn: statistics.median(ts) for fn, ts in times.items()}

        fwd_flop = 2.0 * N * T * (F + H) * 4 * H
        for mode, ours, theirs, flop in (
            ("train", ours_train, torch_train, 3 * fwd_flop),
            ("infer", ours_infer, torch_infer, fwd_flop),
        ):
            to, tt = med[ours], med[theirs]
            best = min(times[ours]) / min(times[theirs])
            print(
                f"{T:>4} {F:>3} {H:>4} {N:>4}  {mode:<5} {to * 1e3:>8.3f} {tt * 1e3:>9.3f} "
                f"{to / tt:>6.2f} {best:>5.2f} {flop / to / 1e9:>9.1f} {flop / tt / 1e9:>10.1f} "
                f"{fwd_flop / med[gemm] / 1e9:>11.1f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
