"""README.md's examples, run as written, so the README cannot drift from the program.

Every ```python block runs in a fresh interpreter from a temporary folder that holds the
repository's ``data/`` (so relative paths work as from the repository root and whatever the
example writes lands in the temporary folder). Every ``tmva-lstm ...`` command line shown in
a code block is parsed by the command's own argument parser (commands, flags and choices),
without running it. TMVA-only fragments are fenced ```text or ```cpp and are not run here.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^( *)```(\w*)\n(.*?)^\1```", re.S | re.M)


def blocks(lang: str | None) -> list[str]:
    """Code blocks of the README (``lang=None``: every block), dedented."""
    return [
        textwrap.dedent(m.group(3))
        for m in FENCE.finditer(README)
        if lang is None or m.group(2) == lang
    ]


PYTHON = blocks("python")

# Checks run after a block, in the same interpreter: the result, not only "it ran".
AFTER = {
    "tl.load(": """
from tmva_lstm.evaluate import roc_integral
roc = roc_integral(scores, data.y)
assert roc > 0.68, f"the README's model is not trained: ROC integral {roc:.3f}"
assert model.history.best_epoch > 1 and len(model.history.epoch) == 10
""",
}


# Not the examples' doing: the virtual environment, caches (numba writes its compiled kernels
# into __pycache__ on first use, whichever process that is), tool state.
_NOT_OURS = {".git", ".venv", "__pycache__", ".hypothesis", ".pytest_cache", ".ruff_cache"}


def _tree(path: Path) -> set[str]:
    files = set()
    for root, dirs, names in os.walk(path):
        dirs[:] = [d for d in dirs if d not in _NOT_OURS]
        files.update((Path(root) / n).relative_to(path).as_posix() for n in names)
    return files


@pytest.mark.parametrize("index", range(len(PYTHON)))
def test_python_block_runs_as_written(index, tmp_path):
    code = PYTHON[index]
    check = "".join(v for k, v in AFTER.items() if k in code)
    (tmp_path / "data").symlink_to(REPO / "data", target_is_directory=True)
    before = _tree(REPO)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", code + "\n" + check], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0, f"README python block {index} failed:\n{code}\n{proc.stderr}"
    assert _tree(REPO) == before, "a README example wrote into the repository"


def test_the_api_example_is_checked():
    assert any("tl.load(" in code for code in PYTHON), "the README lost its API example"


def _command_lines() -> list[str]:
    lines = []
    for block in blocks(None):
        text = re.sub(r"\\\n\s*", " ", block)  # join continued lines
        for line in text.splitlines():
            line = line.split(" # ")[0].strip()
            if line.startswith("tmva-lstm "):
                lines.append(line)
    return lines


@pytest.mark.parametrize("line", _command_lines())
def test_command_lines_parse(line):
    """Each command line the README shows is accepted by the parser (optional parts in [])."""
    from tmva_lstm.cli import build_parser

    text = re.sub(r"\[[^\]]*\]", "", line).replace("...", "")
    argv = shlex.split(text)[1:]
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as err:
        raise AssertionError(f"the README's command line does not parse: {line}") from err
    assert args.command == argv[0]


def test_the_readme_shows_the_commands():
    shown = {line.split()[1] for line in _command_lines()}
    assert {"train", "evaluate", "apply", "export-onnx", "demo"} <= shown
