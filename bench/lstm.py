"""Time our LSTM against ``torch.nn.LSTM`` on the CPU, training and inference, float32.

Training is forward + backward of a sum loss with the input requiring grad (our backward also
returns ``dx``); inference is forward only (``torch.inference_mode`` for torch). Both sides run
with the same thread count: the threads NumPy's BLAS uses, or ``--threads`` (also numba's).

    python bench/lstm.py [--threads N] [--repeats R] [--quick] [--no-single]
                         [--kinds LSTM,GRU,RNN] [--shapes 'T,F,H,N;...']
    TMVA_LSTM_KERNEL=numpy python bench/lstm.py      # the pure-NumPy path

Then one event at a time, on the TMVA tutorial's network (LSTM|10, DENSE|64|TANH, LINEAR on
10 x 30 inputs, VarTransform=N): ``Model.predict`` on one event against the same network in
torch (inference mode, one thread); the standalone C++ class (``tmva_lstm.makeclass``,
``g++ -O2``) per ``GetMvaValue`` call; and ``Reader::EvaluateMVA`` through the binding and the
TMVA stand-in of ``tests/standin`` (compiled C++ class, and the Python path per event), timed
in a C++ loop.

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
ROOT_DIR = Path(__file__).resolve().parents[1]
PAUSE_S = 0.15  # idle time before each timed phase: lets the other library's threads sleep
WARMUP_S = 0.05  # then calls until the clock and caches are warm again
BLOCK_S = 0.02  # one repeat calls the function back to back for about this long


def _parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=None, help="threads for BLAS, numba and torch")
    p.add_argument("--repeats", type=int, default=None, help="timed repeats per case (median)")
    p.add_argument("--quick", action="store_true", help="few repeats, one round: a smoke test")
    p.add_argument("--no-single", action="store_true", help="skip the one-event figures")
    p.add_argument(
        "--shapes",
        default=None,
        help="only these shapes, as T,F,H,N separated by ';' (default: all four)",
    )
    p.add_argument(
        "--kinds", default="LSTM", help="recurrent layers to time: LSTM, GRU, RNN (comma-separated)"
    )
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

    shapes = SHAPES
    if args.shapes:
        shapes = [tuple(int(v) for v in s.split(",")) for s in args.shapes.split(";")]
    rng = np.random.default_rng(0)
    for kind in args.kinds.split(","):
        print(f"{kind}  (against torch.nn.{kind})")
        for T, F, H, N in shapes:
            _time_shape(kind, T, F, H, N, rng, rounds, per_round, warmup)
    if not args.no_single:
        single_event(args.quick)
    return 0


def _lstm_case(T, F, H, N, rng):
    """``(ours_train, ours_infer, torch_train, torch_infer, flops of one forward pass)``."""
    import numpy as np
    import torch

    from tmva_lstm.nn import lstm as L

    params = L.init_lstm_params(F, H, rng, dtype=np.float32)
    params["b"][:] = rng.normal(0, 0.1, 4 * H)
    x = rng.normal(size=(N, T, F)).astype(np.float32)
    dh = np.ones((N, T, H), dtype=np.float32)  # d(sum h)/dh

    lstm = torch.nn.LSTM(F, H, batch_first=True)
    with torch.no_grad():
        for name, value in L.to_torch(params).items():
            getattr(lstm, name).copy_(torch.from_numpy(value))
    xt = torch.from_numpy(x.copy()).requires_grad_(True)

    def ours_train():
        _, cache = L.lstm_forward(x, params)
        L.lstm_backward(dh, cache)

    def ours_infer():
        L.lstm_forward(x, params, keep_cache=False)

    def torch_train():
        lstm.zero_grad(set_to_none=True)
        xt.grad = None
        out, _ = lstm(xt)
        out.sum().backward()

    def torch_infer():
        with torch.inference_mode():
            lstm(xt)

    return ours_train, ours_infer, torch_train, torch_infer, 2.0 * N * T * (F + H) * 4 * H


def _gru_case(T, F, H, N, rng):
    """GRU (reset gate after the matmul, PyTorch's convention) against ``torch.nn.GRU``."""
    import numpy as np
    import torch

    from tmva_lstm.nn import gru as G

    params = G.init_gru_params(F, H, rng, dtype=np.float32)
    params["b"][:] = rng.normal(0, 0.1, 3 * H)
    params["b_hn"] = rng.normal(0, 0.1, H).astype(np.float32)
    x = rng.normal(size=(N, T, F)).astype(np.float32)
    dh = np.ones((N, T, H), dtype=np.float32)

    gru = torch.nn.GRU(F, H, batch_first=True)
    with torch.no_grad():
        for name, value in G.to_torch(params).items():
            getattr(gru, name).copy_(torch.from_numpy(value))
    xt = torch.from_numpy(x.copy()).requires_grad_(True)

    def ours_train():
        _, cache = G.gru_forward(x, params, reset_after=True)
        G.gru_backward(dh, cache)

    def ours_infer():
        G.gru_forward(x, params, reset_after=True, keep_cache=False)

    def torch_train():
        gru.zero_grad(set_to_none=True)
        xt.grad = None
        out, _ = gru(xt)
        out.sum().backward()

    def torch_infer():
        with torch.inference_mode():
            gru(xt)

    return ours_train, ours_infer, torch_train, torch_infer, 2.0 * N * T * (F + H) * 3 * H


def _rnn_case(T, F, H, N, rng):
    """Plain tanh RNN against ``torch.nn.RNN``."""
    import numpy as np
    import torch

    from tmva_lstm.nn import rnn as R

    params = R.init_rnn_params(F, H, rng, dtype=np.float32)
    params["b"][:] = rng.normal(0, 0.1, H)
    x = rng.normal(size=(N, T, F)).astype(np.float32)
    dh = np.ones((N, T, H), dtype=np.float32)

    rnn = torch.nn.RNN(F, H, batch_first=True)
    with torch.no_grad():
        for name, value in R.to_torch(params).items():
            getattr(rnn, name).copy_(torch.from_numpy(value))
    xt = torch.from_numpy(x.copy()).requires_grad_(True)

    def ours_train():
        _, cache = R.rnn_forward(x, params)
        R.rnn_backward(dh, cache)

    def ours_infer():
        R.rnn_forward(x, params, keep_cache=False)

    def torch_train():
        rnn.zero_grad(set_to_none=True)
        xt.grad = None
        out, _ = rnn(xt)
        out.sum().backward()

    def torch_infer():
        with torch.inference_mode():
            rnn(xt)

    return ours_train, ours_infer, torch_train, torch_infer, 2.0 * N * T * (F + H) * H


# Layer kind -> case builder (T, F, H, N, rng).
CASES = {"LSTM": _lstm_case, "GRU": _gru_case, "RNN": _rnn_case}


def _time_shape(kind, T, F, H, N, rng, rounds, per_round, warmup):
    import numpy as np

    ours_train, ours_infer, torch_train, torch_infer, fwd_flop = CASES[kind](T, F, H, N, rng)
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


# --------------------------------------------------------------------------- one event


def _tutorial_model(rng):
    """The TMVA tutorial's network with random weights and a Normalise transform."""
    import numpy as np

    from tmva_lstm.model import InputTransform, Model
    from tmva_lstm.nn.network import Network
    from tmva_lstm.options import MethodOptions

    T, F = 10, 30
    net = Network.from_layout("LSTM|10,DENSE|64|TANH,LINEAR", T, F)
    params = net.init_params(rng, dtype=np.float32)
    sample = rng.normal(5, 3, size=(500, T, F)).astype(np.float32)
    names = [f"vars_time{t}[{k}]" for t in range(T) for k in range(F)]
    options = MethodOptions.from_string("InputLayout=10|30:VarTransform=N")
    return Model(net, params, options, names, InputTransform.fit("N", sample)), sample


def _best_us(fn, seconds: float = 0.3) -> float:
    """Microseconds per call: the fastest of 5 blocks of back-to-back calls."""
    fn()
    calls = max(10, int(seconds / 5 / max(_block(fn, 20), 1e-8)))
    return min(_block(fn, calls) for _ in range(5)) * 1e6


def _cpp_class_us(model, x, tmp: Path) -> float | None:
    """Per-call time of the standalone class, in a C++ loop (g++ -O2), or None without g++."""
    import shutil
    import subprocess

    from tmva_lstm.makeclass import make_class

    if shutil.which("g++") is None:
        return None
    cls = make_class(model, tmp / "Bench_PyLSTM.class.C", title="PyLSTM", job="Bench")
    names = ", ".join(f'"{n}"' for n in model.variable_names)
    values = ", ".join(repr(float(v)) for v in x.ravel())
    (tmp / "bench.cpp").write_text(
        f"""#include "{cls}"
#include <chrono>
#include <cstdio>
int main() {{
   std::vector<std::string> names = {{ {names} }};
   ReadPyLSTM reader(names);
   std::vector<double> v = {{ {values} }};
   double best = 1e9, sum = 0;
   for (int r = 0; r < 5; ++r) {{
      const int n = 20000;
      auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < n; ++i) {{ v[0] += 1e-9; sum += reader.GetMvaValue(v); }}
      std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
      if (dt.count() / n < best) best = dt.count() / n;
   }}
   std::printf("%.6g %.3g\\n", best * 1e6, sum);
}}
"""
    )
    exe = tmp / "bench.exe"
    subprocess.run(["g++", "-std=c++17", "-O2", "-o", str(exe), str(tmp / "bench.cpp")], check=True)
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    return float(out.split()[0])


def _reader_us(model, x, tmp: Path) -> tuple[float, float] | None:
    """``EvaluateMVA`` per call through the binding and the TMVA stand-in, timed in C++:
    ``(compiled class, Python per event)``, or None without ROOT."""
    import warnings

    try:
        with warnings.catch_warnings():  # the PyPI wheel's "alpha stage" notice
            warnings.filterwarnings("ignore", message=r"\s*This distribution of ROOT is in alpha")
            import ROOT
    except ImportError:
        return None
    from tmva_lstm.tmva import register

    standin = ROOT_DIR / "tests" / "standin" / "tmva_standin.h"
    # optimised, as a real libTMVA is (cling compiles declarations without it otherwise)
    if not ROOT.gInterpreter.Declare(f'#pragma cling optimize(2)\n#include "{standin}"'):
        return None
    register("tmva_standin")
    ROOT.gInterpreter.Declare(
        """
#pragma cling optimize(2)
#include <chrono>
double tmva_lstm_bench_evaluate(tmva_standin::Reader &r, const std::vector<float> &v, int n)
{
   double best = 1e9, sum = 0;
   for (int k = 0; k < 5; ++k) {
      auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < n; ++i) sum += r.EvaluateMVA(v, "Bench");
      std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
      if (dt.count() / n < best) best = dt.count() / n;
   }
   return sum > -1e300 ? best * 1e6 : 0;
}
"""
    )
    path = model.save(tmp / "Bench.weights.xml", title="Bench")
    results = []
    for compiled in (True, False):
        reader = ROOT.tmva_standin.Reader()
        for name in model.variable_names:  # TMVA's expression of an array element: the array
            reader.AddVariable(name.split("[", 1)[0])
        method = reader.BookMVA("Bench", str(path))
        method.UseResponse(compiled)
        v = ROOT.std.vector["float"](x.ravel().tolist())
        n = 20000 if compiled else 300
        results.append(float(ROOT.tmva_lstm_bench_evaluate(reader, v, n)))
    return results[0], results[1]


def single_event(quick: bool) -> None:
    """One event at a time: Model.predict, torch, the C++ class, EvaluateMVA via the stand-in."""
    import tempfile

    import numpy as np
    import torch

    rng = np.random.default_rng(1)
    model, sample = _tutorial_model(rng)
    x = sample[:1]  # (1, 10, 30)
    time.sleep(4 * PAUSE_S)  # the batched runs' thread pools (torch's, OpenBLAS's) go idle first
    ours = _best_us(lambda: model.predict(x))

    net = model.network
    lstm = torch.nn.LSTM(net.features, 10, batch_first=True)
    dense = torch.nn.Linear(10, 64)  # LSTM|10 (last state), DENSE|64|TANH, LINEAR
    out = torch.nn.Linear(64, 1)
    xt = torch.from_numpy(model.transform.apply(x))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)

    def torch_one():
        with torch.inference_mode():
            h, _ = lstm(xt)
            torch.sigmoid(out(torch.tanh(dense(h[:, -1]))))

    theirs = _best_us(torch_one)
    torch.set_num_threads(threads)
    print()
    print("one event (TMVA tutorial network, 10 x 30 inputs, float32), microseconds per call")
    print(f"{'':<44} {'us':>8} {'vs torch':>9}")
    print(f"{'torch.nn.LSTM + dense, inference_mode, 1 thread':<44} {theirs:>8.2f} {1.0:>9.2f}")
    print(f"{'Model.predict(one event)':<44} {ours:>8.2f} {ours / theirs:>9.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        cpp = _cpp_class_us(model, x, Path(tmp))
        if cpp is None:
            print("standalone C++ class: skipped (no g++)")
        else:
            print(
                f"{'standalone C++ class GetMvaValue (g++ -O2)':<44} {cpp:>8.2f} {cpp / theirs:>9.2f}"
            )
        reader = None if quick else _reader_us(model, x, Path(tmp))
        if reader is None:
            print("EvaluateMVA through the stand-in: skipped" + (" (--quick)" if quick else ""))
        else:
            compiled, python = reader
            label = "EvaluateMVA via stand-in, compiled class"
            print(f"{label:<44} {compiled:>8.2f} {compiled / theirs:>9.2f}")
            label = "EvaluateMVA via stand-in, Python per event"
            print(f"{label:<44} {python:>8.2f} {python / theirs:>9.2f}")


if __name__ == "__main__":
    raise SystemExit(main())
