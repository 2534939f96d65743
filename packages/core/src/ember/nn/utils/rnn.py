"""Variable-length sequences: PackedSequence, pack/pad utilities (``torch.nn.utils.rnn``)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ... import backend, creation, dtypes
from ...ops.rnn import gather_rows, scatter_rows
from ...tensor import Tensor


class PackedSequence(NamedTuple):
    """Sequences of different lengths packed time-step by time-step.

    ``data`` holds the rows of every sequence at step 0, then at step 1, ... (sorted by decreasing
    length), ``batch_sizes[t]`` how many sequences are still running at step ``t``.
    """

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        move = lambda t: None if t is None else t.to(data.device)  # noqa: E731
        return PackedSequence(data, self.batch_sizes, move(self.sorted_indices), move(self.unsorted_indices))

    def cpu(self):
        return self.to("cpu")

    def cuda(self, *args, **kwargs):
        return self.to("cuda")

    def double(self):
        return self.to(dtype=dtypes.float64)

    def float(self):
        return self.to(dtype=dtypes.float32)

    @property
    def is_cuda(self):
        return self.data.is_cuda

    def is_pinned(self):
        return False


class _TracedPackedSequence(PackedSequence):
    """What ``pack_padded_sequence`` gives while ``ember.jit.trace`` / ``ember.onnx.export`` records:
    ``data`` is the padded time-major (T, B, *) batch, ``batch_sizes`` the (B,) lengths tensor in batch
    order, so that the lengths stay values of the graph (ONNX's ``sequence_lens``) instead of being
    baked in. The recurrent layers and ``pad_packed_sequence`` accept it; nothing else should read it."""

    __slots__ = ()


def _tracing() -> bool:
    from ...autograd.function import TRACE_HOOK

    return TRACE_HOOK[0] is not None


def _lengths_array(lengths) -> np.ndarray:
    if isinstance(lengths, Tensor):
        if lengths.device.type != "cpu":
            raise RuntimeError(
                "'lengths' argument should be a 1D CPU int64 tensor, but got 1D cuda:0 Long tensor"
            )
        return np.asarray(lengths.tolist(), dtype=np.int64)
    return np.asarray(list(lengths), dtype=np.int64)


def _packing_plan(lengths: np.ndarray, T: int, B: int):
    """batch_sizes and, for a time-major (T, B) layout, the flat row of each packed element."""
    batch_sizes = (lengths[None, :] > np.arange(T)[:, None]).sum(axis=1)
    rows = np.concatenate([t * B + np.arange(bs) for t, bs in enumerate(batch_sizes)]) if T else np.zeros(0, np.int64)
    return batch_sizes.astype(np.int64), rows.astype(np.int64)


def invert_permutation(permutation):
    if permutation is None:
        return None
    perm = np.asarray(permutation.tolist(), dtype=np.int64)
    out = np.empty_like(perm)
    out[perm] = np.arange(perm.size)
    return creation.tensor(out, device=permutation.device)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True) -> PackedSequence:
    """Pack a padded batch (T, B, *) — or (B, T, *) with ``batch_first`` — given each sequence's length.

    While tracing, ``lengths`` given as a tensor stay part of the graph (see ``_TracedPackedSequence``)."""
    if isinstance(lengths, Tensor) and _tracing():
        if lengths.dim() != 1 or lengths.shape[0] != input.shape[0 if batch_first else 1]:
            raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got lengths of shape "
                               f"{tuple(lengths.shape)} for input of shape {tuple(input.shape)} (batch_first={batch_first})")
        return _TracedPackedSequence(input.transpose(0, 1) if batch_first else input, lengths)
    lens = _lengths_array(lengths)
    if lens.ndim != 1:
        raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got {lens.ndim}D")
    if enforce_sorted:
        if (np.diff(lens) > 0).any():
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can pass "
                "`enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this requirement "
                "if you do not need ONNX exportability."
            )
        sorted_indices = None
        order = None
    else:
        order = np.argsort(-lens, kind="stable")
        lens = lens[order]
        sorted_indices = creation.tensor(order, device=input.device)
    if batch_first:
        input = input.transpose(0, 1)
    if order is not None:
        input = input.index_select(1, sorted_indices)
    T, B = input.shape[0], input.shape[1]
    if lens.size != B:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {lens.size} (batch_size={B})")
    if lens.size and lens[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0")
    if lens.size and lens[0] > T:
        raise RuntimeError(f"Expected sequence length to be at most {T}, but got {lens[0]}")
    batch_sizes, rows = _packing_plan(lens, int(lens[0]) if lens.size else 0, B)
    flat = input.reshape(T * B, *input.shape[2:])
    data = gather_rows(flat, backend.to_device(rows, input.device))
    return PackedSequence(data, creation.tensor(batch_sizes), sorted_indices, invert_permutation(sorted_indices))


def pad_packed_sequence(sequence: PackedSequence, batch_first=False, padding_value=0.0, total_length=None):
    """Unpack to a padded batch; returns (padded, lengths) in the original batch order."""
    if isinstance(sequence, _TracedPackedSequence):
        return _pad_traced(sequence, batch_first, padding_value, total_length)
    data, batch_sizes = sequence.data, np.asarray(sequence.batch_sizes.tolist(), dtype=np.int64)
    T = len(batch_sizes)
    B = int(batch_sizes[0]) if T else 0
    if total_length is not None:
        if total_length < T:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in input, but got "
                f"total_length={total_length} and max sequence length being {T}"
            )
        T_out = total_length
    else:
        T_out = T
    lengths = (batch_sizes[None, :] > np.arange(B)[:, None]).sum(axis=1)
    _, rows = _packing_plan(lengths, T, B)
    padded = scatter_rows(data, backend.to_device(rows, data.device), T_out * B, padding_value)
    padded = padded.reshape(T_out, B, *data.shape[1:])
    lengths_t = creation.tensor(lengths)
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices)
        lengths_t = creation.tensor(lengths[np.asarray(sequence.unsorted_indices.tolist(), dtype=np.int64)])
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, lengths_t


def _pad_traced(sequence, batch_first, padding_value, total_length):
    """``pad_packed_sequence`` of a traced packed batch: already padded (with zeros, by the layers) to
    the traced input's length, which stands in for the longest sequence."""
    from ...ops.joining import cat

    padded, lengths = sequence.data, sequence.batch_sizes
    T = padded.shape[0]
    if padding_value != 0:
        steps = creation.arange(T, device=lengths.device).unsqueeze(1)
        pad = (steps >= lengths.unsqueeze(0)).to(padded.device).reshape(T, -1, *([1] * (padded.dim() - 2)))
        padded = padded.masked_fill(pad, padding_value)
    if total_length is not None and total_length != T:
        if total_length < T:
            padded = padded[:total_length]
        else:
            fill = creation.full((total_length - T, *padded.shape[1:]), padding_value, dtype=padded.dtype,
                                 device=padded.device)
            padded = cat([padded, fill], 0)
    return (padded.transpose(0, 1) if batch_first else padded), lengths


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right") -> Tensor:
    """Stack tensors of shape (L_i, *) into (max L, B, *) (or (B, max L, *)), padding with ``padding_value``."""
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    trailing = tuple(sequences[0].shape[1:])
    for s in sequences:
        if tuple(s.shape[1:]) != trailing:
            raise RuntimeError(f"The size of tensor a ({trailing}) must match the size of tensor b ({tuple(s.shape[1:])}) at non-singleton dimension 1")
    lengths = np.asarray([s.shape[0] for s in sequences], dtype=np.int64)
    T, B = int(lengths.max()), len(sequences)
    from ...ops.joining import cat

    data = cat(sequences, 0)
    seq_index = np.repeat(np.arange(B), lengths)
    step = np.concatenate([np.arange(n) for n in lengths]) if lengths.sum() else np.zeros(0, np.int64)
    if padding_side == "left":
        step = step + np.repeat(T - lengths, lengths)
    rows = (seq_index * T + step) if batch_first else (step * B + seq_index)
    out = scatter_rows(data, backend.to_device(rows.astype(np.int64), data.device), T * B, padding_value)
    return out.reshape(B, T, *trailing) if batch_first else out.reshape(T, B, *trailing)


def pack_sequence(sequences, enforce_sorted=True) -> PackedSequence:
    """Pack a list of tensors of shape (L_i, *)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """Split a padded batch back into a list of tensors of the given lengths."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[i, : int(n)] for i, n in enumerate(_lengths_array(lengths))]


def unpack_sequence(packed_sequences: PackedSequence):
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


__all__ = [
    "PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence", "pack_sequence",
    "unpad_sequence", "unpack_sequence", "invert_permutation",
]
