"""The ``tmva-lstm`` command: argument parsing over :mod:`tmva_lstm.workflow`.

Bad input ends with a one-line message and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
import time
import warnings
from collections.abc import Sequence

from .errors import OptionError, TmvaLstmError

EXAMPLES = {
    "train": """\
        tmva-lstm train --signal data.root:sgn --background data.root:bkg \\
            --layout 'per-step:vars_time{t}' --n-train-signal 1600 --n-train-background 1600 \\
            --options 'InputLayout=10|30:Layout=LSTM|10,DENSE|64|TANH,LINEAR:MaxEpochs=20:BatchSize=100' \\
            --output-dir results

        # Multiclass (AnalysisType=Multiclass): one --class NAME=FILE:TREE per class
        tmva-lstm train --class Signal=sig.root:t --class ttbar=tt.root:t --class WJets=w.root:t \\
            --layout 'per-step:x{t}' --options 'Layout=LSTM|8,DENSE|32|TANH,LINEAR:MaxEpochs=20'

        # Regression (AnalysisType=Regression): one sample, one --target EXPR per target
        tmva-lstm train --input calib.root:t --target 'E_true' --target 'eta_true' \\
            --layout 'jagged:hit_e,hit_t:max=20' --options 'VarTransform=N:MaxEpochs=20'

        # Recurrent layers, MethodDL's fields TYPE|H|inputSize|timeSteps|rememberState|returnSequence
        # (GRU adds resetGateAfter: 0 = TMVA's default, 1 = PyTorch's and Keras' reset_after):
        #   Layout=LSTM|10|30|10|0|1,RESHAPE|FLAT,DENSE|64|TANH,LINEAR
        #   Layout=GRU|10|30|10|0|1|0,RESHAPE|FLAT,DENSE|64|TANH,LINEAR
        #   Layout=RNN|10|30|10|0|1,RESHAPE|FLAT,DENSE|64|TANH,LINEAR
        #   Layout=LSTM|16|0|0|0|1,GRU|8,DENSE|32|TANH,LINEAR   (a stack; 0 = follow the input)""",
    "evaluate": """\
        tmva-lstm evaluate results/dataset/weights/TMVAClassification_PyLSTM.weights.xml \\
            --signal test.root:sgn --background test.root:bkg
        tmva-lstm evaluate results/dataset/weights/TMVAMulticlass_PyLSTM.weights.xml \\
            --class Signal=sig.root:t --class ttbar=tt.root:t --class WJets=w.root:t
        tmva-lstm evaluate results/dataset/weights/TMVARegression_PyLSTM.weights.xml \\
            --input calib.root:t --target E_true""",
    "apply": """\
        tmva-lstm apply results/dataset/weights/TMVAClassification_PyLSTM.weights.xml \\
            ntuples/mc16.root:events --output scored.root
        tmva-lstm apply results/dataset/weights/TMVAClassification_PyLSTM.weights.xml \\
            'ntuples/*.root:events' --output-dir scored/ --friend --workers 8""",
    "export-onnx": """\
        tmva-lstm export-onnx results/dataset/weights/TMVAClassification_PyLSTM.weights.xml \\
            --output model.onnx
        # a model trained with --layout jagged gets the int32 input 'length' (valid steps)
        # output 'score': [batch, 1] signal probability; Multiclass: [batch, K] class
        # probabilities (softmax); Regression: [batch, M] targets, in the targets' units
        tmva-lstm export-onnx results/dataset/weights/TMVAMulticlass_PyLSTM.weights.xml \\
            --output multiclass.onnx --batch-size 64""",
    "make-class": """\
        tmva-lstm make-class results/dataset/weights/TMVAClassification_PyLSTM.weights.xml \\
            --output TMVAClassification_PyLSTM.class.C
        # Multiclass: the class answers GetMulticlassValues(values) (K probabilities), as TMVA's
        # Regression: GetMvaValue(values) = the first target, GetRegressionValues(values) = all
        tmva-lstm make-class results/dataset/weights/TMVARegression_PyLSTM.weights.xml \\
            --output TMVARegression_PyLSTM.class.C""",
    "demo": """\
        tmva-lstm demo --output-dir results""",
    "root": """\
        tmva-lstm root 'macros/TMVA_LSTM_Classification.C("data/time_data_t10_d30.root", 20)'""",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _sub(subs, name: str, help_text: str) -> argparse.ArgumentParser:
    return subs.add_parser(
        name,
        help=help_text,
        description=help_text,
        epilog="example:\n" + textwrap.dedent(EXAMPLES[name]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _data_args(p: argparse.ArgumentParser, layout_required: bool) -> None:
    p.add_argument("--signal", "-s", nargs="+", metavar="FILE:TREE",
                   help="signal source(s): file.root:tree, globs allowed")  # fmt: skip
    p.add_argument("--background", "-b", nargs="+", metavar="FILE:TREE",
                   help="background source(s); omit with --class-expr")  # fmt: skip
    p.add_argument("--layout", "-l", required=layout_required,
                   help="sequence layout: per-step:vars_time{t}[:T=10] | array:x | jagged:a,b:max=20")  # fmt: skip
    p.add_argument("--cut", help="selection expression, e.g. 'nTrk > 2'")
    p.add_argument("--weight", help="event-weight expression, e.g. 'w * xsec'")
    p.add_argument("--class-expr", help="with one source: expression true for signal events")


def _typed_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--class", dest="classes", action="append", metavar="NAME=FILE:TREE",
                   help="Multiclass: a class and its source, in class order (repeat per class; "
                   "repeat a name to add sources)")  # fmt: skip
    p.add_argument("--input", nargs="+", metavar="FILE:TREE",
                   help="Regression: the sample's source(s), with --target")  # fmt: skip
    p.add_argument("--target", action="append", metavar="EXPR",
                   help="Regression: a target expression (repeat per target)")  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tmva-lstm",
        description="An LSTM classifier for HEP ntuples, with TMVA-compatible outputs.",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"tmva-lstm {__version__}")
    subs = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = _sub(
        subs,
        "train",
        "Train on ntuples and write TMVA's outputs (ROOT file, weight file, ROC plot).",
    )
    _data_args(p, layout_required=True)
    p.add_argument(
        "--options",
        "-o",
        default="",
        help="TMVA option string, e.g. 'Layout=LSTM|10,LINEAR:MaxEpochs=20' (LSTM, GRU or RNN)",
    )
    p.add_argument("--output-dir", default="results", help="where outputs go (default: results)")
    p.add_argument("--title", default="PyLSTM", help="method title (score branch name)")
    p.add_argument("--job", default="TMVAClassification",
                   help="job name (file names; default TMVAClassification, TMVAMulticlass with "
                   "--class, TMVARegression with --target)")  # fmt: skip
    p.add_argument("--n-train-signal", type=int, default=0, help="signal training events (0: half)")
    p.add_argument(
        "--n-train-background", type=int, default=0, help="background training events (0: half)"
    )
    p.add_argument(
        "--split-seed", type=int, default=100, help="seed of the random train/test split"
    )
    _typed_args(p)
    p.add_argument("--n-train", action="append", metavar="NAME=N",
                   help="Multiclass: training events of class NAME; Regression: N (0: half)")  # fmt: skip
    p.add_argument("--resume", action="store_true",
                   help="continue from the last checkpoint (any analysis type; same data and "
                   "options: the result equals an uninterrupted run)")  # fmt: skip
    p.add_argument("--memmap", action="store_true",
                   help="keep the inputs on disk (OUTPUT_DIR/inputs.npy): samples larger than memory")  # fmt: skip

    p = _sub(
        subs,
        "evaluate",
        "Evaluate a trained model on labelled ntuples (TMVA's ROC integral and efficiencies).",
    )
    p.add_argument("model", help="model file (.weights.xml)")
    _data_args(p, layout_required=False)
    _typed_args(p)
    p.add_argument("--output-dir", help="also write summary.txt and the plots here (ROC, "
                   "response; Multiclass, Regression: the figures of their type)")  # fmt: skip

    _apply_args(subs)

    p = _sub(
        subs, "export-onnx", "Export a trained model to ONNX for C++ inference with TMVA SOFIE."
    )
    p.add_argument("model", help="model file (.weights.xml)")
    p.add_argument("--output", required=True, help="output .onnx file")
    p.add_argument(
        "--batch-size", type=int, default=1, help="fixed batch size of the graph (SOFIE needs one)"
    )
    p.add_argument("--sequence-lengths", action=argparse.BooleanOptionalAction, default=None,
                   help="add the int32 input 'length' (valid leading steps per event) that the "
                   "recurrent layers honour (default: yes exactly when the model was trained "
                   "with masks, e.g. --layout jagged; such a model is refused without it)")  # fmt: skip

    p = _sub(
        subs, "make-class", "Write a standalone C++17 response class (TMVA's MakeClass layout)."
    )
    p.add_argument("model", help="model file (.weights.xml)")
    p.add_argument("--output", help="output .class.C file (default: <job>_<title>.class.C)")
    p.add_argument("--title", default="PyLSTM", help="method title: the class is Read<title>")
    p.add_argument("--job", default="TMVAClassification", help="job name (default file name)")

    p = _sub(
        subs, "demo", "Train the TMVA RNN tutorial's LSTM on the shipped sample and write results/."
    )
    p.add_argument("--output-dir", default="results", help="where outputs go (default: results)")
    p.add_argument("--data", help="sample file (default: data/time_data_t10_d30.root)")
    p.add_argument("--epochs", type=int, help="override MaxEpochs (the tutorial uses 20)")

    p = _sub(subs, "root", "Run a C++ ROOT macro with PyLSTM registered in this process "
             "(any ROOT with TMVA; no TPython needed). Exit status: the macro's.")  # fmt: skip
    p.add_argument("macro", help="the macro and its arguments, quoted as for root: 'm.C(\"a\", 2)'")
    p.add_argument("--declare", action="append", default=[], metavar="HEADER",
                   help="C++ header to declare before registering (e.g. a TMVA stand-in, for tests)")  # fmt: skip
    p.add_argument("--tmva-namespace", default="TMVA", help="C++ namespace of TMVA (default: TMVA)")
    return parser


