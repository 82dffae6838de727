"""Scoring many files on many machines: ``tmva-lstm apply --output-dir`` on Dask.

:func:`apply_files` writes one output per input file (same file name, under ``output_dir``)
with the tasks of :mod:`tmva_lstm.scoring`, run by ``dask.distributed`` workers:

1. ``plan`` per file: open it, check it, cut it into entry ranges (or find its output
   complete and up to date: skipped);
2. ``score`` per range: the scores, saved as a part (``output_dir/.tmva-lstm-parts/``, NumPy
   ``.npy`` written through a temporary name), so one large file is scored by many workers;
3. ``assemble`` per file: the parts (and, for a copy, the input's branches) written into the
   output through a temporary file renamed at the end; then the parts are removed.

The model travels as the bytes of its XML file, scattered once to every worker. A task that
raises is retried by Dask (``retries``), and a task on a worker that dies is run again
elsewhere; a file whose tasks keep failing is reported with a one-line error while the other
files complete. An error that retrying cannot cure (a corrupt file, a missing branch) fails
its file at once. Outputs record the model's checksum and the input's size and modification
time, so a rerun skips the files that are done. Workers must see the inputs and
``output_dir`` at the same paths (a shared file system).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import atomic_path
from .errors import DependencyError, OptionError, TmvaLstmError
from .scoring import (
    FileJob,
    ModelPayload,
    Settings,
    check_outputs,
    copy_notes,
    input_stamp,
    make_settings,
    make_tree,
    open_job,
    output_meta,
    read_meta,
    score_range,
    tree_name,
    write_meta,
)

__all__ = ["FileReport", "ApplyReport", "apply_files"]

PARTS = ".tmva-lstm-parts"  # under output_dir: scores of finished ranges, until assembled
INSTALL = "pip install 'tmva-lstm[dask]'"


@dataclass
class FileReport:
    """What happened to one input file."""

    source: str  # "file.root:tree"
    output: str
    status: str  # "done", "skipped" (up to date), "failed"
    events: int = 0  # entries scored (or found in a skipped output)
    seconds: float = 0.0  # from the file's plan to its output, wall clock
    error: str = ""  # one line, for a failed file
    notes: list[str] = field(default_factory=list)  # branches a copy could not carry, ...

    def line(self) -> str:
        if self.status == "failed":
            return f"FAILED  {self.source}: {self.error}"
        return f"{self.status:<7} {self.source} -> {self.output} ({self.events} events)"


@dataclass
class ApplyReport:
    """Per-file reports of one :func:`apply_files` run, in the order of the inputs."""

    files: list[FileReport]
    seconds: float
    workers: int  # Dask workers (0: this process)

    @property
    def events(self) -> int:
        """Events scored in this run (skipped files not counted)."""
        return sum(f.events for f in self.files if f.status == "done")

    @property
    def failures(self) -> list[FileReport]:
        return [f for f in self.files if f.status == "failed"]

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        counts = {s: sum(f.status == s for f in self.files) for s in ("done", "skipped", "failed")}
        lines = [
            f"apply: {len(self.files)} files ({counts['done']} scored, {counts['skipped']} up to "
            f"date, {counts['failed']} failed), {self.events} events in {self.seconds:.1f} s "
            f"({self.events_per_second:.0f} events/s) on "
            + (f"{self.workers} Dask workers" if self.workers else "this process")
        ]
        lines += [f"  FAILED {f.source}: {f.error}" for f in self.failures]
        return "\n".join(lines)


# --------------------------------------------------------------------------- tasks


def _one_line(err: BaseException) -> str:
    from .data.sources import _first_line

    if isinstance(err, TmvaLstmError):
        return _first_line(err)
    return f"{type(err).__name__}: {_first_line(err)}"


def _expected_meta(payload: ModelPayload, job: FileJob, settings: Settings) -> dict[str, Any]:
    return output_meta(payload, [job], settings)


def _up_to_date(payload: ModelPayload, path: str, tree: str | None, settings: Settings,
                output: Path) -> int | None:  # fmt: skip
    """Entries of a complete, up-to-date output of this input, or None."""
    if not output.exists():
        return None
    meta = read_meta(output)
    if meta is None:
        raise OptionError(
            f"'{output}' exists and was not written by tmva-lstm apply (or is damaged); "
            "remove it or choose another --output-dir"
        )
    want = {"model_sha256": payload.sha256, **settings.meta()}
    if any(meta.get(k) != v for k, v in want.items()) or len(meta.get("inputs", [])) != 1:
        return None
    recorded = meta["inputs"][0]
    stamp = input_stamp(path)
    if any(recorded.get(k) != v for k, v in stamp.items()):
        return None
    if tree is not None and recorded.get("tree") != tree:
        return None
    return int(recorded.get("entries", 0))


def plan_task(payload: ModelPayload, path: str, tree: str | None, settings: Settings,
              output: str) -> tuple[str, Any]:  # fmt: skip
    """("skip", entries) | ("job", FileJob) | ("error", one line)."""
    try:
        entries = _up_to_date(payload, path, tree, settings, Path(output))
        if entries is not None:
            return "skip", entries
        return "job", open_job(payload, path, tree, settings)
    except TmvaLstmError as err:  # retrying cannot help: the file itself is at fault
        return "error", _one_line(err)


def _part_path(parts: Path, start: int, stop: int) -> Path:
    return parts / f"{start:012d}-{stop:012d}.npy"


def score_task(payload: ModelPayload, job: FileJob, settings: Settings, parts: str,
               start: int, stop: int) -> tuple[str, str]:  # fmt: skip
    """Score one range into its part file: ("ok", path) | ("error", one line)."""
    part = _part_path(Path(parts), start, stop)
    if part.exists():  # left by an earlier run of the same model and settings
        try:
            if len(np.load(part, mmap_mode="r")) == stop - start:
                return "ok", str(part)
        except (OSError, ValueError):
            pass
    try:
        scores = score_range(payload, job, settings, start, stop)
    except TmvaLstmError as err:
        return "error", _one_line(err)
    with atomic_path(part) as tmp, open(tmp, "wb") as fh:
        np.save(fh, scores)
    return "ok", str(part)


def assemble_task(payload: ModelPayload, job: FileJob, settings: Settings, output: str,
                  parts: str, *results: tuple[str, str]) -> FileReport:  # fmt: skip
    """Write one output from its parts, atomically; then remove the parts."""
    import uproot

    from .scoring import _open, extend_tree

    report = FileReport(job.where, output, "done", notes=copy_notes(job))
    errors = [msg for status, msg in results if status == "error"]
    if errors:
        shutil.rmtree(parts, ignore_errors=True)
        report.status, report.error = "failed", errors[0]
        return report
    pieces = ((a, b, np.load(path)) for (a, b), (_, path) in zip(job.ranges, results, strict=True))
    try:
        with atomic_path(output) as tmp, uproot.recreate(tmp) as out:
            new = make_tree(out, tree_name(job, settings), job, settings)
            if job.copy is not None:
                with _open(job.path, job.tree) as (tree, _):
                    report.events = extend_tree(new, job, settings, pieces, tree)
            else:
                report.events = extend_tree(new, job, settings, pieces)
            write_meta(out, output_meta(payload, [job], settings))
    except TmvaLstmError as err:
        report.status, report.error = "failed", _one_line(err)
    shutil.rmtree(parts, ignore_errors=True)
    return report


def _run_file_here(payload: ModelPayload, path: str, tree: str | None, settings: Settings,
                   output: Path, parts: Path) -> FileReport:  # fmt: skip
    """The three tasks of one file, in this process."""
    t0 = time.perf_counter()
    source = f"{path}:{tree}" if tree else path
    kind, value = plan_task(payload, path, tree, settings, str(output))
    if kind == "error":
        return FileReport(source, str(output), "failed", error=value)
    if kind == "skip":
        return FileReport(source, str(output), "skipped", events=value)
    job = value
    results = [score_task(payload, job, settings, str(parts), a, b) for a, b in job.ranges]
    report = assemble_task(payload, job, settings, str(output), str(parts), *results)
    report.seconds = time.perf_counter() - t0
    return report


# --------------------------------------------------------------------------- driver


def _client(scheduler: str | None, workers: int | None):
    """(client, cluster we started or None)."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as err:
        raise DependencyError(
            f"scoring on Dask workers needs dask and distributed ({err.name} is missing); "
            f"install them with: {INSTALL}"
        ) from None
    if scheduler:
        try:
            return Client(scheduler, timeout="30s"), None
        except OSError as err:
            raise OptionError(
                f"cannot reach the Dask scheduler at '{scheduler}' ({err}); check the address "
                "(tcp://host:8786) and that the scheduler runs"
            ) from None
    n = workers or os.cpu_count() or 1
    cluster = LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=logging.CRITICAL,
    )
    return Client(cluster), cluster


