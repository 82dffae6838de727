"""Per-tree reading plan (which branches, what shapes) and the conversion of branch
arrays into ``(N, T, F)`` sequences."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import (
    BranchNotFoundError,
    DataError,
    NonFiniteInputError,
    close_matches,
)
from .layout import SequenceLayout

__all__: list[str] = []

# --------------------------------------------------------------------------------------
# Per-tree reading plan
# --------------------------------------------------------------------------------------


@dataclass
class _Branch:
    name: str
    jagged: bool  # AsJagged (std::vector, float[n]); else fixed (AsDtype)
    shape: tuple[int, ...]  # per-event shape of a fixed branch
    in_place: bool = False  # plain AsDtype: uproot can decompress it straight into X


@dataclass
class _Plan:
    """How to turn one tree's branches into (T, F): fixed per tree, checked across trees."""

    layout: SequenceLayout
    where: str  # "file.root:tree"
    branches: list[_Branch]
    T: int
    F: int | None  # None: per-step std::vector branches, F comes from the data

    @property
    def names(self) -> list[str]:
        return [b.name for b in self.branches]

    @property
    def library(self) -> str:
        return "ak" if any(b.jagged for b in self.branches) else "np"

    @property
    def in_place(self) -> bool:
        return self.layout.kind != "jagged" and all(b.in_place for b in self.branches)

    def fill_views(self, X: np.ndarray) -> list[np.ndarray]:
        """Views of X ``(n, T, F)`` that each branch's values go to, in branch order."""
        if self.layout.kind == "per-step":
            return [
                X[:, t, 0] if b.shape == () else X[:, t, :] for t, b in enumerate(self.branches)
            ]
        if len(self.branches[0].shape) == 1:
            return [X[:, :, 0]]  # x[T]
        return [X.transpose(0, 2, 1) if self.layout.time_axis else X]

    def variable_names(self, F: int) -> list[str]:
        layout, T = self.layout, self.T
        if layout.kind == "per-step":
            scalar = [b.shape == () and not b.jagged for b in self.branches]
            return [
                self.branches[j].name if scalar[j] else f"{self.branches[j].name}[{k}]"
                for j in range(T)
                for k in range(F)
            ]
        if layout.kind == "array":
            x = self.branches[0].name
            if len(self.branches[0].shape) == 1:
                return [f"{x}[{j}]" for j in range(T)]
            if layout.time_axis == 0:
                return [f"{x}[{j}][{k}]" for j in range(T) for k in range(F)]
            return [f"{x}[{k}][{j}]" for j in range(T) for k in range(F)]
        return [f"{b.name}[{j}]" for j in range(T) for b in self.branches]


def _branch_info(tree: Any, name: str, where: str) -> _Branch:
    import uproot

    interp = tree[name].interpretation
    numeric = (
        uproot.interpretation.numerical.AsDtype,
        uproot.interpretation.numerical.TruncatedNumerical,
    )
    jagged = isinstance(interp, uproot.interpretation.jagged.AsJagged)
    inner = interp.content if jagged else interp
    if isinstance(inner, numeric):
        dtype = np.dtype(inner.to_dtype)
        if dtype.names is None and dtype.base.kind in "biuf":
            if jagged and dtype.shape != ():
                pass  # vector of arrays: not a sequence of numbers, refused below
            else:
                shape = () if jagged else tuple(dtype.shape)
                exact = type(interp) is uproot.interpretation.numerical.AsDtype
                return _Branch(name, jagged, shape, in_place=exact)
    typename = tree[name].typename
    raise DataError(
        f"branch '{name}' in '{where}' has type {typename}; sequence layouts need numbers "
        "(float, double, int), fixed-size arrays or std::vector of them"
    )


def _missing_branch(name: str, tree: Any, where: str, hint: str = "") -> BranchNotFoundError:
    return BranchNotFoundError(
        f"no branch '{name}' in '{where}'{close_matches(name, tree.keys())}{hint}"
    )


