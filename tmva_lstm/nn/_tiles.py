"""Small float32 GEMMs for the compiled recurrent kernels: register tiles written in LLVM IR.

A recurrent step multiplies a few dozen rows by a weight matrix: ``(32, 49) @ (49, 128)`` on
the many-step benchmark shape. OpenBLAS packs both operands on every such call and reaches
30-45 GFLOP/s on them on the 2-core machine of ``bench/``; these tiles need no packing and reach
65-85 there. Each tile computes an ``R x W`` block of ``C`` (``R`` rows of 1 to 6, ``W`` 16 or
8 columns) as ``W / 8`` vectors of 8 floats per row, kept in registers over the whole sum:
per ``k`` one vector load of ``B`` for each 8 columns, one broadcast of ``A`` per row, and a
fused multiply-add per vector (``llvm.fmuladd``: one rounding where the CPU has FMA).

The IR is compiled once per process by llvmlite (numba's own code generator, a dependency
already) for the host CPU, and the tiles are registered as symbols that numba's compiled code
calls by name, as it calls SciPy's BLAS (so numba can cache those functions on disk).
:func:`gemm` cuts a product into tiles and hands to SciPy's BLAS what they do not cover:
the last columns beyond a multiple of 8, float64, large products (above ``BIG``) and other
``beta`` than 0 or 1.

Numbers: each element of ``C`` is the sum over ``k`` in order, one fused multiply-add per
term, then ``beta C`` added (``beta`` is 0 or 1 here): BLAS sums in another order, so results
differ from it at float rounding (about 1e-7 relative for these sums).
"""

from __future__ import annotations

import llvmlite.binding as llvm
from numba import njit, types

from ._blas import _gemm, _jit

__all__ = ["gemm", "ROWS", "TILES_AVAILABLE"]

ROWS = 6  # rows of the main tile (6 x 16: 12 vector accumulators, 2 loads, 1 broadcast)
BIG = 20_000_000  # m n k beyond which BLAS's packed blocks are as fast or faster (measured)
SLAB = 24 * 1024  # bytes of A per slab of rows: within a 32 KiB L1 data cache


def _tile_ir(R: int) -> str:
    """``tl_tile_<R>(A, sai, sak, B, ldb, C, ldc, k, acc, wide)``: ``C[r, j] (+)= sum_kk
    A[r sai + kk sak] B[kk ldb + j]`` for ``r < R`` and ``j`` < 16 (``wide`` != 0) or < 8;
    ``acc`` != 0 adds to ``C``. One loop per width, chosen before the loop."""
    L = [
        f"define void @tl_tile_{R}(float* noalias %A, i64 %sai, i64 %sak, float* noalias %B, "
        "i64 %ldb, float* noalias %C, i64 %ldc, i64 %k, i64 %acc, i64 %wide) nounwind {",
        "entry:",
    ]
    for r in range(R):
        L += [
            f"  %ai{r} = mul i64 %sai, {r}",
            f"  %ap{r} = getelementptr float, float* %A, i64 %ai{r}",
        ]
    L += ["  %w = icmp ne i64 %wide, 0", "  br i1 %w, label %w2loop, label %w1loop"]
    return "\n".join(L + _loop_ir(R, 2) + _loop_ir(R, 1) + ["}"])


