"""Atomic file writing, shared by every writer of tmva_lstm (model, checkpoint, ROOT files, plots).

A file is written to a temporary ``.<name>.<host>.<pid>.<random>.tmp`` in the target's
directory and renamed over the target when complete, so a crash leaves the old file or none.
A process killed mid-write (SIGKILL, out of memory) cannot remove its temporary: the next
write of the same target does, once the writer is gone (its pid is not running on this host,
or, from another host, the file is a day old). Files get the permissions a plain
``open(path, "w")`` gives, i.e. ``0666`` less the umask (``mkstemp`` alone would give 0600).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import socket
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_path", "atomic_write_bytes", "file_mode", "remove_stale_temporaries"]

_STALE_FOREIGN_S = 86400.0  # a temporary from another host is removed after a day


def file_mode() -> int:
    """Permissions of a new file under the current umask (``0666 & ~umask``)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname() or "host")[:40]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def remove_stale_temporaries(target: str | os.PathLike[str]) -> list[Path]:
    """Remove temporaries of ``target`` left by writers that died; return what was removed."""
    target = Path(target)
    removed = []
    pattern = re.compile(r"^\." + re.escape(target.name) + r"\.(?:([^.]+)\.(\d+)\.)?[^.]+\.tmp$")
    try:
        candidates = list(target.parent.glob(f".{_glob_escape(target.name)}.*.tmp"))
    except OSError:
        return removed
    host, now = _host(), time.time()
    for path in candidates:
        m = pattern.match(path.name)
        if m is None:
            continue
        owner, pid = m.group(1), m.group(2)
        try:
            if owner == host:
                stale = int(pid) != os.getpid() and not _alive(int(pid))
            elif owner is None:  # a mkstemp name of an older version: no owner recorded
                stale = True
            else:
                stale = now - path.stat().st_mtime > _STALE_FOREIGN_S
            if stale:
                path.unlink()
                removed.append(path)
        except OSError:
            continue
    return removed


def _glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it over ``path`` if the block succeeds.

    On any error (or interrupt) the temporary is removed and ``path`` is left as it was.
    """
    from .errors import OutputFileError

    target = Path(path)
    if target.is_dir():
        raise OutputFileError(f"{target} is a directory; give a file name to write")
    tmp = target.parent / f".{target.name}.{_host()}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(target)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as err:
        raise OutputFileError(
            f"cannot write {target}: {err.strerror or err}; choose another output place"
        ) from None
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, file_mode())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; return ``path``."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)
