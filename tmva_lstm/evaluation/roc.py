"""The ROC integral printed as ``ROC-integ`` comes from ``TMVA::ROCCurve``
(``tmva/tmva/src/ROCCurve.cxx``), called by ``Factory::GetROCIntegral`` on the test
sample with the event weights. It is unbinned:

* the events are stored as ``(Float_t value, Float_t weight, Bool_t isSignal)`` and
  sorted ascending by value with ``std::sort``;
* ``ComputeSpecificity``: ``TN_k = sum_{j<=k} w_j [background]``, returned as
  ``[0, TN_0/B, ..., TN_{N-1}/B, 1]`` (length ``N + 2``; all ``TN/B`` are 0 when
  ``B <= DBL_MIN``);
* ``ComputeSensitivity``: ``TP_k = sum_{j>=k} w_j [signal]``, returned as
  ``[1, TP_0/S, ..., TP_{N-1}/S, 0]``;
* ``GetROCIntegral``: ``sum_i 0.5 (FNR_{i+1} - FNR_i)(spec_i + spec_{i+1})`` with
  ``FNR = 1 - sensitivity``.

Point ``k`` pairs the background weight *up to and including* event ``k`` with the signal
weight *from* event ``k`` on, so every signal event immediately followed (in sorted
order) by a background event adds ``0.5 w_s w_b / (S B)`` on top of the Mann-Whitney
AUC: about ``1/(2N)`` for ``N`` events, a little less for well separated classes.
:func:`roc_integral` reproduces this, bias included.

**Ties.** ``std::sort`` is not stable, so for tied values TMVA's order, and with it the
integral, is unspecified in general. We sort with a *stable* sort (tied events keep their
input order). For ``N <= 16`` events libstdc++'s ``std::sort`` is a plain insertion sort,
which is stable too, so small hand-made examples with ties agree exactly. Values are
rounded to float32 first, as TMVA stores them, which can create ties.
"""

from __future__ import annotations

import numpy as np

from .sample import DBL_MIN, as_sample

# ---- TMVA::ROCCurve ----------------------------------------------------------------------


def roc_vectors(
    values: np.ndarray, is_signal: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """ROCCurve::ComputeSensitivity / ComputeSpecificity, both of length N + 2."""
    order = np.argsort(values, kind="stable")  # ties keep input order (see module docstring)
    sig = is_signal[order]
    ww = w[order]
    true_negatives = np.cumsum(np.where(sig, 0.0, ww))  # TN_k, accumulated front to back
    true_positives = np.cumsum(np.where(sig, ww, 0.0)[::-1])[::-1]  # TP_k, back to front
    total_b = true_negatives[-1]
    total_s = true_positives[0]
    spec = true_negatives / total_b if total_b > DBL_MIN else np.zeros_like(true_negatives)
    sens = true_positives / total_s if total_s > DBL_MIN else np.zeros_like(true_positives)
    specificity = np.concatenate(([0.0], spec, [1.0]))
    sensitivity = np.concatenate(([1.0], sens, [0.0]))
    return sensitivity, specificity


def roc_curve(
    scores: object, labels: object, weights: object | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """TMVA's unbinned ROC curve: ``(eff_s, rej_b)``, each of length ``N + 2``.

    ``eff_s`` is the signal efficiency (sensitivity) and ``rej_b`` the background rejection
    (specificity), point by point as in ``ROCCurve::GetROCCurve``; the first point is
    ``(1, 0)`` and the last ``(0, 1)``. ``labels``: 1 signal, 0 background.
    """
    v, s, w = as_sample(scores, labels, weights, "ROC")
    return roc_vectors(v, s, w)


def _integral_from_vectors(sensitivity: np.ndarray, specificity: np.ndarray) -> float:
    fnr = 1.0 - sensitivity
    terms = 0.5 * (fnr[1:] - fnr[:-1]) * (specificity[:-1] + specificity[1:])
    return float(np.cumsum(terms)[-1])  # sequential sum, as the C++ loop


def roc_integral(scores: object, labels: object, weights: object | None = None) -> float:
    """TMVA's ROC integral (``ROCCurve::GetROCIntegral``), the Factory's ``ROC-integ``.

    Trapezoid over the ``N + 2`` points of :func:`roc_curve`. It exceeds the Mann-Whitney
    AUC by ``0.5 w_s w_b / (S B)`` for every signal event directly followed by a background
    event in ascending order of score (about ``1/(2N)``). Ties: see the module docstring.
    """
    v, s, w = as_sample(scores, labels, weights, "ROC")
    return _integral_from_vectors(*roc_vectors(v, s, w))