def _sources(values: Sequence[str] | None):
    if values is None:
        return None
    return list(values) if len(values) > 1 else values[0]


def run(args: argparse.Namespace) -> int:
    from . import workflow

    if args.command == "train" and (args.classes or args.target or args.input):
        return _train_typed(args)
    if args.command in ("train", "demo"):
        if args.command == "train":
            if not args.signal:
                raise OptionError(
                    "train needs --signal (and --background or --class-expr), or --class "
                    "NAME=FILE:TREE per class (Multiclass), or --input with --target (Regression)"
                )
            result = workflow.train_on_files(
                _sources(args.signal), _sources(args.background), layout=args.layout,
                options=args.options, output_dir=args.output_dir, title=args.title, job=args.job,
                cut=args.cut, weight=args.weight, class_expr=args.class_expr,
                n_train_signal=args.n_train_signal, n_train_background=args.n_train_background,
                split_seed=args.split_seed, resume_training=args.resume, memmap=args.memmap,
            )  # fmt: skip
            title = args.title
        else:
            result = workflow.demo(args.output_dir, args.data, args.epochs)
            title = "PyLSTM"
        print(result.evaluation.summary(title))
        for kind, path in result.files.items():
            print(f"  {kind:>10}: {path}")
        print(f"ROC integral (TMVA): {result.roc_integral:.4f}")
    elif args.command == "evaluate" and (args.classes or args.target or args.input):
        return _evaluate_typed(args)
    elif args.command == "evaluate":
        if not args.signal:
            raise OptionError("evaluate needs --signal (and --background or --class-expr)")
        from .modelfile import model_title

        ev = workflow.evaluate_on_files(
            args.model, _sources(args.signal), _sources(args.background), layout=args.layout,
            cut=args.cut, weight=args.weight, class_expr=args.class_expr, output_dir=args.output_dir,
        )  # fmt: skip
        print(workflow.test_summary(ev, model_title(args.model)))
        print(f"ROC integral (TMVA): {ev.roc_integral:.4f}")
    elif args.command == "apply":
        return _apply(args)
    elif args.command == "export-onnx":
        from .export_onnx import export_onnx_file

        path = export_onnx_file(
            args.model, args.output, batch_size=args.batch_size,
            sequence_lengths=args.sequence_lengths,
        )  # fmt: skip
        print(f"wrote {path}")
    elif args.command == "make-class":
        from .makeclass import make_class
        from .model import Model

        model = Model.load(args.model)
        print(f"wrote {make_class(model, args.output, title=args.title, job=args.job)}")
    elif args.command == "root":
        from .tmva.launcher import run_macro

        return run_macro(args.macro, namespace=args.tmva_namespace, declare=args.declare)
    return 0


