"""Measure the quality floor of the Multiclass and Regression tests with PyTorch (not a test).

Trains, on the samples of ``tests/sequences.py``, a PyTorch model of the same shape as the
tests' PyLSTM (``LSTM|8,DENSE|32|TANH,LINEAR``: LSTM last state -> 32 tanh -> linear), with
the same protocol (Adam, batch 32, validation = the last 20 % of the training sample, the
best-validation weights kept), and prints its test-sample figures beside tmva_lstm's, for
several seeds. The figures are written into the docstrings of ``tests/test_types.py``.

    PYTHONPATH=. python tests/torch_quality_types.py
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from sequences import (  # noqa: E402
    CLASS_NAMES,
    TARGET_NAMES,
    bayes_accuracy,
    regression_sample,
    three_class_sample,
)

import tmva_lstm as tl  # noqa: E402

N_PER_CLASS, N_REG, EPOCHS, EPOCHS_REG, LR, BATCH = 1000, 3000, 20, 40, 3e-3, 32
MC_OPTIONS = (
    "AnalysisType=Multiclass:ErrorStrategy=MUTUALEXCLUSIVE:WeightInitialization=XAVIERUNIFORM:"
    "Layout=LSTM|8,DENSE|32|TANH,LINEAR:"
    f"MaxEpochs={EPOCHS}:BatchSize={BATCH}:LearningRate={LR}:Silent"
)
REG_OPTIONS = (
    "AnalysisType=Regression:VarTransform=N:WeightInitialization=XAVIERUNIFORM:"
    "Layout=LSTM|8,DENSE|32|TANH,LINEAR:"
    f"MaxEpochs={EPOCHS_REG}:BatchSize={BATCH}:LearningRate={LR}:Silent"
)


class Net(torch.nn.Module):
    def __init__(self, n_out: int) -> None:
        super().__init__()
        self.lstm = torch.nn.LSTM(2, 8, batch_first=True)
        self.dense = torch.nn.Linear(8, 32)
        self.out = torch.nn.Linear(32, n_out)

    def forward(self, x):
        h, _ = self.lstm(x)
        return self.out(torch.tanh(self.dense(h[:, -1])))


def fit_torch(X, Y, loss_fn, n_out: int, seed: int, epochs: int) -> Net:
    torch.manual_seed(seed)
    net = Net(n_out)
    n_train = len(X) - len(X) // 5
    xt, yt = torch.tensor(X[:n_train]), torch.tensor(Y[:n_train])
    xv, yv = torch.tensor(X[n_train:]), torch.tensor(Y[n_train:])
    opt = torch.optim.Adam(net.parameters(), lr=LR, eps=1e-7)
    gen = torch.Generator().manual_seed(seed)
    best, best_state = float("inf"), None
    for _ in range(epochs):
        order = torch.randperm(n_train, generator=gen)
        for b in range(n_train // BATCH):
            idx = order[b * BATCH : (b + 1) * BATCH]
            opt.zero_grad()
            loss_fn(net(xt[idx]), yt[idx]).backward()
            opt.step()
        with torch.no_grad():
            val = float(loss_fn(net(xv), yv))
        if val < best:
            best, best_state = val, copy.deepcopy(net.state_dict())
    net.load_state_dict(best_state)
    return net


def multiclass(seed: int) -> tuple[float, float, float]:
    X, y = three_class_sample(N_PER_CLASS, seed)
    Xt, yt = three_class_sample(N_PER_CLASS, seed + 1000)
    net = fit_torch(X, y, torch.nn.functional.cross_entropy, 3, seed, EPOCHS)
    with torch.no_grad():
        acc_torch = float((net(torch.tensor(Xt)).argmax(1).numpy() == yt).mean())
    model = tl.train(X, y, None, f"{MC_OPTIONS}:RandomSeed={seed + 1}", class_names=CLASS_NAMES)
    acc_ours = float((model.predict(Xt).argmax(1) == yt).mean())
    return acc_torch, acc_ours, bayes_accuracy(Xt, yt)


def regression(seed: int) -> tuple[np.ndarray, np.ndarray]:
    X, Y = regression_sample(N_REG, seed)
    Xt, Yt = regression_sample(N_REG, seed + 1000)
    n_train = N_REG - N_REG // 5
    lo, hi = Y[:n_train].min(0), Y[:n_train].max(0)  # VarTransform=N on the targets
    xlo, xhi = X[:n_train].min(0), X[:n_train].max(0)  # ... and on the inputs

    def norm_x(a):
        return (2 * (a - xlo) / (xhi - xlo) - 1).astype(np.float32)

    Yn = (2 * (Y - lo) / (hi - lo) - 1).astype(np.float32)
    net = fit_torch(norm_x(X), Yn, torch.nn.functional.mse_loss, 2, seed, EPOCHS_REG)
    with torch.no_grad():
        pred = (net(torch.tensor(norm_x(Xt))).numpy() + 1) / 2 * (hi - lo) + lo
    rms_torch = np.sqrt(((pred - Yt) ** 2).mean(0)) / Yt.std(0)
    model = tl.train(X, Y, None, f"{REG_OPTIONS}:RandomSeed={seed + 1}", target_names=TARGET_NAMES)
    rms_ours = np.sqrt(((model.predict(Xt) - Yt) ** 2).mean(0)) / Yt.std(0)
    return rms_torch, rms_ours


if __name__ == "__main__":
    torch.set_num_threads(1)
    if "--regression" not in sys.argv:
        print("Multiclass test-sample accuracy (torch, tmva_lstm, Bayes-optimal):")
        for seed in range(5):
            print(f"  seed {seed}: " + "  ".join(f"{v:.3f}" for v in multiclass(seed)))
    print("Regression test-sample RMS / target std (torch [mean, first], tmva_lstm [mean, first]):")
    for seed in range(5):
        t, o = regression(seed)
        print(f"  seed {seed}: {t.round(3)}  {o.round(3)}")
