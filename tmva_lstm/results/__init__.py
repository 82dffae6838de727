"""Results in TMVA's own layout: the output ROOT file, the plots and the text summary.

One concept per module:

``trees``      ``TestTree``/``TrainTree`` as ``DataSet::GetTree`` writes them (:class:`TreeData`)
``variables``  input-variable histograms, correlation matrices, scatter/profile plots
``rootfile``   the output file (:func:`write_tmva_file`) and the uproot object conversions
``plots``      PNG/PDF plots: ROC, overtraining check, training history, input variables
``summary``    the text summary (:func:`write_summary`)
``outputs``    all of them for one classifier (:func:`write_results`)

Every file is written atomically with :func:`tmva_lstm.atomic.atomic_path`.

:func:`write_results` writes all of them for one classifier, as ``tmva-lstm train`` does.
"""

from __future__ import annotations

from .outputs import write_results
from .plots import (
    plot_history,
    plot_input_variables,
    plot_overtraining,
    plot_roc,
)
from .rootfile import write_tmva_file
from .summary import write_summary
from .trees import CLASS_NAMES, TreeData, split_time_steps

__all__ = [
    "CLASS_NAMES",
    "TreeData",
    "plot_history",
    "plot_input_variables",
    "plot_overtraining",
    "plot_roc",
    "split_time_steps",
    "write_results",
    "write_summary",
    "write_tmva_file",
]