def _train_typed(args: argparse.Namespace) -> int:
    """``train`` with ``--class`` (Multiclass) or ``--input``/``--target`` (Regression)."""
    from . import workflow

    classes, regression = _typed_sources(args)
    common = dict(
        layout=args.layout, options=args.options, output_dir=args.output_dir, title=args.title,
        cut=args.cut, weight=args.weight, split_seed=args.split_seed,
        resume_training=args.resume, memmap=args.memmap, job=_job_name(args),
    )  # fmt: skip
    counts = _name_values(args.n_train or [], "--n-train", "NAME=N")
    if classes is not None:
        n_train = {name: _count(value, name) for name, value in counts}
        result = workflow.train_classes_on_files(classes, n_train=n_train, **common)
    else:
        n = sum(_count(v, n) for n, v in counts) if counts else 0
        sources, targets = regression
        result = workflow.train_regression_on_files(sources, targets=targets, n_train=n, **common)
    print(result.evaluation.summary(args.title), end="")
    for kind, path in result.files.items():
        print(f"  {kind:>10}: {path}")
    return 0


def _job_name(args: argparse.Namespace) -> str:
    """The job name of ``train``: --job, else TMVA's tutorial name for the analysis type."""
    if args.job != "TMVAClassification":
        return args.job
    if args.classes:
        return "TMVAMulticlass"
    return "TMVARegression" if (args.target or args.input) else args.job