def _loop_ir(R: int, V: int) -> list[str]:
    """The blocks of the ``8 V``-column loop of :func:`_tile_ir` (names prefixed ``w<V>``)."""
    p, vec = f"w{V}", "<8 x float>"
    L = [f"{p}loop:", f"  %{p}kk = phi i64 [0, %entry], [%{p}kk1, %{p}loop]"]
    for r in range(R):
        for h in range(V):
            L.append(
                f"  %{p}c{r}_{h} = phi {vec} [zeroinitializer, %entry], [%{p}n{r}_{h}, %{p}loop]"
            )
    L += [
        f"  %{p}boff = mul i64 %{p}kk, %ldb",
        f"  %{p}bp = getelementptr float, float* %B, i64 %{p}boff",
    ]
    for h in range(V):
        L += _vector_at(f"{p}bv{h}", f"{p}bp", 8 * h)
        L.append(f"  %{p}b{h} = load {vec}, {vec}* %{p}bv{h}, align 4")
    L.append(f"  %{p}aoff = mul i64 %{p}kk, %sak")
    for r in range(R):
        L += [
            f"  %{p}apk{r} = getelementptr float, float* %ap{r}, i64 %{p}aoff",
            f"  %{p}x{r} = load float, float* %{p}apk{r}, align 4",
            f"  %{p}v{r} = insertelement {vec} undef, float %{p}x{r}, i32 0",
            f"  %{p}s{r} = shufflevector {vec} %{p}v{r}, {vec} undef, <8 x i32> zeroinitializer",
        ]
        for h in range(V):
            L.append(
                f"  %{p}n{r}_{h} = call {vec} @llvm.fmuladd.v8f32({vec} %{p}s{r}, "
                f"{vec} %{p}b{h}, {vec} %{p}c{r}_{h})"
            )
    L += [
        f"  %{p}kk1 = add i64 %{p}kk, 1",
        f"  %{p}done = icmp sge i64 %{p}kk1, %k",
        f"  br i1 %{p}done, label %{p}store, label %{p}loop",
        f"{p}store:",
        f"  %{p}isacc = icmp ne i64 %acc, 0",
    ]
    for r in range(R):
        L += [
            f"  %{p}co{r} = mul i64 %ldc, {r}",
            f"  %{p}cr{r} = getelementptr float, float* %C, i64 %{p}co{r}",
        ]
        for h in range(V):
            q = f"{p}{r}_{h}"
            L += _vector_at(f"cv{q}", f"{p}cr{r}", 8 * h)
            L += [
                f"  %old{q} = load {vec}, {vec}* %cv{q}, align 4",
                f"  %sum{q} = fadd {vec} %old{q}, %{p}n{r}_{h}",
                f"  %out{q} = select i1 %{p}isacc, {vec} %sum{q}, {vec} %{p}n{r}_{h}",
                f"  store {vec} %out{q}, {vec}* %cv{q}, align 4",
            ]
    return L + ["  ret void"]


def _vector_at(name: str, base: str, offset: int) -> list[str]:
    """IR: ``%<name>``, a pointer to the 8 floats ``offset`` floats after ``%<base>``."""
    return [
        f"  %{name}f = getelementptr float, float* %{base}, i64 {offset}",
        f"  %{name} = bitcast float* %{name}f to <8 x float>*",
    ]


def _compile() -> tuple[object, bool]:
    """Compile every tile for the host CPU and register its symbol; (engine, success)."""
    try:
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        target = llvm.Target.from_default_triple()
        machine = target.create_target_machine(
            cpu=llvm.get_host_cpu_name(), features=llvm.get_host_cpu_features().flatten(), opt=3
        )
        source = "\n".join(
            ["declare <8 x float> @llvm.fmuladd.v8f32(<8 x float>, <8 x float>, <8 x float>)"]
            + [_tile_ir(R) for R in range(1, ROWS + 1)]
        )
        module = llvm.parse_assembly(source)
        module.verify()
        engine = llvm.create_mcjit_compiler(module, machine)
        engine.finalize_object()
        for R in range(1, ROWS + 1):
            llvm.add_symbol(f"tl_tile_{R}", engine.get_function_address(f"tl_tile_{R}"))
    except Exception:  # noqa: BLE001 - any failure: SciPy's BLAS does every product
        return None, False
    return engine, True


_ENGINE, TILES_AVAILABLE = _compile()  # the engine owns the code: kept for the process