def apply_files(
    model: Any,
    sources: Any,
    output_dir: str | Path,
    client: Any = None,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    layout: str | None = None,
    branch: str | None = None,
    friend: bool = False,
    overwrite_branch: bool = False,
    non_finite: str = "stop",
    step_size: int | str = "100 MB",
    retries: int = 2,
    progress: Callable[[FileReport], None] | None = None,
) -> ApplyReport:
    """Score every input file into ``output_dir/<its file name>``, in parallel on Dask.

    ``model``: a model file or a :class:`~tmva_lstm.Model`. ``sources``: as for
    :func:`tmva_lstm.load` (``'files/*.root:tree'``, lists, ``{file: tree}``). Workers: the
    given ``client``, else a ``scheduler`` address, else a ``LocalCluster`` of ``workers``
    processes (default: the cores); ``workers=0`` runs in this process without Dask. Options
    as in :func:`tmva_lstm.scoring.apply_to_files`; ``step_size`` also sets how a large file is
    split between workers. ``progress`` is called with each file's :class:`FileReport` as it
    finishes. Returns the :class:`ApplyReport` (failed files included, not raised).
    """
    from .data.sources import _resolve_sources

    t0 = time.perf_counter()
    payload = ModelPayload.of(model)
    settings = make_settings(payload, layout=layout, branch=branch, friend=friend,
                             non_finite=non_finite, overwrite_branch=overwrite_branch,
                             step_size=step_size)  # fmt: skip
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise OptionError(f"retries must be 0 or more, not {retries!r}")
    refs = _resolve_sources(sources)
    output_dir = Path(output_dir)
    outputs = [output_dir / os.path.basename(r.path) for r in refs]
    seen: dict[Path, str] = {}
    for ref, out in zip(refs, outputs, strict=True):
        if out in seen:
            raise OptionError(
                f"'{seen[out]}' and '{ref}' would both be written to '{out}' (outputs keep the "
                "input file names); score them in separate runs with different --output-dir"
            )
        seen[out] = str(ref)
    check_outputs(outputs, [r.path for r in refs])
    output_dir.mkdir(parents=True, exist_ok=True)
    parts_root = output_dir / PARTS
    parts = [parts_root / f"{out.name}.{_parts_key(payload, settings, r.path)}"
             for r, out in zip(refs, outputs, strict=True)]  # fmt: skip
    reports: list[FileReport | None] = [None] * len(refs)

    def done(i: int, report: FileReport) -> None:
        reports[i] = report
        if progress is not None:
            progress(report)

    if client is None and scheduler is None and workers == 0:
        for i, (ref, out) in enumerate(zip(refs, outputs, strict=True)):
            done(i, _run_file_here(payload, ref.path, ref.tree, settings, out, parts[i]))
        n_workers = 0
    else:
        own = None
        if client is None:
            client, own = _client(scheduler, workers)
        try:
            n_workers = len(client.scheduler_info()["workers"])
            _run_on_dask(client, payload, refs, outputs, parts, settings, retries, done)
        finally:
            if own is not None:
                client.close()
                own.close()
    _remove_empty(parts_root)
    final = [r for r in reports if r is not None]
    report = ApplyReport(final, time.perf_counter() - t0, n_workers)
    import warnings

    from .scoring import ApplyWarning

    for note in dict.fromkeys(n for r in final for n in r.notes):
        warnings.warn(note, ApplyWarning, stacklevel=2)
    return report


