"""TMVA integration: make ``PyLSTM`` bookable from ROOT's TMVA Factory and Reader.

In Python::

    import ROOT
    from tmva_lstm.tmva import register
    register()
    factory.BookMethod(loader, ROOT.TString("PyLSTM"), ROOT.TString("LSTM"),
                       ROOT.TString("!H:!V:InputLayout=10|30:Layout=LSTM|10,DENSE|64|TANH,LINEAR"))

A C++ macro runs under ``tmva-lstm root 'macro.C(args)'`` (:mod:`tmva_lstm.tmva.launcher`),
which registers PyLSTM in its process first, or registers through ROOT's Python bridge where
ROOT has one: ``TPython::Exec("import tmva_lstm.tmva; tmva_lstm.tmva.register()");``.

The same registration serves ``TMVA::Reader::BookMVA`` for weight files PyLSTM wrote.
Base class: ``TMVA::MethodBase`` where PyMVA is not built and on ROOT >= 6.42, whose PyMVA
warns that it is deprecated whenever a PyMVA method is constructed (root-project/root PR
#23260; PyMVA leaves ROOT in 6.44), although PyLSTM uses nothing of PyMVA; ``PyMethodBase``
on older ROOTs that have it. ``register(base=...)`` chooses explicitly. This is the only part
of tmva_lstm that imports ``ROOT.TMVA``; ROOT is imported inside the functions that need it.
"""

from __future__ import annotations

from dataclasses import dataclass

from tmva_lstm.errors import DependencyError
from tmva_lstm.tmva._threads import pin_blas_threads

METHOD_NAME = "PyLSTM"  # the name to book; importing this package does not import NumPy
PYMVA_DEPRECATED_SINCE = 64200  # ROOT 6.42 (gROOT->GetVersionInt()): PyMVA warns when constructed

__all__ = [
    "METHOD_NAME",
    "PYMVA_DEPRECATED_SINCE",
    "Registration",
    "TmvaUnavailableError",
    "default_base",
    "is_tmva_available",
    "pin_blas_threads",
    "register",
]

# Headers of real TMVA the glue is compiled against.
_TMVA_HEADERS = (
    "TMVA/Types.h",
    "TMVA/MsgLogger.h",
    "TMVA/Event.h",
    "TMVA/DataSet.h",
    "TMVA/DataSetInfo.h",
    "TMVA/MethodBase.h",
    "TMVA/ClassifierFactory.h",
)

_registrations: dict[str, Registration] = {}
_hooks: list[object] = []  # the creator hooks live as long as the process


class TmvaUnavailableError(DependencyError):
    """ROOT is importable but has no TMVA (e.g. the PyPI ``ROOT`` wheel)."""


@dataclass(frozen=True)
class Registration:
    """What :func:`register` did."""

    name: str  # the method name to book: "PyLSTM"
    method_type: int  # the TMVA::Types::EMVA value the name maps to
    namespace: str  # C++ namespace of TMVA ("TMVA", or a test stand-in)
    base: str  # "PyMethodBase" or "MethodBase"
    method_class: type  # the Python class TMVA instantiates


def _import_root():
    try:
        import ROOT
    except ImportError as err:
        raise DependencyError(
            "PyLSTM needs ROOT with TMVA: install it with `conda install -c conda-forge root`"
        ) from err
    return ROOT


def _namespace(ROOT, name: str):
    scope = ROOT
    for part in name.split("::"):
        try:
            scope = getattr(scope, part)
        except AttributeError:
            scope = None
        if scope is None:
            raise TmvaUnavailableError(
                f"this ROOT ({ROOT.gROOT.GetVersion()}) has no C++ namespace {name!r}: TMVA is "
                "not built in (the PyPI 'ROOT' wheel has none); install ROOT with TMVA, e.g. "
                "`conda install -c conda-forge root`"
            )
    return scope


def _has(scope, name: str) -> bool:
    try:
        return getattr(scope, name) is not None
    except AttributeError:
        return False


def is_tmva_available() -> bool:
    """True when ROOT imports and has TMVA (``ROOT.TMVA.MethodBase``)."""
    try:
        import ROOT
    except ImportError:
        return False
    return _has(ROOT, "TMVA") and _has(ROOT.TMVA, "MethodBase")


