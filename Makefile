# Two commands set everything up on a fresh machine with Python >= 3.10:
#   make demo   creates .venv, installs the package, runs the demonstration job
#   make test   creates .venv, installs the package with its test extras, runs the whole suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-demo: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[plot]"
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,plot,dev]"
	touch $@

demo: $(VENV)/.installed-demo
	$(BIN)/tmva-lstm demo

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

bench: $(VENV)/.installed-test
	$(BIN)/python bench/lstm.py --kinds LSTM,GRU,RNN
	$(BIN)/python bench/read.py
	$(BIN)/python bench/apply.py
	$(BIN)/python bench/apply_files.py
	$(BIN)/python bench/train_memmap.py

lint: $(VENV)/.installed-test
	$(BIN)/ruff check tmva_lstm tests bench data macros

clean:
	rm -rf $(VENV) results .pytest_cache
