"""C++ for each layer kind of the standalone response class (:mod:`tmva_lstm.makeclass`):
one emitter per kind (:data:`EMITTERS`), each returning the layer's static weight arrays and
its member function ``void Layer<i>(const double* in, size_t nSteps, double* out) const``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .errors import OptionError

__all__ = ["EMITTERS", "LayerCode"]


@dataclass
class LayerCode:
    """What an emitter writes for one layer."""

    members: str  # static weight arrays (class scope)
    function: str  # the member function Layer<i>(in, nSteps, out)
    width: int  # values this layer writes to ``out``
    sequence: bool  # whether ``out`` is (T, width / T) step-major or a vector


def _array(name: str, values: np.ndarray) -> str:
    """``static constexpr double name[n] = {...};`` with exact hexadecimal literals."""
    flat = np.asarray(values, dtype=np.float64).ravel()
    items = [float(v).hex() for v in flat]
    lines = [", ".join(items[i : i + 6]) for i in range(0, len(items), 6)]
    body = ",\n      ".join(lines)
    return f"   static constexpr double {name}[{len(flat)}] = {{\n      {body}}};\n"


_ACTIVATION_CPP = {
    "LINEAR": "v",
    "TANH": "Tanh(v)",
    "RELU": "(v > 0 ? v : 0.0)",
    "SIGMOID": "Sigmoid(v)",
    "SYMMRELU": "std::fabs(v)",
    "SOFTSIGN": "(v / (1.0 + std::fabs(v)))",
    "GAUSS": "std::exp(-v * v)",
}


def _sequence_output(H: int, seq: bool) -> tuple[str, str, str]:
    """C++ statements of a recurrent layer's output: ``(store h_t at step t, zeros at a
    padded step t, the last state after the loop)``; every step's (``seq``) or the last."""
    store = f"out[t * {H} + j] = h[j];" if seq else ""
    pad = f"for (size_t j = 0; j < {H}; ++j) out[t * {H} + j] = 0.0;" if seq else ""
    last = "" if seq else f"for (size_t j = 0; j < {H}; ++j) out[j] = h[j];"
    return store, pad, last


def _emit_lstm(i: int, layer, params: dict, T: int) -> LayerCode:
    """LSTM (gates i, f, g, o; ``W (F, 4H)``, ``U (H, 4H)``, ``b (4H,)``; steps from
    ``nSteps`` on are padding: the state is carried and the output is zero)."""
    F, H, seq = layer.n_in, layer.units, layer.return_sequences
    members = (
        _array(f"kW{i}", params["W"])
        + _array(f"kU{i}", params["U"])
        + _array(f"kB{i}", params["b"])
    )
    store, pad, last = _sequence_output(H, seq)
    function = f"""
   // layer {i}: LSTM, {F} inputs per step -> {H} states{", every step" if seq else ", last state"}
   void Layer{i}(const double* in, size_t nSteps, double* out) const
   {{
      double h[{H}] = {{}}, c[{H}] = {{}}, z[{4 * H}];
      for (size_t t = 0; t < {T}; ++t) {{
         if (t >= nSteps) {{ {pad} continue; }}
         for (size_t j = 0; j < {4 * H}; ++j) z[j] = kB{i}[j];
         for (size_t k = 0; k < {F}; ++k) {{  // z = x_t W + h_(t-1) U + b
            const double xk = in[t * {F} + k];
            for (size_t j = 0; j < {4 * H}; ++j) z[j] += xk * kW{i}[k * {4 * H} + j];
         }}
         for (size_t k = 0; k < {H}; ++k) {{
            const double hk = h[k];
            for (size_t j = 0; j < {4 * H}; ++j) z[j] += hk * kU{i}[k * {4 * H} + j];
         }}
         for (size_t j = 0; j < {H}; ++j) {{
            const double ig = Sigmoid(z[j]), fg = Sigmoid(z[{H} + j]);
            const double gg = Tanh(z[{2 * H} + j]), og = Sigmoid(z[{3 * H} + j]);
            c[j] = fg * c[j] + ig * gg;  // c_t = f c_(t-1) + i g
            h[j] = og * Tanh(c[j]);  // h_t = o tanh(c_t)
            {store}
         }}
      }}
      {last}
   }}
"""
    return LayerCode(members, function, T * H if seq else H, seq)