def _typed_sources(args: argparse.Namespace):
    """``(classes, None)`` for --class, ``(None, (sources, targets))`` for --input/--target."""
    if args.signal or args.background or args.class_expr:
        raise OptionError(
            "--class/--input/--target replace --signal, --background and --class-expr; "
            "give one kind of sources"
        )
    if args.classes:
        if args.input or args.target:
            raise OptionError("--class (Multiclass) and --input/--target (Regression) exclude "
                              "each other")  # fmt: skip
        classes: dict[str, list[str]] = {}
        for name, source in _name_values(args.classes, "--class", "NAME=FILE:TREE"):
            classes.setdefault(name, []).append(source)
        return {k: v if len(v) > 1 else v[0] for k, v in classes.items()}, None
    if not args.input or not args.target:
        raise OptionError("Regression needs --input FILE:TREE and at least one --target EXPR")
    return None, (_sources(args.input), args.target)


def _evaluate_typed(args: argparse.Namespace) -> int:
    from . import workflow
    from .modelfile import model_title

    classes, regression = _typed_sources(args)
    title = model_title(args.model)  # the title the model was saved with, as for two classes
    ev = workflow.evaluate_typed_on_files(
        args.model, classes=classes, regression=regression, layout=args.layout, cut=args.cut,
        weight=args.weight, output_dir=args.output_dir, title=title,
    )  # fmt: skip
    print(ev.summary(title), end="")
    return 0


def _name_values(items: Sequence[str], flag: str, form: str) -> list[tuple[str, str]]:
    out = []
    for item in items:
        name, sep, value = item.partition("=")
        if not sep and flag == "--n-train":
            name, value = "Regression", item
        elif not sep or not name.strip() or not value.strip():
            raise OptionError(f"bad {flag} {item!r}; use {form}")
        out.append((name.strip(), value.strip()))
    return out


def _count(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise OptionError(f"--n-train {name}={text}: not an integer") from None


def _apply_args(subs) -> None:
    p = _sub(subs, "apply", "Score ntuples with a trained model, streaming: a copy of each tree "
             "with the score branch, or a friend tree.")  # fmt: skip
    p.add_argument("model", help="model file (.weights.xml)")
    p.add_argument("sources", nargs="+", metavar="FILE:TREE", help="input ntuples (globs allowed)")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--output", help="one output ROOT file (several inputs: joined in a copy, "
                       "one friend tree each with --friend)")  # fmt: skip
    where.add_argument("--output-dir", help="one output per input file, same file names; "
                       "parallel on Dask workers; a rerun skips finished files")  # fmt: skip
    p.add_argument("--layout", help="sequence layout (default: the one the model was trained with)")
    p.add_argument("--branch", help="score branch name (default: the model's title)")
    p.add_argument("--friend", action="store_true",
                   help="write only the score branch (a friend tree, entry for entry)")  # fmt: skip
    p.add_argument("--overwrite-branch", action="store_true",
                   help="in a copy, replace an input branch that has the score's name")  # fmt: skip
    p.add_argument("--non-finite", choices=("stop", "drop", "score"), default="stop",
                   help="events with NaN/Inf inputs: stop (default), drop them from the copy, "
                   "or score them -999 as TMVA::Reader does")  # fmt: skip
    p.add_argument("--step-size", default="100 MB",
                   help="entries per range, or memory per range (default: 100 MB)")  # fmt: skip
    p.add_argument("--workers", type=int,
                   help="with --output-dir: local Dask worker processes (default: the cores; "
                   "0: in this process, without Dask)")  # fmt: skip
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="with --output-dir: a running Dask scheduler, e.g. tcp://host:8786")  # fmt: skip
    p.add_argument("--retries", type=int, default=2,
                   help="with --output-dir: retries of a failing task (default: 2)")  # fmt: skip


