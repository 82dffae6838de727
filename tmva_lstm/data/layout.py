"""How branches form sequences: :class:`SequenceLayout` (per-step, array, jagged)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from ..errors import (
    OptionError,
    close_matches,
)

__all__ = ["SequenceLayout"]


# --------------------------------------------------------------------------------------
# Layout spec
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SequenceLayout:
    """How the branches of a tree form ``(T, F)`` sequences.

    ``kind`` is ``"per-step"``, ``"array"`` or ``"jagged"``. ``branches`` holds the
    per-step pattern (one string with ``{t}`` or ``%d``), the one array branch, or the
    jagged branches (one per feature). ``steps`` is T: optional for per-step (inferred from
    the branches present), the maximum length for jagged (required), unused for array.
    ``time_axis`` (array only) says which axis of ``x[A][B]`` is time.
    """

    kind: str  # "per-step" | "array" | "jagged"
    branches: tuple[str, ...]  # pattern / array branch / jagged branches
    steps: int | None = None  # T; None = inferred (per-step), from the branch (array)
    time_axis: int = 0  # array only: 0 reads x[T][F], 1 reads x[F][T]

    KINDS: ClassVar[tuple[str, ...]] = ("per-step", "array", "jagged")
    _KEYS: ClassVar[dict[str, str]] = {"per-step": "T", "array": "time_axis", "jagged": "max"}

    def __post_init__(self) -> None:
        if isinstance(self.branches, str):
            object.__setattr__(self, "branches", (self.branches,))
        object.__setattr__(self, "branches", tuple(self.branches))
        if self.kind not in self.KINDS:
            raise OptionError(
                f"unknown sequence layout kind {self.kind!r}"
                f"{close_matches(self.kind, self.KINDS)}; valid kinds: {', '.join(self.KINDS)}"
            )
        if not self.branches or not all(isinstance(b, str) and b for b in self.branches):
            raise OptionError(f"layout {self.kind!r} needs at least one branch name")
        bad = [b for b in self.branches if any(c in b for c in ":, ")]
        if bad:
            raise OptionError(f"branch name {bad[0]!r} in the layout contains ':', ',' or ' '")
        if self.steps is not None and (
            isinstance(self.steps, bool) or not isinstance(self.steps, int) or self.steps < 1
        ):
            raise OptionError(f"layout steps must be a positive integer, not {self.steps!r}")
        if self.time_axis not in (0, 1) or isinstance(self.time_axis, bool):
            raise OptionError(f"time_axis must be 0 or 1, not {self.time_axis!r}")
        if self.time_axis and self.kind != "array":
            raise OptionError("time_axis applies to the 'array' layout only")
        if self.kind == "per-step":
            if len(self.branches) != 1:
                raise OptionError("the per-step layout takes one pattern, e.g. 'vars_time{t}'")
            if self.branches[0].count("{t}") + self.branches[0].count("%d") != 1:
                raise OptionError(
                    f"per-step pattern {self.branches[0]!r} needs exactly one '{{t}}' (or '%d') "
                    "where the time step goes, e.g. 'vars_time{t}'"
                )
        elif self.kind == "array":
            if len(self.branches) != 1:
                raise OptionError("the array layout takes one branch, e.g. 'array:x'")
            if self.steps is not None:
                raise OptionError("the array layout takes T from the branch; drop the step count")
        elif self.steps is None:
            raise OptionError(
                "the jagged layout needs a maximum length, e.g. 'jagged:trk_pt,trk_eta:max=20'"
            )

    @classmethod
    def per_step(cls, pattern: str, steps: int | None = None) -> SequenceLayout:
        """One branch per time step, ``pattern`` with ``{t}``; ``steps`` = T or inferred."""
        return cls("per-step", (pattern,), steps)

    @classmethod
    def array(cls, branch: str, time_axis: int = 0) -> SequenceLayout:
        """One fixed-size ``x[T][F]`` branch (``time_axis=1`` for ``x[F][T]``)."""
        return cls("array", (branch,), None, time_axis)

    @classmethod
    def jagged(cls, branches: Sequence[str], max_len: int) -> SequenceLayout:
        """Jagged per-object branches, one per feature, padded/truncated to ``max_len``."""
        return cls("jagged", tuple(branches), max_len)

    @classmethod
    def from_string(cls, s: str) -> SequenceLayout:
        """Parse ``per-step:P[:T=n]``, ``array:x[:time_axis=1]`` or ``jagged:a,b:max=n``."""
        if not isinstance(s, str) or ":" not in s:
            raise OptionError(
                f"layout {s!r} must read 'KIND:BRANCHES[:KEY=VALUE]', e.g. "
                "'per-step:vars_time{t}', 'array:x', 'jagged:trk_pt,trk_eta:max=20'"
            )
        kind, spec, *options = s.strip().split(":")
        kind = kind.strip().lower()
        if kind not in cls.KINDS:
            raise OptionError(
                f"unknown sequence layout kind {kind!r} in {s!r}"
                f"{close_matches(kind, cls.KINDS)}; valid kinds: {', '.join(cls.KINDS)}"
            )
        branches = tuple(b.strip() for b in spec.split(","))
        valid = cls._KEYS[kind]
        values: dict[str, int] = {}
        for opt in options:
            key, eq, value = opt.partition("=")
            key = key.strip()
            if key != valid:
                raise OptionError(
                    f"unknown option {key!r} in layout {s!r}; the {kind} layout takes {valid}=N"
                )
            if not eq or not value.strip().isdigit():
                raise OptionError(f"option {key!r} in layout {s!r} needs an integer, e.g. {key}=10")
            if key in values:
                raise OptionError(f"option {key!r} is given twice in layout {s!r}")
            values[key] = int(value)
        if kind == "array":
            return cls("array", branches, None, values.get("time_axis", 0))
        return cls(kind, branches, values.get(valid))

    def __str__(self) -> str:
        text = f"{self.kind}:{','.join(self.branches)}"
        if self.kind == "array":
            return text + (f":time_axis={self.time_axis}" if self.time_axis else "")
        if self.steps is not None:
            text += f":{self._KEYS[self.kind]}={self.steps}"
        return text

    def step_branch(self, t: int) -> str:
        """Per-step layout: the branch name of time step ``t``."""
        return self.branches[0].replace("{t}", str(t)).replace("%d", str(t))


def _as_layout(layout: SequenceLayout | str) -> SequenceLayout:
    if isinstance(layout, SequenceLayout):
        return layout
    if isinstance(layout, str):
        return SequenceLayout.from_string(layout)
    raise OptionError(f"layout must be a SequenceLayout or its string form, not {layout!r}")