def _emit_gru(i: int, layer, params: dict, T: int) -> LayerCode:
    """GRU (blocks r, z, n; ``W (F, 3H)``, ``U (H, 3H)``, ``b (3H,)``, ``b_hn (H,)`` if any;
    the reset gate before or after the recurrent matmul as ``layer.reset_after``; steps from
    ``nSteps`` on are padding: the state is carried and the output is zero)."""
    F, H, seq = layer.n_in, layer.units, layer.return_sequences
    b_hn = params.get("b_hn")
    members = (
        _array(f"kW{i}", params["W"])
        + _array(f"kU{i}", params["U"])
        + _array(f"kB{i}", params["b"])
        + _array(f"kBhn{i}", np.zeros(H) if b_hn is None else b_hn)
    )
    store, pad, last = _sequence_output(H, seq)
    if layer.reset_after:  # n = tanh(x W_n + b_n + r (h U_n + b_hn))
        recurrent = f"""
         for (size_t j = 0; j < {2 * H}; ++j) hz[j] = 0.0;
         for (size_t j = 0; j < {H}; ++j) hz[{2 * H} + j] = kBhn{i}[j];
         for (size_t k = 0; k < {H}; ++k) {{  // hz = h_(t-1) U (+ b_hn for n)
            const double hk = h[k];
            for (size_t j = 0; j < {3 * H}; ++j) hz[j] += hk * kU{i}[k * {3 * H} + j];
         }}
         for (size_t j = 0; j < {H}; ++j) r[j] = Sigmoid(xz[j] + hz[j]);
         for (size_t j = 0; j < {H}; ++j) hz[{2 * H} + j] *= r[j];  // r (h U_n + b_hn)"""
    else:  # n = tanh(x W_n + (r h) U_n + b_n)
        recurrent = f"""
         for (size_t j = 0; j < {3 * H}; ++j) hz[j] = 0.0;
         for (size_t k = 0; k < {H}; ++k) {{  // r, z blocks: h_(t-1) U
            const double hk = h[k];
            for (size_t j = 0; j < {2 * H}; ++j) hz[j] += hk * kU{i}[k * {3 * H} + j];
         }}
         for (size_t j = 0; j < {H}; ++j) r[j] = Sigmoid(xz[j] + hz[j]);
         for (size_t k = 0; k < {H}; ++k) {{  // n block: (r h_(t-1)) U_n
            const double rk = r[k] * h[k];
            for (size_t j = 0; j < {H}; ++j) hz[{2 * H} + j] += rk * kU{i}[k * {3 * H} + {2 * H} + j];
         }}"""
    placement = "after" if layer.reset_after else "before"
    function = f"""
   // layer {i}: GRU (reset gate {placement} the matmul), {F} inputs per step -> {H} states{", every step" if seq else ", last state"}
   void Layer{i}(const double* in, size_t nSteps, double* out) const
   {{
      double h[{H}] = {{}}, r[{H}], xz[{3 * H}], hz[{3 * H}];
      for (size_t t = 0; t < {T}; ++t) {{
         if (t >= nSteps) {{ {pad} continue; }}
         for (size_t j = 0; j < {3 * H}; ++j) xz[j] = kB{i}[j];
         for (size_t k = 0; k < {F}; ++k) {{  // xz = x_t W + b
            const double xk = in[t * {F} + k];
            for (size_t j = 0; j < {3 * H}; ++j) xz[j] += xk * kW{i}[k * {3 * H} + j];
         }}{recurrent}
         for (size_t j = 0; j < {H}; ++j) {{
            const double zg = Sigmoid(xz[{H} + j] + hz[{H} + j]);
            const double ng = std::tanh(xz[{2 * H} + j] + hz[{2 * H} + j]);
            h[j] = (1.0 - zg) * ng + zg * h[j];  // h_t = (1 - z) n + z h_(t-1)
            {store}
         }}
      }}
      {last}
   }}
"""
    return LayerCode(members, function, T * H if seq else H, seq)


