"""TMVA's evaluation of a classifier, one concept per module.

``sample``        input checks and TMVA's constants
``roc``           ``TMVA::ROCCurve``: the unbinned ROC curve and its integral
``histograms``    ``Hist1D``, a TH1 laid out as ROOT stores it, filled as TMVA fills it
``efficiencies``  ``MethodBase::GetEfficiency``/``GetTrainingEfficiency`` (binned, splines)
``ks``            ``TH1::KolmogorovTest`` with the option TMVAGui passes ("X")

:mod:`tmva_lstm.evaluate` puts them together the way ``Factory::EvaluateAllMethods`` does.
"""