def _make_plan(tree: Any, layout: SequenceLayout, where: str) -> _Plan:
    keys = set(tree.keys())
    if layout.kind == "per-step":
        return _per_step_plan(tree, layout, where, keys)
    if layout.kind == "array":
        name = layout.branches[0]
        if name not in keys:
            raise _missing_branch(name, tree, where)
        b = _branch_info(tree, name, where)
        if b.jagged:
            raise DataError(
                f"branch '{name}' in '{where}' is variable-length ({tree[name].typename}), but "
                f"the layout 'array:{name}' needs a fixed-size x[T][F]; use "
                f"'jagged:{name}:max=N' or 'per-step:...'"
            )
        if len(b.shape) not in (1, 2) or (len(b.shape) == 1 and layout.time_axis):
            raise DataError(
                f"branch '{name}' in '{where}' is {tree[name].typename}; the layout "
                f"'{layout}' needs a two-dimensional x[T][F] (or x[T]) array"
            )
        if len(b.shape) == 1:
            return _Plan(layout, where, [b], b.shape[0], 1)
        T, F = b.shape if layout.time_axis == 0 else b.shape[::-1]
        return _Plan(layout, where, [b], T, F)
    # jagged
    branches = []
    for name in layout.branches:
        if name not in keys:
            raise _missing_branch(name, tree, where)
        b = _branch_info(tree, name, where)
        if not b.jagged:
            raise DataError(
                f"branch '{name}' in '{where}' has a fixed size ({tree[name].typename}), but the "
                f"jagged layout needs variable-length branches; use 'array:{name}' or "
                "'per-step:...'"
            )
        branches.append(b)
    return _Plan(layout, where, branches, layout.steps, len(branches))


def _per_step_plan(tree: Any, layout: SequenceLayout, where: str, keys: set[str]) -> _Plan:
    pattern = layout.branches[0]
    placeholder = "{t}" if "{t}" in pattern else "%d"
    prefix, suffix = pattern.split(placeholder)
    regex = re.compile(re.escape(prefix) + r"(0|[1-9][0-9]*)" + re.escape(suffix))
    found = {int(m.group(1)) for k in keys if (m := regex.fullmatch(k))}
    if not found:
        raise _missing_branch(
            layout.step_branch(0), tree, where, f"; no branch matches the pattern '{pattern}'"
        )
    T = layout.steps if layout.steps is not None else max(found) + 1
    missing = [t for t in range(T) if t not in found]
    if missing:
        have = ", ".join(str(t) for t in sorted(found)[:12])
        raise DataError(
            f"time step {missing[0]} of '{pattern}' is missing in '{where}': no branch "
            f"'{layout.step_branch(missing[0])}' (steps found: {have}); add the branch or set "
            f"T={missing[0]} to use the steps before it"
        )
    branches = [_branch_info(tree, layout.step_branch(t), where) for t in range(T)]
    fixed = [b for b in branches if not b.jagged]
    for b in fixed:
        if len(b.shape) > 1:
            raise DataError(
                f"branch '{b.name}' in '{where}' is {tree[b.name].typename}; a per-step branch "
                "holds one value or a one-dimensional array per event; use 'array:...' for x[T][F]"
            )
    sizes = {b.name: (b.shape[0] if b.shape else 1) for b in fixed}
    if len(set(sizes.values())) > 1:
        (n1, s1), (n2, s2) = _two_different(sizes)
        raise DataError(
            f"per-step branches differ in length in '{where}': '{n1}' has {s1} values, "
            f"'{n2}' has {s2}; every time step needs the same features"
        )
    # std::vector branches get their F from the data, checked against the fixed ones if any
    F = next(iter(sizes.values())) if sizes else None
    return _Plan(layout, where, branches, T, F)


def _two_different(sizes: dict[str, int]) -> tuple[tuple[str, int], tuple[str, int]]:
    items = list(sizes.items())
    first = items[0]
    other = next(item for item in items if item[1] != first[1])
    return first, other


# --------------------------------------------------------------------------------------
# Chunk conversion
# --------------------------------------------------------------------------------------


def _to_sequences(
    plan: _Plan,
    arrays: Mapping[str, Any],
    n: int,
    dtype: np.dtype,
    entries: np.ndarray,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, int]:
    """Branch arrays of one chunk → X (n, T, F), mask, lengths (jagged only), F.

    ``out``, when given, is the ``(n, T, F)`` block X is written into (zero-filled for the
    jagged layout): :func:`load` fills its result in place instead of joining chunks.
    """
    if plan.layout.kind == "array":
        return _array_sequences(plan, arrays, n, dtype, out)
    if plan.layout.kind == "per-step":
        return _per_step_sequences(plan, arrays, n, dtype, entries, out)
    return _jagged_sequences(plan, arrays, n, dtype, entries, out)


