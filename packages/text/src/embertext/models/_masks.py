"""Padding masks and masked pooling shared by the classifiers."""

from __future__ import annotations

import ember


def lengths_from(tokens, lengths, padding_idx, device="cpu"):
    """``lengths`` as an int64 tensor of shape (B,) on ``device``, or, when None, the count of non-padding tokens.

    The RNN classifier packs, which needs the lengths on the host (as PyTorch's ``pack_padded_sequence``); the
    CNN and transformer only build masks from them and ask for ``tokens.device``, so counting the padding costs
    no copy to the host on a GPU. Lengths the caller gives are checked against the sequence length (a host
    read when they are on a GPU). A zero length (an empty sentence) is read as length 1 (one padding token) so
    packing never fails."""
    if tokens.dim() != 2:
        raise ValueError(f"expected token ids of shape (batch, seq_len), got shape {tuple(tokens.shape)}")
    given = lengths is not None
    if not given:
        if padding_idx is None:
            return ember.full((tokens.shape[0],), tokens.shape[1], dtype=ember.int64, device=device)
        lengths = tokens.ne(padding_idx).sum(1)
    lengths = ember.as_tensor(lengths).to(device, dtype=ember.int64)
    if tuple(lengths.shape) != (tokens.shape[0],):
        raise ValueError(f"lengths must have shape ({tokens.shape[0]},) for tokens of shape {tuple(tokens.shape)}, "
                         f"got {tuple(lengths.shape)}")
    # counted lengths can't exceed the sequence; while tracing, the lengths must stay graph values
    if given and not ember.jit.is_tracing() and int(lengths.max()) > tokens.shape[1]:
        raise ValueError(f"a length ({int(lengths.max())}) exceeds the sequence length {tokens.shape[1]}")
    return lengths.clamp(min=1)


def valid_mask(lengths, seq_len, device):
    """(B, T) bool on ``device``: True at the first ``lengths[b]`` positions of each row."""
    positions = ember.arange(seq_len, device=lengths.device).unsqueeze(0)
    return (positions < lengths.unsqueeze(1)).to(device)


def masked_pool(x, valid, mode: str):
    """Pool (B, T, D) over T where ``valid`` (B, T) is True: ``"mean"`` or ``"max"``."""
    keep = valid.unsqueeze(-1)
    if mode == "max":
        return x.masked_fill(keep.logical_not(), float("-inf")).amax(dim=1)
    if mode == "mean":
        total = x.masked_fill(keep.logical_not(), 0.0).sum(1)
        return total / keep.sum(1).to(x.dtype).clamp(min=1)
    raise ValueError(f"pooling must be one of 'last', 'mean', 'max', 'cls', got {mode!r}")
