"""``Vocab``: a token <-> index table as an ``nn.Module`` (torchtext's API), saved without pickle."""

from __future__ import annotations

from collections import OrderedDict

import ember.nn as nn
from ember.serialization._torch_reader import register_library_global

__all__ = ["Vocab"]

_EXTRA = "_extra_state"


class Vocab(nn.Module):
    r"""Maps tokens to indices and back.

    Args:
        vocab: the tokens in index order (any iterable of ``str``), or another :class:`Vocab` to copy.
            Default: empty.

    A token that is not in the vocab raises ``RuntimeError`` unless a default index is set with
    :meth:`set_default_index`.

    Saving: ``ember.save(vocab, f)`` / ``ember.load(f)`` round-trip with the default ``weights_only=True``
    (the file holds only the token list and the default index, rebuilt by a function ``ember.load``
    allows). The table also travels in ``state_dict()`` under the key ``"_extra_state"``, so a vocab held
    by a model is saved with the model's ``state_dict``.
    """

    def __init__(self, vocab=None) -> None:
        super().__init__()
        self._itos: list[str] = []
        self._stoi: dict[str, int] = {}
        self._default_index: int | None = None
        if isinstance(vocab, Vocab):
            self._set_table(vocab.get_itos(), vocab.get_default_index())
        elif vocab is not None:
            if isinstance(vocab, str):
                raise TypeError("Vocab expects an iterable of tokens, got a single str")
            self._set_table(list(vocab), None)

    def __reduce__(self):
        return _rebuild_vocab, (list(self._itos), self._default_index)

    def _set_table(self, itos, default_index) -> None:
        stoi = {}
        for i, token in enumerate(itos):
            if not isinstance(token, str):
                raise TypeError(f"Vocab tokens must be str, got {type(token).__name__} at index {i}")
            if token in stoi:
                raise RuntimeError("Duplicate token found in tokens list: " + token)
            stoi[token] = i
        self._itos, self._stoi = list(itos), stoi
        self.set_default_index(default_index)

    # -- lookups --------------------------------------------------------------------------------------
    def forward(self, tokens: list[str]) -> list[int]:
        r"""Calls :meth:`lookup_indices`."""
        return self.lookup_indices(tokens)

    def __len__(self) -> int:
        return len(self._itos)

    def __contains__(self, token: str) -> bool:
        return token in self._stoi

    def __getitem__(self, token: str) -> int:
        r"""The index of ``token`` (the default index when it is missing and a default is set)."""
        index = self._stoi.get(token)
        if index is not None:
            return index
        if self._default_index is None:
            raise RuntimeError(f"Token {token} not found and default index is not set")
        return self._default_index

    def set_default_index(self, index: int | None) -> None:
        r"""Index returned for out-of-vocabulary tokens (``None`` makes them raise ``RuntimeError``)."""
        if index is not None and (isinstance(index, bool) or not isinstance(index, int)):
            raise TypeError(f"default index must be an int or None, got {type(index).__name__}")
        self._default_index = index

    def get_default_index(self) -> int | None:
        r"""The default index if one is set, else ``None``."""
        return self._default_index

    def insert_token(self, token: str, index: int) -> None:
        r"""Insert ``token`` at ``index`` (in ``[0, len(vocab)]``), shifting later tokens up by one."""
        n = len(self._itos)
        if not 0 <= index <= n:
            raise RuntimeError(f"Specified index {index} is out of bounds for vocab of size {n}")
        if token in self._stoi:
            raise RuntimeError(f"Token {token} already exists in the Vocab with index: {self._stoi[token]}")
        self._itos.insert(index, token)
        for i in range(index, n + 1):
            self._stoi[self._itos[i]] = i

    def append_token(self, token: str) -> None:
        r"""Append ``token`` at index ``len(vocab)``; ``RuntimeError`` if it is already present."""
        if token in self._stoi:
            raise RuntimeError(f"Token {token} already exists in the Vocab with index: {self._stoi[token]}")
        self._stoi[token] = len(self._itos)
        self._itos.append(token)

    def lookup_token(self, index: int) -> str:
        r"""The token at ``index``; ``RuntimeError`` if it is not in ``[0, len(vocab))``."""
        n = len(self._itos)
        if not 0 <= index < n:
            raise RuntimeError(f"Specified index {index} is out of bounds for vocab of size {n}")
        return self._itos[index]

    def lookup_tokens(self, indices) -> list[str]:
        r"""The tokens at ``indices``; ``RuntimeError`` naming the first index out of range."""
        itos, n = self._itos, len(self._itos)
        indices = [int(i) for i in indices]
        for pos, i in enumerate(indices):
            if not 0 <= i < n:
                raise RuntimeError(f"Specified index {i} at position {pos} is out of bounds for vocab of size {n}")
        return [itos[i] for i in indices]

    def lookup_indices(self, tokens) -> list[int]:
        r"""The indices of ``tokens`` (see :meth:`__getitem__` for missing tokens)."""
        stoi, default = self._stoi, self._default_index
        if default is not None:
            return [stoi.get(t, default) for t in tokens]
        try:
            return [stoi[t] for t in tokens]
        except KeyError as e:
            raise RuntimeError(f"Token {e.args[0]} not found and default index is not set") from None
        except TypeError:
            bad = next(t for t in tokens if not isinstance(t, str))
            raise TypeError(f"Vocab lookup expects str tokens, got {type(bad).__name__}") from None

    def get_stoi(self) -> dict[str, int]:
        r"""A new dict mapping tokens to indices."""
        return dict(self._stoi)

    def get_itos(self) -> list[str]:
        r"""A new list of the tokens in index order."""
        return list(self._itos)

    def extra_repr(self) -> str:
        return f"size={len(self)}, default_index={self._default_index}"

    # -- saving ---------------------------------------------------------------------------------------
    def get_extra_state(self) -> dict:
        r"""The vocab's table as plain data: ``{"itos": [...], "default_index": int | None}``."""
        return {"itos": list(self._itos), "default_index": self._default_index}

    def set_extra_state(self, state) -> None:
        r"""Restore the table saved by :meth:`get_extra_state`."""
        if not isinstance(state, dict) or "itos" not in state:
            raise RuntimeError(
                f"Vocab state must be a dict with an 'itos' list (as saved by Vocab.state_dict()), got "
                f"{type(state).__name__}"
            )
        self._set_table(list(state["itos"]), state.get("default_index"))

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + _EXTRA] = self.get_extra_state()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        key = prefix + _EXTRA
        if key in state_dict:
            try:
                self.set_extra_state(state_dict[key])
            except (RuntimeError, TypeError) as e:
                error_msgs.append(f"While loading {key}: {e}")
        elif strict:
            missing_keys.append(key)
        n = len(unexpected_keys)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)
        unexpected_keys[n:] = [k for k in unexpected_keys[n:] if k != key]

    @classmethod
    def from_state_dict(cls, state_dict) -> "Vocab":
        r"""A new :class:`Vocab` from a ``state_dict()`` (e.g. the result of ``ember.load``)."""
        v = cls()
        v.load_state_dict(OrderedDict(state_dict))
        return v


@register_library_global
def _rebuild_vocab(itos, default_index):
    """A :class:`Vocab` from what ``Vocab.__reduce__`` saved (checked like any new table)."""
    if not isinstance(itos, list):
        raise TypeError(f"a saved Vocab holds a list of tokens, got {type(itos).__name__}")
    vocab = Vocab()
    vocab._set_table(itos, default_index)
    return vocab
