"""Sources (``file.root:tree``, globs, dicts, lists) resolved to trees, opened with checks."""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import (
    InputFileError,
    OptionError,
    TreeNotFoundError,
    close_matches,
)

__all__ = ["Source"]


Source = str | os.PathLike | Mapping[Any, Any] | Sequence[Any]  # uproot's forms

_TREE_CLASSES = ("TTree", "TNtuple", "TNtupleD")

_GLOB_CHARS = re.compile(r"[*?\[]")

# uproot's rule for "file.root:object" (uproot._util._object_in_path_regex).
_OBJECT_IN_PATH = re.compile(r"(.+\.root(\.[0-9]+)?):(.*$)", re.IGNORECASE)

# --------------------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _TreeRef:
    path: str
    tree: str | None  # None: the file's only TTree

    def __str__(self) -> str:
        return f"{self.path}:{self.tree}" if self.tree else self.path


def _is_remote(path: str) -> bool:
    return "://" in path and not path.lower().startswith(("file:", "local:"))


def _expand(path: str, tree: str | None) -> list[_TreeRef]:
    if _is_remote(path):
        return [_TreeRef(path, tree)]
    expanded = os.path.expanduser(path)
    if _GLOB_CHARS.search(expanded) and not os.path.exists(expanded):
        matches = sorted(glob.glob(expanded))
        if not matches:
            raise InputFileError(
                f"no file matches the pattern '{path}'; check the folder and the pattern"
            )
        return [_TreeRef(m, tree) for m in matches]
    return [_TreeRef(expanded, tree)]


def _resolve_sources(sources: Source) -> list[_TreeRef]:
    """uproot's source forms → a list of (file, tree) references, globs expanded."""
    refs: list[_TreeRef] = []
    if isinstance(sources, os.PathLike):
        refs += _expand(os.fspath(sources), None)
    elif isinstance(sources, str):
        m = _OBJECT_IN_PATH.match(sources.strip())
        if m:
            tree = re.sub(r"/+", "/", m.group(3).strip().lstrip("/")).rstrip("/") or None
            refs += _expand(m.group(1), tree)
        else:
            refs += _expand(sources.strip(), None)
    elif isinstance(sources, Mapping):
        for path, tree in sources.items():
            if tree is not None and not isinstance(tree, str):
                raise OptionError(f"tree name for '{path}' must be a string, not {tree!r}")
            refs += _expand(os.fspath(path), tree or None)
    elif isinstance(sources, Sequence) and not isinstance(sources, (bytes, bytearray)):
        for s in sources:
            refs += _resolve_sources(s)
    else:
        raise OptionError(
            f"a source must be 'file.root:tree', a glob, a {{file: tree}} dict, a Path or a "
            f"list of these, not {sources!r}"
        )
    if not refs:
        raise InputFileError("the list of sources is empty; give at least one 'file.root:tree'")
    return refs


def _describe(sources: Source) -> str:
    if isinstance(sources, (str, os.PathLike)):
        return os.fspath(sources)
    if isinstance(sources, Mapping):
        return ", ".join(f"{os.fspath(k)}:{v}" if v else os.fspath(k) for k, v in sources.items())
    return ", ".join(_describe(s) for s in sources)


def _check_root_header(path: str) -> None:
    """Missing, not a ROOT file, or shorter than its header says → InputFileError."""
    if not os.path.exists(path):
        raise InputFileError(
            f"no such file: '{path}'; check the path (a tree is named as 'file.root:tree')"
        )
    if os.path.isdir(path):
        raise InputFileError(
            f"'{path}' is a folder, not a ROOT file; name the file, or a glob "
            "such as 'folder/*.root:tree'"
        )
    try:
        with open(path, "rb") as f:
            head = f.read(20)
    except OSError as err:
        raise InputFileError(f"cannot read '{path}': {err.strerror}") from err
    if head[:4] != b"root":
        raise InputFileError(
            f"'{path}' is not a ROOT file (it starts with {head[:4]!r}, not "
            "b'root'); give a .root file written by ROOT or uproot"
        )
    size = os.path.getsize(path)
    version = int.from_bytes(head[4:8], "big") if len(head) >= 8 else 0
    need = 20 if version >= 1000000 else 16
    end = int.from_bytes(head[12:need], "big") if len(head) >= need else None
    if end is None or size < end:
        raise InputFileError(
            f"'{path}' is truncated: {size} bytes on disk, its header says "
            f"{end if end is not None else 'more'}; copy or write the file again"
        )


class _OpenTree:
    """Context manager: the uproot TTree of a reference, with errors turned into ours."""

    def __init__(self, ref: _TreeRef) -> None:
        self.ref = ref
        self.file: Any = None

    def __enter__(self) -> tuple[Any, str]:
        import uproot

        path = self.ref.path
        if not _is_remote(path):
            _check_root_header(path)
        try:
            self.file = uproot.open(path, array_cache=None)  # stream: keep no chunk
        except FileNotFoundError as err:
            raise InputFileError(f"no such file: '{path}'; check the path") from err
        except (OSError, ValueError, uproot.deserialization.DeserializationError) as err:
            raise InputFileError(
                f"cannot open '{path}' as a ROOT file ({_first_line(err)}); "
                "it may be truncated or corrupt"
            ) from err
        try:
            return self._tree(uproot)
        except BaseException:
            self.file.close()
            raise

    def _tree(self, uproot: Any) -> tuple[Any, str]:
        path, name = self.ref.path, self.ref.tree
        try:
            classnames = self.file.classnames()
        except (OSError, ValueError, uproot.deserialization.DeserializationError) as err:
            raise InputFileError(
                f"cannot list the contents of '{path}' ({_first_line(err)}); "
                "it may be truncated or corrupt"
            ) from err
        trees = [k.rsplit(";", 1)[0] for k, c in classnames.items() if c in _TREE_CLASSES]
        trees = list(dict.fromkeys(trees))
        listing = ", ".join(trees) if trees else "none"
        if name is None:
            if len(trees) != 1:
                raise TreeNotFoundError(
                    f"'{path}' holds {len(trees)} trees ({listing}); name one as '{path}:TREE'"
                )
            name = trees[0]
        try:
            tree = self.file[name]
        except uproot.KeyInFileError as err:
            raise TreeNotFoundError(
                f"no tree '{name}' in '{path}'{close_matches(name.split(';')[0], trees)}; "
                f"trees in the file: {listing}"
            ) from err
        except (OSError, ValueError, uproot.deserialization.DeserializationError) as err:
            raise InputFileError(
                f"cannot read tree '{name}' of '{path}' ({_first_line(err)}); "
                "the file may be truncated or corrupt"
            ) from err
        if not isinstance(tree, uproot.behaviors.TTree.TTree):
            kind = getattr(tree, "classname", type(tree).__name__)
            raise TreeNotFoundError(
                f"'{name}' in '{path}' is a {kind}, not a TTree; trees in the file: {listing}"
            )
        return tree, name

    def __exit__(self, *exc: object) -> None:
        if self.file is not None:
            self.file.close()


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__