def _emit_rnn(i: int, layer, params: dict, T: int) -> LayerCode:
    """RNN: ``h_t = tanh(x_t W + h_(t-1) U + b)`` (``W (F, H)``, ``U (H, H)``, ``b (H,)``;
    padding as the LSTM)."""
    F, H, seq = layer.n_in, layer.units, layer.return_sequences
    members = (
        _array(f"kW{i}", params["W"])
        + _array(f"kU{i}", params["U"])
        + _array(f"kB{i}", params["b"])
    )
    store, pad, last = _sequence_output(H, seq)
    function = f"""
   // layer {i}: RNN (tanh), {F} inputs per step -> {H} states{", every step" if seq else ", last state"}
   void Layer{i}(const double* in, size_t nSteps, double* out) const
   {{
      double h[{H}] = {{}}, z[{H}];
      for (size_t t = 0; t < {T}; ++t) {{
         if (t >= nSteps) {{ {pad} continue; }}
         for (size_t j = 0; j < {H}; ++j) z[j] = kB{i}[j];
         for (size_t k = 0; k < {F}; ++k) {{  // z = x_t W + h_(t-1) U + b
            const double xk = in[t * {F} + k];
            for (size_t j = 0; j < {H}; ++j) z[j] += xk * kW{i}[k * {H} + j];
         }}
         for (size_t k = 0; k < {H}; ++k) {{
            const double hk = h[k];
            for (size_t j = 0; j < {H}; ++j) z[j] += hk * kU{i}[k * {H} + j];
         }}
         for (size_t j = 0; j < {H}; ++j) {{
            h[j] = std::tanh(z[j]);
            {store}
         }}
      }}
      {last}
   }}
"""
    return LayerCode(members, function, T * H if seq else H, seq)


def _emit_dense(i: int, layer, params: dict, T: int) -> LayerCode:
    """DENSE: ``out = f(in W + b)``, ``W (I, O)``."""
    n_in, n_out = layer.n_in, layer.units
    if layer.activation not in _ACTIVATION_CPP:
        raise OptionError(
            f"make-class: activation {layer.activation!r} of layer {layer.name} has no C++ form; "
            f"supported: {', '.join(_ACTIVATION_CPP)}"
        )
    members = _array(f"kW{i}", params["W"]) + _array(f"kB{i}", params["b"])
    function = f"""
   // layer {i}: DENSE {n_in} -> {n_out}, {layer.activation}
   void Layer{i}(const double* in, size_t, double* out) const
   {{
      for (size_t j = 0; j < {n_out}; ++j) out[j] = kB{i}[j];
      for (size_t k = 0; k < {n_in}; ++k) {{
         const double xk = in[k];
         for (size_t j = 0; j < {n_out}; ++j) out[j] += xk * kW{i}[k * {n_out} + j];
      }}
      for (size_t j = 0; j < {n_out}; ++j) {{
         const double v = out[j];
         out[j] = {_ACTIVATION_CPP[layer.activation]};
      }}
   }}
"""
    return LayerCode(members, function, n_out, False)


def _emit_flatten(i: int, layer, params: dict, T: int) -> LayerCode | None:
    """FLATTEN: (T, H) step-major is already the flat vector; nothing to compute."""
    return None


# Layer kind -> emitter(index, layer, params, time_steps) -> LayerCode (None: no code).
EMITTERS: dict[str, Callable] = {
    "LSTM": _emit_lstm,
    "GRU": _emit_gru,
    "RNN": _emit_rnn,
    "DENSE": _emit_dense,
    "FLATTEN": _emit_flatten,
}