# pointers as integers (the C calling convention passes both alike): offsets are then plain sums
_SIG = types.void(*([types.intp] * 10))
_t1, _t2, _t3, _t4, _t5, _t6 = (
    types.ExternalFunction(f"tl_tile_{R}", _SIG) for R in range(1, ROWS + 1)
)


@njit(inline="always")
def _tile(R, W, A, sai, sak, B, ldb, C, ldc, k, acc):  # pragma: no cover - compiled
    """One ``R x W`` tile (``W`` 16 or 8); ``A``, ``B``, ``C`` point to its first elements."""
    wide = 1 if W == 16 else 0
    if R == 6:
        _t6(A, sai, sak, B, ldb, C, ldc, k, acc, wide)
    elif R == 5:
        _t5(A, sai, sak, B, ldb, C, ldc, k, acc, wide)
    elif R == 4:
        _t4(A, sai, sak, B, ldb, C, ldc, k, acc, wide)
    elif R == 3:
        _t3(A, sai, sak, B, ldb, C, ldc, k, acc, wide)
    elif R == 2:
        _t2(A, sai, sak, B, ldb, C, ldc, k, acc, wide)
    else:
        _t1(A, sai, sak, B, ldb, C, ldc, k, acc, wide)


@njit(inline="always")
def _panel(W, m, pa, sai, sak, pb, ldb, pc, ldc, k, acc):  # pragma: no cover - compiled
    """Rows ``0:m`` of one ``W``-column panel: tiles of ``ROWS`` rows, then the rest."""
    i = 0
    while i + ROWS <= m:
        _tile(ROWS, W, pa + 4 * i * sai, sai, sak, pb, ldb, pc + 4 * i * ldc, ldc, k, acc)
        i += ROWS
    if i < m:
        _tile(m - i, W, pa + 4 * i * sai, sai, sak, pb, ldb, pc + 4 * i * ldc, ldc, k, acc)


@_jit
def gemm(ta, m, n, k, A, lda, B, ldb, beta, C, ldc):  # pragma: no cover - compiled
    """Row-major ``C (m, n) = op(A) (m, k) @ B (k, n) + beta C``; ``op``
    transposes when ``ta``. ``A``, ``B``, ``C`` are views starting at the first element, rows
    ``lda``/``ldb``/``ldc`` elements apart (the arguments of ``_blas._gemm`` with ``tb`` False).
    float32 with ``beta`` 0 or 1 goes to the tiles (columns beyond the last multiple of 8 to
    BLAS); float64, other ``beta`` and products of more than ``BIG`` multiply-adds to BLAS.

    Rows go in slabs whose part of ``A`` fits the L1 cache (``SLAB`` bytes); within a slab,
    panel by panel of 16 columns, so each panel of ``B`` is read once per slab.
    """
    small = 0 < m and 8 <= n and 0 < k and m * n * k <= BIG and (beta == 0 or beta == 1)
    if not (TILES_AVAILABLE and C.itemsize == 4 and small):
        _gemm(ta, False, m, n, k, A, lda, B, ldb, beta, C, ldc)
        return
    sai, sak = (1, lda) if ta else (lda, 1)
    acc = 0 if beta == 0 else 1
    pa, pb, pc = A.ctypes.data, B.ctypes.data, C.ctypes.data
    n16, n8 = n - n % 16, n - n % 8
    slab = ROWS * max(1, SLAB // (ROWS * k * 4))
    for i0 in range(0, m, slab):
        rows = min(slab, m - i0)
        a0, c0 = pa + 4 * i0 * sai, pc + 4 * i0 * ldc
        for p in range(0, n16, 16):
            _panel(16, rows, a0, sai, sak, pb + 4 * p, ldb, c0 + 4 * p, ldc, k, acc)
        if n16 < n8:
            _panel(8, rows, a0, sai, sak, pb + 4 * n16, ldb, c0 + 4 * n16, ldc, k, acc)
    if n8 < n:
        _gemm(ta, False, m, n - n8, k, A, lda, B[:, n8:], ldb, beta, C[:, n8:], ldc)