RESUBMITS = 3  # a file whose tasks are cancelled (results lost with a worker) is resubmitted


def _run_on_dask(client, payload, refs, outputs, parts, settings, retries, done) -> None:
    """Submit the plan tasks, then each file's score and assemble tasks as its plan arrives.

    Dask retries a task that raises (``retries``) and reruns a task whose worker died; a
    file whose futures are cancelled (a result lost with its worker and not recomputed) is
    submitted again, at most :data:`RESUBMITS` times; its finished parts are found on disk."""
    from concurrent.futures import CancelledError

    from dask.distributed import as_completed

    token = uuid.uuid4().hex[:8]
    options = dict(retries=retries, pure=False)
    model = None
    started = {i: time.perf_counter() for i in range(len(refs))}
    kinds: dict[str, tuple[str, int]] = {}
    jobs: dict[int, FileJob] = {}
    attempts = [0] * len(refs)

    def scattered():
        nonlocal model
        if model is None or model.status != "finished":
            [model] = client.scatter([payload], broadcast=True, hash=False)
        return model

    def submit_plan(i: int):
        key = f"tmva-lstm-plan-{token}-{i}-{attempts[i]}"
        fut = client.submit(plan_task, scattered(), refs[i].path, refs[i].tree, settings,
                            str(outputs[i]), key=key, **options)  # fmt: skip
        kinds[fut.key] = ("plan", i)
        return fut

    def submit_file(i: int):
        job, args = jobs[i], (scattered(), jobs[i], settings, str(parts[i]))
        scored = [
            client.submit(
                score_task,
                *args,
                a,
                b,
                key=f"tmva-lstm-score-{token}-{i}-{a}-{attempts[i]}",
                **options,
            )  # fmt: skip
            for a, b in job.ranges
        ]
        fut = client.submit(assemble_task, *args[:3], str(outputs[i]), str(parts[i]), *scored,
                            key=f"tmva-lstm-assemble-{token}-{i}-{attempts[i]}", **options)  # fmt: skip
        kinds[fut.key] = ("assemble", i)
        return fut

    queue = as_completed([submit_plan(i) for i in range(len(refs))])
    for fut in queue:
        kind, i = kinds.pop(fut.key)
        source, out = str(refs[i]), str(outputs[i])
        try:
            result = fut.result()
        except CancelledError as err:
            attempts[i] += 1
            if attempts[i] <= RESUBMITS:
                queue.add(submit_plan(i) if kind == "plan" else submit_file(i))
            else:
                done(i, FileReport(source, out, "failed", error=_one_line(err)))
            continue
        except Exception as err:  # retries exhausted, or the task killed its workers
            done(i, FileReport(source, out, "failed", error=_one_line(err)))
            continue
        finally:
            fut.release()
        if kind == "assemble":
            result.seconds = time.perf_counter() - started[i]
            done(i, result)
            continue
        status, value = result
        if status == "error":
            done(i, FileReport(source, out, "failed", error=value))
        elif status == "skip":
            done(i, FileReport(source, out, "skipped", events=value))
        else:
            jobs[i] = value
            queue.add(submit_file(i))


def _parts_key(payload: ModelPayload, settings: Settings, path: str) -> str:
    """Parts of an earlier, interrupted run are reused only for the same model, settings and
    input (size and modification time)."""
    import hashlib
    import json

    try:
        stamp = input_stamp(path)
    except OSError:
        stamp = {}
    text = json.dumps([payload.sha256, settings.meta(), stamp], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _remove_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass
