"""The TMVA option-string parser: both directions, TMVA's quirks, and its errors."""

from __future__ import annotations

import pytest

from tmva_lstm.errors import OptionError
from tmva_lstm.options import MethodOptions, TrainingOptions, parse_layout, parse_validation_size

TUTORIAL = (
    "!H:V:ErrorStrategy=CROSSENTROPY:VarTransform=None:WeightInitialization=XAVIERUNIFORM:"
    "ValidationSize=0.2:RandomSeed=1234:InputLayout=10|30:"
    "Layout=LSTM|10|30|10|0|1,RESHAPE|FLAT,DENSE|64|TANH,LINEAR:"
    "TrainingStrategy=LearningRate=1e-3,Momentum=0.0,Repetitions=1,ConvergenceSteps=5,BatchSize=100,"
    "TestRepetitions=1,WeightDecay=1e-2,Regularization=None,MaxEpochs=20,Optimizer=ADAM,"
    "DropConfig=0.0+0.+0.+0.:Architecture=CPU"
)


def test_tutorial_string_parses_to_tmva_values():
    o = MethodOptions.from_string(TUTORIAL)
    assert (o.help, o.verbose) == (False, True)
    assert o.input_layout == (10, 30)
    assert o.weight_initialization == "XAVIERUNIFORM"
    assert o.random_seed == 1234 and o.validation_size == "0.2"
    assert o.training == [
        TrainingOptions(max_epochs=20, batch_size=100, learning_rate=1e-3, momentum=0.0,
                        optimizer="ADAM", weight_decay=1e-2, regularization="NONE",
                        convergence_steps=5, test_repetitions=1)
    ]  # fmt: skip
    assert [layer.kind for layer in o.layers()] == ["LSTM", "FLATTEN", "DENSE", "DENSE"]


@pytest.mark.parametrize(
    "text",
    [
        TUTORIAL,
        "",
        "!H:!V:Silent:NumEpochs=3:BatchSize=7:Optimizer=sgd:Momentum=0.9",
        "TrainingStrategy=MaxEpochs=2,Optimizer=RMSPROP|MaxEpochs=3,LearningRate=1e-4:VarTransform=N",
        "InputLayout=1|10|30:DataSource=uproot:NonFinite=DROP:IgnoreNegWeightsInTraining",
    ],
)
def test_round_trip(text):
    o = MethodOptions.from_string(text)
    again = MethodOptions.from_string(o.to_string())
    assert again == o, f"{o.to_string()!r} parsed back differently"
    assert again.to_string() == o.to_string()


def test_keys_are_case_insensitive_and_values_upper_cased():
    o = MethodOptions.from_string("inputlayout=5|2:OPTIMIZER=adagrad:maxepochs=4")
    assert o.input_layout == (5, 2)
    assert o.training[0].optimizer == "ADAGRAD" and o.training[0].max_epochs == 4


def test_top_level_training_keys_apply_to_every_phase():
    o = MethodOptions.from_string("TrainingStrategy=MaxEpochs=2|MaxEpochs=3:BatchSize=64")
    assert [p.batch_size for p in o.training] == [64, 64]
    assert [p.max_epochs for p in o.training] == [2, 3]


def test_bare_enum_value_is_tmva_loose_option():
    assert MethodOptions.from_string("CPU").architecture == "CPU"


def test_known_keys_include_training_and_alias():
    keys = MethodOptions.known_keys()
    assert "NumEpochs" in keys and "MaxEpochs" in keys and "Layout" in keys


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("Layot=LSTM|10,LINEAR", "did you mean 'Layout'"),
        ("Optimizer=ADAMW", "ADAM | SGD"),
        ("MaxEpochs=ten", "expected an integer"),
        ("BatchSize=0", "BatchSize=0 must be a positive"),
        ("LearningRate=-1", "LearningRate=-1.0 must be positive"),
        ("TrainingStrategy=MaxEpoch=3", "did you mean 'MaxEpochs'"),
        ("InputLayout=ten|3", "bad InputLayout"),
        ("Layout=LSTM|10", "must end with a DENSE layer"),
        ("Layout=CONV|4,LINEAR", "CONV in Layout is not supported"),
        ("Layout=LSTM|10|0|0|1,LINEAR", "rememberState=1"),
        ("Layout=DENSE|64|TANHH,LINEAR", "did you mean 'TANH'"),
        ("ValidationSize=abc", "bad ValidationSize"),
        ("ValidationSize=inf", "bad ValidationSize"),  # found by the fuzzer: was OverflowError
        ("ValidationSize=nan%", "bad ValidationSize"),
        ("!Layout", "option Layout needs a value"),
        ("WeightDecay", "needs a value"),
    ],
)
def test_errors_name_the_culprit(text, fragment):
    with pytest.raises(OptionError) as err:
        MethodOptions.from_string(text)
    assert fragment in str(err.value), str(err.value)
    assert isinstance(err.value, ValueError)


def test_layout_widths_and_defaults():
    layers = parse_layout("LSTM|10,DENSE|(N+100)*2|SOFTSIGN,DENSE|RELU|7,LINEAR", n_inputs=30)
    assert layers[0].units == 10 and not layers[0].return_sequences
    assert (layers[1].units, layers[1].activation) == (260, "SOFTSIGN")
    assert (layers[2].units, layers[2].activation) == (7, "RELU")
    assert (layers[3].units, layers[3].activation) == (0, "LINEAR")


@pytest.mark.parametrize(("text", "n"), [("20%", 20), ("0.25", 25), ("7", 7), ("0", 0)])
def test_validation_size_forms(text, n):
    assert parse_validation_size(text, 100) == n


def test_macro_option_strings_parse_and_build_the_tutorial_network():
    """The options the ROOT macros book PyLSTM with (the macros themselves need TMVA)."""
    import importlib.util
    from pathlib import Path

    from tmva_lstm.nn.network import Network

    path = Path(__file__).resolve().parent.parent / "macros" / "TMVA_LSTM_Classification.py"
    spec = importlib.util.spec_from_file_location("macro", path)
    macro = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(macro)  # imports ROOT only inside main()
    opts = MethodOptions.from_string(macro.PYLSTM_OPTIONS.format(epochs=20))
    assert opts.input_layout == (10, 30) and opts.training[0].max_epochs == 20
    net = Network.from_layout(opts.layout, 10, 30)
    assert net.to_layout() == "LSTM|10|30|10|0|1,RESHAPE|FLAT,DENSE|64|TANH,DENSE|1|LINEAR"