def _apply(args: argparse.Namespace) -> int:
    from .scoring import ApplyWarning

    options = dict(layout=args.layout, branch=args.branch, friend=args.friend,
                   overwrite_branch=args.overwrite_branch, non_finite=args.non_finite,
                   step_size=_step(args.step_size))  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ApplyWarning)
        if args.output is not None:
            if args.workers is not None or args.scheduler is not None:
                raise OptionError("--workers and --scheduler go with --output-dir, not --output")
            from .scoring import apply_to_files

            path = apply_to_files(args.model, _sources(args.sources), args.output, **options)
            report = None
        else:
            from .distributed import apply_files

            if args.workers is not None and args.workers < 0:
                raise OptionError(f"--workers must be 0 or more, not {args.workers}")
            report = apply_files(
                args.model, _sources(args.sources), args.output_dir, scheduler=args.scheduler,
                workers=args.workers, retries=args.retries, progress=_print_file, **options,
            )  # fmt: skip
    for w in caught:
        if issubclass(w.category, ApplyWarning):
            print(f"tmva-lstm: warning: {w.message}", file=sys.stderr)
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    if report is None:
        print(f"wrote {path}")
        return 0
    print(report.summary())
    return 2 if report.failures else 0


def _print_file(file_report) -> None:
    print(file_report.line(), flush=True)


def _step(text: str) -> int | str:
    return int(text) if text.strip().isdigit() else text


def _interrupted(args: argparse.Namespace, started: float) -> str:
    """What an interrupt leaves behind, truthfully."""
    if args.command in ("train", "demo"):
        from .workflow import checkpoint_path

        job, title = (
            (_job_name(args), args.title)
            if args.command == "train"
            else ("TMVA_LSTM_Classification", "PyLSTM")
        )
        ckpt = checkpoint_path(args.output_dir, job, title)
        try:
            fresh = ckpt.stat().st_mtime >= started
        except OSError:
            return "interrupted before the first epoch ended; no checkpoint was written"
        if fresh:
            return f"interrupted; the last completed epoch is in {ckpt} (continue with --resume)"
        if getattr(args, "resume", False):
            return f"interrupted before an epoch ended; {ckpt} is unchanged (--resume again)"
        return f"interrupted before the first epoch ended; {ckpt} is from an earlier run"
    if args.command == "apply" and args.output is not None:
        return f"interrupted; {args.output} was not written (nor changed)"
    if args.command == "apply":
        return (f"interrupted; the outputs in {args.output_dir} that were finished are complete, "
                "no other was written; the same command finishes the job (it skips them)")  # fmt: skip
    return "interrupted"


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Our warnings as one line, like our errors (Python's own format shows a source line)."""
    from .errors import TmvaLstmWarning

    if issubclass(category, TmvaLstmWarning):
        print(f"tmva-lstm: warning: {message}", file=sys.stderr)
    else:
        _python_show_warning(message, category, filename, lineno, file, line)


_python_show_warning = warnings.showwarning


def main(argv: Sequence[str] | None = None) -> int:
    # Our own entry point: quiet the PyPI ROOT wheel's alpha-stage notice if ROOT gets imported.
    warnings.filterwarnings("ignore", message=r"\s*This distribution of ROOT is in alpha stage")
    warnings.showwarning = _show_warning
    parser = build_parser()
    args = parser.parse_args(argv)
    started = time.time()
    if args.command == "apply":
        # One BLAS thread, as on Dask workers: a score then has the same bits in every process
        # (OpenBLAS rounds a float32 GEMM differently when it splits it between threads).
        from .tmva._threads import pin_blas_threads

        pin_blas_threads(1)
    try:
        return run(args)
    except TmvaLstmError as err:
        print(f"tmva-lstm: error: {err}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as err:  # anything else the inputs can cause
        print(f"tmva-lstm: error: {type(err).__name__}: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"tmva-lstm: {_interrupted(args, started)}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
