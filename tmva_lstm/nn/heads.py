"""The output head per analysis type: training targets, loss and output function, as MethodDL.

MethodDL (``ProcessOptions``) picks the loss from ``ErrorStrategy`` and the output function
from the analysis type; the network's last layer is LINEAR and its output ``z (N, K)`` goes
to both:

==============  ===============  ================================================  =========
analysis type   ErrorStrategy    loss on ``z`` (TMVA ``Cpu/LossFunctions.hxx``)    output
==============  ===============  ================================================  =========
Classification  CROSSENTROPY     sigmoid cross-entropy, ``K = 1``, target 1 = sig  sigmoid
Classification  SUMOFSQUARES     squared error of ``z`` against 0/1                sigmoid
Multiclass      CROSSENTROPY     sigmoid cross-entropy per class vs one-hot        softmax
Multiclass      MUTUALEXCLUSIVE  softmax cross-entropy vs one-hot                  softmax
Multiclass      SUMOFSQUARES     squared error of ``z`` against one-hot            softmax
Regression      (any)            squared error of ``z`` against the targets        identity
==============  ===============  ================================================  =========

(TMVA warns and uses SUMOFSQUARES for regression whatever ``ErrorStrategy`` says; so do we,
without the warning, since the default ``CROSSENTROPY`` would otherwise warn on every job.)
Targets are ``(N, K)``: the 0/1 label for classification, one-hot rows for multiclass, the
(transformed) target values for regression.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import OptionError
from ..options import ANALYSIS_TYPES
from .activations import sigmoid
from .losses import binary_cross_entropy, mean_squared_error, softmax_cross_entropy

__all__ = ["ANALYSIS_TYPES", "Head", "head_for", "softmax"]

TMVA_NAMES = {"CLASSIFICATION": "Classification", "MULTICLASS": "Multiclass",
              "REGRESSION": "Regression"}  # fmt: skip


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``z (N, K)``, shifted by the row maximum: no overflow."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class Head:
    """How the network output ``z (N, K)`` is trained and turned into predictions."""

    analysis_type: str  # CLASSIFICATION | MULTICLASS | REGRESSION
    loss_kind: str  # CROSSENTROPY (sigmoid per output) | MUTUALEXCLUSIVE (softmax) | SUMOFSQUARES

    def loss(
        self, z: np.ndarray, targets: np.ndarray, weights: np.ndarray
    ) -> tuple[float, np.ndarray]:
        """Event-weighted loss of ``z (N, K)`` against ``targets (N, K)``; ``(loss, dz (N, K))``."""
        if self.loss_kind == "CROSSENTROPY":
            return binary_cross_entropy(z, targets, weights)
        if self.loss_kind == "MUTUALEXCLUSIVE":
            return softmax_cross_entropy(z, targets, weights)
        return mean_squared_error(z, targets, weights)

    def output(self, z: np.ndarray) -> np.ndarray:
        """The method's output from ``z (N, K)``: sigmoid, softmax or identity, float64."""
        z = np.asarray(z, dtype=np.float64)
        if self.analysis_type == "CLASSIFICATION":
            return sigmoid(z)
        if self.analysis_type == "MULTICLASS":
            return softmax(z)
        return z

    def encode(self, y: np.ndarray, n_outputs: int, dtype) -> np.ndarray:
        """Training targets ``(N, K)`` from labels ``(N,)`` or target values ``(N, M)``."""
        if self.analysis_type == "CLASSIFICATION":
            return np.asarray(y, dtype=dtype).reshape(-1, 1)
        if self.analysis_type == "MULTICLASS":
            out = np.zeros((len(y), n_outputs), dtype=dtype)
            out[np.arange(len(y)), np.asarray(y, dtype=np.int64)] = 1
            return out
        return np.asarray(y, dtype=dtype).reshape(len(y), n_outputs)


def head_for(analysis_type: str, error_strategy: str = "CROSSENTROPY") -> Head:
    """The head MethodDL uses for ``AnalysisType`` and ``ErrorStrategy`` (see the table above)."""
    kind = analysis_type.upper()
    if kind not in ANALYSIS_TYPES:
        raise OptionError(
            f"bad AnalysisType {analysis_type!r}; valid: Classification | Multiclass | Regression"
        )
    strategy = error_strategy.upper()
    if kind == "REGRESSION":
        return Head(kind, "SUMOFSQUARES")
    if kind == "CLASSIFICATION" and strategy == "MUTUALEXCLUSIVE":
        raise OptionError(
            "ErrorStrategy=MUTUALEXCLUSIVE (softmax cross-entropy) needs AnalysisType=Multiclass; "
            "use CROSSENTROPY or SUMOFSQUARES for two classes"
        )
    return Head(kind, strategy)