def _alloc(out: np.ndarray | None, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    if out is None:
        return np.empty(shape, dtype=dtype)
    assert out.shape == shape, (out.shape, shape)
    return out


def _array_sequences(
    plan: _Plan, arrays: Mapping[str, Any], n: int, dtype: np.dtype, out: np.ndarray | None
) -> tuple[np.ndarray, None, None, int]:
    a = np.asarray(arrays[plan.branches[0].name])
    if a.ndim == 2:
        a = a[:, :, None]  # x[T] -> (n, T, 1)
    elif plan.layout.time_axis == 1:
        a = a.transpose(0, 2, 1)  # (n, F, T) -> (n, T, F)
    if out is None and a.dtype == dtype and a.flags.c_contiguous:
        return a, None, None, plan.F  # uproot's own buffer, no copy
    X = _alloc(out, (n, plan.T, plan.F), dtype)  # (N, T, F)
    X[...] = a
    return X, None, None, plan.F


def _per_step_sequences(
    plan: _Plan,
    arrays: Mapping[str, Any],
    n: int,
    dtype: np.dtype,
    entries: np.ndarray,
    out: np.ndarray | None,
) -> tuple[np.ndarray, None, None, int]:
    import awkward as ak

    F = plan.F
    columns: list[np.ndarray] = []
    for b in plan.branches:
        a = arrays[b.name]
        if b.jagged:
            counts = np.asarray(ak.num(a, axis=1))
            if F is None:
                F = int(counts[0])  # the first step's length; chunks are never empty
            bad = np.flatnonzero(counts != F)
            if bad.size:
                raise DataError(
                    f"branch '{b.name}' in '{plan.where}' has {counts[bad[0]]} values at entry "
                    f"{entries[bad[0]]} but {F} elsewhere; the per-step layout needs the same "
                    f"number of features at every step and event (use 'jagged:...' for "
                    "variable-length sequences)"
                )
            a = np.asarray(ak.flatten(a, axis=1)).reshape(n, F)
        else:
            a = np.asarray(a)
            if a.ndim == 1:
                a = a[:, None]  # scalar branch: F = 1
        columns.append(a)
    X = _alloc(out, (n, plan.T, F), dtype)  # (N, T, F)
    for t, a in enumerate(columns):
        X[:, t, :] = a  # (N, F)
    return X, None, None, F


def _jagged_sequences(
    plan: _Plan,
    arrays: Mapping[str, Any],
    n: int,
    dtype: np.dtype,
    entries: np.ndarray,
    out: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    import awkward as ak

    T, F = plan.T, plan.F
    X = np.zeros((n, T, F), dtype=dtype) if out is None else out  # (N, T, F), zero padding
    counts0 = None
    for k, b in enumerate(plan.branches):
        a = arrays[b.name]
        counts = np.asarray(ak.num(a, axis=1), dtype=np.int64)
        if counts0 is None:
            counts0, first = counts, b.name
        elif not np.array_equal(counts, counts0):
            i = int(np.flatnonzero(counts != counts0)[0])
            raise DataError(
                f"jagged branches '{first}' and '{b.name}' in '{plan.where}' differ in length at "
                f"entry {entries[i]} ({counts0[i]} vs {counts[i]} objects); the branches of one "
                "jagged layout must describe the same objects"
            )
        X[:, :, k] = ak.to_numpy(ak.fill_none(ak.pad_none(a, T, axis=1, clip=True), 0))  # (N, T)
    lengths = np.minimum(counts0, T) if counts0 is not None else np.zeros(n, np.int64)
    mask = np.arange(T) < lengths[:, None]  # (N, T)
    return X, mask, lengths, F


def _per_event(value: Any, n: int, what: str, expr: str, where: str) -> np.ndarray:
    """An expression's value → one number per event, or DataError naming the expression."""
    if np.ndim(value) == 0:
        value = np.full(n, value)
    value = np.asarray(value)
    if value.dtype == object:
        raise DataError(
            f"{what} '{expr}' gives a variable number of values per event in '{where}'; it "
            "must give one value per event"
        )
    if value.shape != (n,):
        raise DataError(
            f"{what} '{expr}' gives {value.shape[1:]} values per event in '{where}'; it must "
            "give one value per event (e.g. pick an element of each event: x[0])"
        )
    if value.dtype.kind not in "biuf":
        raise DataError(
            f"{what} '{expr}' gives {value.dtype} values in '{where}'; it must "
            "give numbers or booleans"
        )
    return value


def _check_finite(X: np.ndarray, names: list[str], entries: np.ndarray, where: str) -> None:
    if np.isfinite(X.sum(dtype=np.float64)):
        return
    bad = np.argwhere(~np.isfinite(X))
    if bad.size == 0:
        return
    i, t, k = (int(v) for v in bad[0])
    name = names[t * X.shape[2] + k]
    raise NonFiniteInputError(
        f"input '{name}' is {X[i, t, k]} at entry {entries[i]} of '{where}' "
        f"({len(np.unique(bad[:, 0]))} events affected); drop them with NonFinite=DROP "
        "(non_finite='drop'), remove them with a cut, or fix the ntuple"
    )