def default_base(ROOT, tmva) -> str:
    """The base class :func:`register` uses by default for the TMVA namespace proxy ``tmva``.

    ``PyMethodBase`` where it exists and ROOT is older than 6.42; ``MethodBase`` otherwise:
    from 6.42 on, constructing any PyMVA method prints PyMVA's deprecation warning (PR #23260),
    which would tell PyLSTM users that something they do not use is going away.
    """
    if _has(tmva, "PyMethodBase") and int(ROOT.gROOT.GetVersionInt()) < PYMVA_DEPRECATED_SINCE:
        return "PyMethodBase"
    return "MethodBase"


def _make_hook(glue, cls):
    class CreatorHook(glue.CreatorHook):
        """ClassifierFactory's creator for PyLSTM, called from C++ (``CreateMethod``)."""

        def CreateForTraining(self, job, title, dsi, option):
            method = cls(job, title, dsi, option)
            method.__python_owns__ = False  # TMVA owns and deletes it
            return method

        def CreateFromWeightFile(self, dsi, weight_file):
            method = cls(dsi, weight_file)
            method.__python_owns__ = False
            return method

    hook = CreatorHook()
    hook.__python_owns__ = False  # referenced from a C++ static for the rest of the process
    return hook


def register(
    namespace: str = "TMVA", *, base: str | None = None, blas_threads: int | None = None
) -> Registration:
    """Make the method name ``PyLSTM`` bookable in this process; calling it again is harmless.

    Registers a creator with ``TMVA::ClassifierFactory`` and maps the name to a method type
    (``Types::kPlugins``, or the value after ``kMaxMethod`` where TMVA's own "Plugins" method
    holds kPlugins; see :mod:`tmva_lstm.tmva._cpp`) so that the method's directories, weight-file
    names and ``Reader::BookMVA`` resolve to PyLSTM.

    Args:
        namespace: C++ namespace of TMVA. Tests pass a stand-in's namespace.
        base: ``"PyMethodBase"`` or ``"MethodBase"``; default: :func:`default_base`
            (MethodBase on ROOT >= 6.42 or without PyMVA, else PyMethodBase).
        blas_threads: if given, default the BLAS thread counts to it (see
            :func:`pin_blas_threads`; effective only before NumPy is imported).
    """
    if blas_threads is not None:
        pin_blas_threads(blas_threads)
    if namespace in _registrations:
        return _registrations[namespace]

    from tmva_lstm.tmva._cpp import GlueSpec, declare_glue
    from tmva_lstm.tmva.method import method_class

    ROOT = _import_root()
    tmva = _namespace(ROOT, namespace)
    for needed in ("MethodBase", "ClassifierFactory", "Types", "DataSetInfo"):
        if not _has(tmva, needed):
            raise TmvaUnavailableError(f"{namespace}::{needed} is not available in this ROOT")
    if base is None:
        base = default_base(ROOT, tmva)
    if base not in ("PyMethodBase", "MethodBase") or not _has(tmva, base):
        raise TmvaUnavailableError(f"{namespace}::{base} is not available as a base class")
    includes = _TMVA_HEADERS if namespace == "TMVA" else ()
    if namespace == "TMVA" and base == "PyMethodBase":
        includes += ("TMVA/PyMethodBase.h",)
    spec = GlueSpec(
        namespace=namespace,
        base=base,
        types_singleton=_has(tmva.Types, "Instance"),
        includes=includes,
    )
    glue = declare_glue(spec)
    cls = method_class(glue)
    hook = _make_hook(glue, cls)
    method_type = int(glue.RegisterMethod(hook, METHOD_NAME))
    if method_type < 0:
        raise RuntimeError(
            f"{METHOD_NAME!r} is already registered with {namespace}::ClassifierFactory by code "
            "other than tmva_lstm.tmva.register() in this process"
        )
    _hooks.append(hook)
    registration = Registration(METHOD_NAME, method_type, namespace, base, cls)
    _registrations[namespace] = registration
    return registration
