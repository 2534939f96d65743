"""Recurrent layers: RNN, LSTM, GRU and their cells, with PyTorch's parameter names and gate order."""

from __future__ import annotations

import math

import numpy as np

from ... import backend, creation
from ...ops import rnn as F_rnn
from ..module import Module
from ..parameter import Parameter
from ...tensor import Tensor
from ..utils.rnn import PackedSequence, _TracedPackedSequence

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


class RNNBase(Module):
    """Shared machinery of RNN, LSTM and GRU: parameters, shape checks, layers and directions."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        if not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an element being zeroed")
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero" if isinstance(hidden_size, int) else f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if dropout > 0 and num_layers == 1:
            import warnings

            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
                f"num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}"
            )
        self.mode = mode
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        gate_size = _GATES[mode] * hidden_size
        num_directions = 2 if bidirectional else 1
        real_hidden = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names = []
        factory = {"device": device, "dtype": dtype}
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_input = input_size if layer == 0 else real_hidden * num_directions
                suffix = "_reverse" if direction == 1 else ""
                shapes = [("weight_ih", (gate_size, layer_input)), ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size > 0:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                for base, shape in shapes:
                    name = f"{base}_l{layer}{suffix}"
                    setattr(self, name, Parameter(creation.empty(*shape, **factory)))
                    self._flat_weights_names.append(name)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            from .. import init

            init.uniform_(weight, -stdv, stdv)

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    def flatten_parameters(self):
        """A no-op kept for compatibility (there is no cuDNN weight buffer here)."""

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # -- shapes ------------------------------------------------------------------------------------
    def _layer_weights(self, layer, direction):
        suffix = "_reverse" if direction == 1 else ""
        get = lambda base: getattr(self, f"{base}_l{layer}{suffix}", None)  # noqa: E731
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh"), get("weight_hr")

    def _prepare_input(self, input):
        """Time-major (T, B, I) input, plus how to undo it: (x, batch_sizes, rows, sorted, unsorted, batched)."""
        if isinstance(input, _TracedPackedSequence):  # padded (T, B, I) with a lengths tensor
            self._check_input(input.data, 3)
            return input.data, input.batch_sizes, None, None, None, True
        if isinstance(input, PackedSequence):
            data, batch_sizes = input.data, np.asarray(input.batch_sizes.tolist(), dtype=np.int64)
            T, B = len(batch_sizes), int(batch_sizes[0])
            rows = np.concatenate([t * B + np.arange(bs) for t, bs in enumerate(batch_sizes)])
            x = F_rnn.scatter_rows(data, backend.to_device(rows, data.device), T * B).reshape(T, B, data.shape[-1])
            self._check_input(data, 2)
            return x, tuple(int(b) for b in batch_sizes), rows, input.sorted_indices, input.unsorted_indices, True
        if input.dim() not in (2, 3):
            raise ValueError(f"{type(self).__name__}: Expected input to be 2D or 3D, got {input.dim()}D instead")
        batched = input.dim() == 3
        self._check_input(input, input.dim())
        if not batched:
            input = input.unsqueeze(1)
        elif self.batch_first:
            input = input.transpose(0, 1)
        return input, None, None, None, None, batched

    def _check_input(self, input, expected_dim):
        if input.dim() != expected_dim:
            raise RuntimeError(f"input must have {expected_dim} dimensions, got {input.dim()}")
        if self.input_size != input.shape[-1]:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got {input.shape[-1]}")

    def _initial_state(self, hx, x, batched, sorted_indices, size):
        num_directions = 2 if self.bidirectional else 1
        B = x.shape[1]
        expected = (self.num_layers * num_directions, B, size)
        if hx is None:
            return creation.zeros(*expected, dtype=x.dtype, device=x.device)
        if not batched:
            if hx.dim() != 2:
                raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got {hx.dim()}-D tensor")
            hx = hx.unsqueeze(1)
        elif hx.dim() != 3:
            raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got {hx.dim()}-D tensor")
        if sorted_indices is not None:
            hx = hx.index_select(1, sorted_indices)
        if tuple(hx.shape) != expected:
            raise RuntimeError(f"Expected hidden size {expected}, got {tuple(hx.shape)}")
        return hx

    # -- the stack of layers ------------------------------------------------------------------------
    def _run(self, x, states, batch_sizes):
        """Run every layer and direction; ``states`` is a list of per-(layer, direction) initial states."""
        from ...ops.joining import cat, stack

        num_directions = 2 if self.bidirectional else 1
        finals = [[] for _ in states]
        layer_input = x
        for layer in range(self.num_layers):
            outs = []
            for d in range(num_directions):
                idx = layer * num_directions + d
                w_ih, w_hh, b_ih, b_hh, w_hr = self._layer_weights(layer, d)
                init = [s[idx] for s in states]
                if self.mode == "LSTM":
                    res = F_rnn.lstm_layer(layer_input, init[0], init[1], w_ih, w_hh, b_ih, b_hh, w_hr, batch_sizes, d == 1)
                elif self.mode == "GRU":
                    res = F_rnn.gru_layer(layer_input, init[0], w_ih, w_hh, b_ih, b_hh, batch_sizes, d == 1)
                else:
                    res = F_rnn.rnn_layer(layer_input, init[0], w_ih, w_hh, b_ih, b_hh, batch_sizes, d == 1,
                                          "relu" if self.mode == "RNN_RELU" else "tanh")
                outs.append(res[0])
                for k, final in enumerate(res[1:]):
                    finals[k].append(final)
            layer_input = outs[0] if num_directions == 1 else cat(outs, dim=2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                from ...ops.dropout import dropout

                layer_input = dropout(layer_input, self.dropout, True)
        return layer_input, [stack(f, 0) for f in finals]

    def _finish(self, output, finals, batch_sizes, rows, sorted_indices, unsorted_indices, batched):
        if isinstance(batch_sizes, Tensor):
            return _TracedPackedSequence(output, batch_sizes), finals
        if batch_sizes is not None:
            T, B = output.shape[0], output.shape[1]
            flat = output.reshape(T * B, output.shape[-1])
            data = F_rnn.gather_rows(flat, backend.to_device(rows, output.device))
            output = PackedSequence(data, creation.tensor(np.asarray(batch_sizes, dtype=np.int64)), sorted_indices, unsorted_indices)
            if unsorted_indices is not None:
                finals = [f.index_select(1, unsorted_indices) for f in finals]
        elif not batched:
            output = output.squeeze(1)
            finals = [f.squeeze(1) for f in finals]
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, finals


class RNN(RNNBase):
    """Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (or relu)."""

    def __init__(self, *args, **kwargs):
        nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if len(args) > 3:
            nonlinearity = args[3]
            args = args[:3] + args[4:]
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", *args, **kwargs)

    def extra_repr(self):
        s = super().extra_repr()
        return s + (", nonlinearity='relu'" if self.nonlinearity != "tanh" else "")

    def forward(self, input, hx=None):
        x, batch_sizes, rows, sorted_i, unsorted_i, batched = self._prepare_input(input)
        h0 = self._initial_state(hx, x, batched, sorted_i, self.hidden_size)
        output, finals = self._run(x, [h0], batch_sizes)
        output, finals = self._finish(output, finals, batch_sizes, rows, sorted_i, unsorted_i, batched)
        return output, finals[0]


class LSTM(RNNBase):
    """Long short-term memory over a sequence; returns ``output, (h_n, c_n)``."""

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def forward(self, input, hx=None):
        x, batch_sizes, rows, sorted_i, unsorted_i, batched = self._prepare_input(input)
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        if hx is None:
            h0 = self._initial_state(None, x, batched, sorted_i, real_hidden)
            c0 = self._initial_state(None, x, batched, sorted_i, self.hidden_size)
        else:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise RuntimeError("LSTM expects hx to be a tuple (h_0, c_0)")
            h0 = self._initial_state(hx[0], x, batched, sorted_i, real_hidden)
            c0 = self._initial_state(hx[1], x, batched, sorted_i, self.hidden_size)
        output, finals = self._run(x, [h0, c0], batch_sizes)
        output, finals = self._finish(output, finals, batch_sizes, rows, sorted_i, unsorted_i, batched)
        return output, (finals[0], finals[1])


class GRU(RNNBase):
    """Gated recurrent unit over a sequence; returns ``output, h_n``."""

    def __init__(self, *args, **kwargs):
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input, hx=None):
        x, batch_sizes, rows, sorted_i, unsorted_i, batched = self._prepare_input(input)
        h0 = self._initial_state(hx, x, batched, sorted_i, self.hidden_size)
        output, finals = self._run(x, [h0], batch_sizes)
        output, finals = self._finish(output, finals, batch_sizes, rows, sorted_i, unsorted_i, batched)
        return output, finals[0]


class RNNCellBase(Module):
    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        factory = {"device": device, "dtype": dtype}
        self.weight_ih = Parameter(creation.empty(num_chunks * hidden_size, input_size, **factory))
        self.weight_hh = Parameter(creation.empty(num_chunks * hidden_size, hidden_size, **factory))
        if bias:
            self.bias_ih = Parameter(creation.empty(num_chunks * hidden_size, **factory))
            self.bias_hh = Parameter(creation.empty(num_chunks * hidden_size, **factory))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        from .. import init

        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prepare(self, input, hx, n_states):
        if input.dim() not in (1, 2):
            raise ValueError(f"{type(self).__name__}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[-1]} expected {self.input_size}")
        batched = input.dim() == 2
        x = input if batched else input.unsqueeze(0)
        if hx is None:
            states = [creation.zeros(x.shape[0], self.hidden_size, dtype=x.dtype, device=x.device) for _ in range(n_states)]
        else:
            states = list(hx) if n_states > 1 else [hx]
            states = [s if batched else s.unsqueeze(0) for s in states]
        return x.unsqueeze(0), states, batched


class RNNCell(RNNCellBase):
    """One step of an Elman RNN."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, hx, 1)
        _, h = F_rnn.rnn_layer(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, nonlinearity=self.nonlinearity)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One step of an LSTM: returns ``(h_1, c_1)``."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        x, (h, c), batched = self._prepare(input, hx, 2)
        _, h, c = F_rnn.lstm_layer(x, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One step of a GRU."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, hx, 1)
        _, h = F_rnn.gru_layer(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return h if batched else h.squeeze(0)


__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]
