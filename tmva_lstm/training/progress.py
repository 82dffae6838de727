"""What a training prints as it goes (TMVA's progress lines), and its loud warnings."""

from __future__ import annotations

import sys
import warnings
from typing import TextIO

from ..model import History
from ..options import MethodOptions

# --------------------------------------------------------------------------- progress


class Progress:
    """What training prints (to stdout, as TMVA), unless ``Silent``.

    On a terminal: a ``tqdm`` bar over each epoch's batches, then the epoch's line. Elsewhere
    (batch jobs, HTCondor logs): one line per epoch, no bar. Before training, the sample sizes;
    after it, the best epoch and why training stopped. ``V`` adds the table's header lines.
    """

    def __init__(self, options: MethodOptions, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout
        tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.silent = options.silent
        self.enabled = not options.silent
        self.bar = self.enabled and tty
        self._tqdm = None

    def write(self, text: str) -> None:
        if self.enabled:
            self.stream.write(text + "\n")
            self.stream.flush()

    def note(self, text: str) -> None:
        """A line the user must see (the validation split, warnings): printed unless Silent."""
        if not self.silent:
            self.stream.write(text + "\n")
            self.stream.flush()

    def samples(self, counts: dict[str, dict[str, int]]) -> None:
        """``{"signal": {"after cut": n, "training": a, "test": b}, "background": {...}}``."""
        for cls, c in counts.items():
            self.write(f"PyLSTM: {cls:<10} " + ", ".join(f"{k} {v}" for k, v in c.items()))

    def header(self, n_train: int, n_val: int, phase: int, n_phases: int) -> None:
        self.write(
            f"PyLSTM: training phase {phase + 1}/{n_phases} on {n_train} events, "
            f"validating on {n_val}"
        )
        self.write(f"{'Epoch':>6} | {'Train Err.':>11} | {'Val. Err.':>11} | {'t(s)/epoch':>10} | "
                   f"{'nEvents/s':>10} | Conv. Steps")  # fmt: skip

    def batch(self, epoch: int, done: int, total: int) -> None:
        if not self.bar:
            return
        if self._tqdm is None:
            import shutil

            from tqdm import tqdm

            size = shutil.get_terminal_size()  # $COLUMNS/$LINES or 80x24 where the tty says 0
            self._tqdm = tqdm(total=total, desc=f"epoch {epoch}", file=self.stream, leave=False,
                              unit="batch", ncols=min(size.columns, 100), nrows=size.lines)  # fmt: skip
        self._tqdm.update(done - self._tqdm.n)

    def _close_bar(self) -> None:
        if self._tqdm is not None:
            self._tqdm.close()
            self._tqdm = None

    def epoch(
        self, epoch: int, train: float, val: float, seconds: float, n: int, conv: int
    ) -> None:
        self._close_bar()
        self.write(
            f"{epoch:>6} | {train:11.6f} | {val:11.6f} | {seconds:10.3f} | "
            f"{n / max(seconds, 1e-9):10.0f} | {conv}"
        )

    def finished(self, history: History, options: MethodOptions) -> None:
        """The best epoch, and why training stopped."""
        self._close_bar()
        last = options.training[-1]
        why = {
            "converged": f"converged: no better validation loss for ConvergenceSteps="
            f"{last.convergence_steps} epochs",
            "MaxEpochs reached": f"MaxEpochs={last.max_epochs} reached",
        }.get(history.stop_reason, history.stop_reason or "done")
        n = len(history.epoch)
        best = history.best_epoch
        kept = (
            f"best epoch {best} (validation loss {history.val_loss[best - 1]:.6f}), its weights kept"
            if 0 < best <= n
            else "no epoch improved on the initial weights: the initial weights are kept"
        )
        self.write(f"PyLSTM: training stopped after {n} epochs ({why}); {kept}")


def _training_warning(progress: Progress, text: str) -> None:
    """Warn loudly: a Python ``RuntimeWarning`` and a line in the progress output."""
    progress.note(f"PyLSTM: WARNING: {text}")
    warnings.warn(text, RuntimeWarning, stacklevel=3)
