"""Cut, weight and class expressions: uproot's Python syntax or ROOT's TTreeFormula syntax.

An expression with TTreeFormula-only tokens (``&&``, ``||``, ``!``, ``$``, ``::``, ``^``) is
translated to Python with scikit-hep's ``formulate`` (``a > 1 && !b`` →
``((a > 1) & logical_not(b))``, ``TMath::Abs(x)`` → ``abs(x)``, ``x^2`` → ``x ** 2``);
anything else is taken as uproot takes it (``a > 1 and b < 2``, ``(a > 1) & (b < 2)``),
except that a constant index is an element of each event in both syntaxes (``x[1]``,
``x[0][2]``: ``x[:, 1]``, ``x[:, 0, 2]``), as TTree::Draw reads it.
TTreeFormula's per-event reductions over an array branch, ``Length$``, ``Sum$``, ``Max$`` and
``Min$``, are evaluated per event (0 for an event with no elements, as ROOT), and ``x[i]`` is
element i of each event (``x[:, i]`` in uproot's syntax). Element-wise arithmetic on
variable-length (jagged) branches is not available in NumPy form: such a cut raises.
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import OptionError

__all__ = ["to_python", "language"]

_TTREEFORMULA = re.compile(r"&&|\|\||!(?!=)|\$|::|\^")
_SYNTAXES = (
    "a Python expression as uproot takes it ('nTrk > 2 and abs(eta) < 2.5') or TTreeFormula "
    "syntax as TTree::Draw takes it ('nTrk > 2 && TMath::Abs(eta) < 2.5')"
)


def _matching(text: str, start: int) -> int:
    """Index of the parenthesis closing the one at ``start``."""
    depth = 0
    for i in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return i
    raise OptionError(f"unbalanced parentheses in '{text}'")


def _lengths_out(text: str) -> tuple[str, dict[str, str]]:
    """``Length$(E)`` → a placeholder name (formulate has no Python Length$): (text, {name: E})."""
    found: dict[str, str] = {}
    while (m := re.search(r"Length\$\s*\(", text)) is not None:
        close = _matching(text, m.end() - 1)
        name = f"tmvalstmlength{len(found)}"
        found[name] = text[m.end() : close]
        text = f"{text[: m.start()]}{name}{text[close + 1 :]}"
    return text, found


def is_ttreeformula(expr: str) -> bool:
    return bool(_TTREEFORMULA.search(expr))


#: ``name[i]``, ``name[i][j]``, ``name[i, j]`` with integer literals: an element of each event
_CONSTANT_INDEX = re.compile(r"(\b[A-Za-z_]\w*)((?:\[\s*-?\d+\s*(?:,\s*-?\d+\s*)*\])+)")
_INTEGER = re.compile(r"-?\d+")


def _elements_per_event(expr: str) -> str:
    """``x[1]`` → ``x[:, 1]``, ``x[0][2]`` → ``x[:, 0, 2]``: in Python syntax a constant index
    would pick one *event* (never one value per event, so such an expression could only fail or,
    with as many events as elements, mislead); TTree::Draw's meaning, an element of each event,
    is the only useful one."""

    def per_event(m: re.Match) -> str:
        indices = ", ".join(_INTEGER.findall(m.group(2)))
        return f"{m.group(1)}[:, {indices}]"

    return _CONSTANT_INDEX.sub(per_event, expr)


def to_python(expr: str, what: str) -> str:
    """The expression uproot evaluates (with :func:`language`) for the user's ``expr``."""
    if not is_ttreeformula(expr):
        return _elements_per_event(expr)
    import formulate

    try:
        text, lengths = _lengths_out(expr)
        python = _python(formulate.from_root(text).to_python())
        for name, inner in lengths.items():
            inner_python = _python(formulate.from_root(inner).to_python())
            python = re.sub(rf"\b{name}\b", f"per_event_len({inner_python})", python)
    except OptionError:
        raise
    except Exception as err:  # formulate raises its parser's own exception classes
        detail = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise OptionError(
            f"{what} '{expr}' does not parse as TTreeFormula ({detail}); write {_SYNTAXES}"
        ) from None
    return python


def _python(python: str) -> str:
    """formulate's NumPy spelling → uproot's names; ``x[i, j]`` (per event) → ``x[:, i, j]``."""
    python = re.sub(r"\bnp\.(sum|max|min)\(", r"per_event_\1(", python)
    python = re.sub(r"\bnp\.", "", python)
    return re.sub(r"(\b[A-Za-z_]\w*)\[(?!:)", r"\1[:, ", python)


def _per_event(reduce, name: str):
    def fn(x):
        if isinstance(x, np.ndarray) and x.dtype == object:  # jagged, as library="np" gives it
            return np.array([reduce(np.asarray(e)) if len(e) else 0 for e in x])
        x = np.asarray(x)
        if x.ndim <= 1:  # a scalar per event: the reduction of one value
            return np.ones(len(x), dtype=np.int64) if reduce is np.size else x
        flat = x.reshape(len(x), -1)
        return reduce(flat, axis=1) if flat.shape[1] else np.zeros(len(x))

    fn.__name__ = name
    return fn


_LANGUAGE = None


def language():
    """uproot's Python language with the functions translated TTreeFormula needs."""
    global _LANGUAGE
    if _LANGUAGE is None:
        from uproot.language.python import PythonLanguage, python_language

        extra = {
            "logical_not": np.logical_not,
            "logical_and": np.logical_and,
            "logical_or": np.logical_or,
            "per_event_len": _per_event(np.size, "per_event_len"),
            "per_event_sum": _per_event(np.sum, "per_event_sum"),
            "per_event_max": _per_event(np.max, "per_event_max"),
            "per_event_min": _per_event(np.min, "per_event_min"),
        }
        _LANGUAGE = PythonLanguage(functions={**python_language.functions, **extra})
    return _LANGUAGE


def syntaxes() -> str:
    return _SYNTAXES
