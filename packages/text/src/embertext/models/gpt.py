"""A small GPT-style causal language model with ``generate``."""

from __future__ import annotations

import ember
from ember import nn

__all__ = ["GPTLanguageModel"]


def _filter_logits(logits, top_k, top_p):
    """Set to -inf every logit outside the top ``top_k`` and outside the smallest set whose probability
    reaches ``top_p`` (the most likely token always stays)."""
    if top_k is not None:
        if top_k < 1:
            raise ValueError(f"top_k must be a positive integer, got {top_k}")
        kth = logits.topk(min(top_k, logits.shape[-1]), dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None:
        if not 0.0 < top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {top_p}")
        probs = logits.softmax(-1)
        sorted_probs, _ = probs.sort(dim=-1, descending=True)
        before = sorted_probs.cumsum(-1) - sorted_probs  # mass of the strictly more likely tokens
        kept = sorted_probs.masked_fill(before >= top_p, float("inf"))
        threshold = kept.amin(dim=-1, keepdim=True)
        logits = logits.masked_fill(probs < threshold, float("-inf"))
    return logits


class GPTLanguageModel(nn.Module):
    r"""A decoder-only transformer: token + learned position embeddings, pre-norm causal self-attention
    blocks (``nn.TransformerEncoderLayer`` with a causal mask), a final LayerNorm and an output projection
    tied to the token embedding.

    Args:
        vocab_size: number of token ids.
        d_model: model width. Default: 256
        nhead: attention heads. Default: 4
        num_layers: blocks. Default: 4
        dim_feedforward: feed-forward width. Default: ``4 * d_model``
        max_len: context length (longest input). Default: 256
        dropout: dropout probability. Default: 0.1
        tie_weights: share ``lm_head.weight`` with ``token_embedding.weight``. Default: ``True``

    Shape:
        - tokens: (B, T) int64 with T <= max_len
        - output: (B, T, vocab_size) next-token logits

    ``state_dict`` keys: ``token_embedding.weight``, ``position_embedding.weight``,
    ``blocks.layers.{i}.self_attn.in_proj_weight`` (and the rest of ``nn.TransformerEncoderLayer``'s keys),
    ``norm.weight``, ``norm.bias``, ``lm_head.weight``.
    """

    def __init__(self, vocab_size: int, d_model: int = 256, nhead: int = 4, num_layers: int = 4,
                 dim_feedforward: int | None = None, max_len: int = 256, dropout: float = 0.1,
                 tie_weights: bool = True) -> None:
        super().__init__()
        self.max_len = max_len
        self.token_embedding = nn.Embedding(vocab_size, d_model)
        self.position_embedding = nn.Embedding(max_len, d_model)
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        nn.init.normal_(self.position_embedding.weight, std=0.02)
        self.dropout = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward or 4 * d_model, dropout,
                                           activation="gelu", batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.lm_head = nn.Linear(d_model, vocab_size, bias=False)
        if tie_weights:
            self.lm_head.weight = self.token_embedding.weight

    def forward(self, tokens):
        if tokens.dim() != 2:
            raise ValueError(f"expected token ids of shape (batch, seq_len), got shape {tuple(tokens.shape)}")
        T = tokens.shape[1]
        if T > self.max_len:
            raise ValueError(f"sequence length {T} exceeds the model's max_len {self.max_len}")
        positions = ember.arange(T, device=tokens.device).unsqueeze(0)
        x = self.dropout(self.token_embedding(tokens) + self.position_embedding(positions))
        mask = nn.Transformer.generate_square_subsequent_mask(T, device=tokens.device)
        x = self.blocks(x, mask=mask, is_causal=True)
        return self.lm_head(self.norm(x))

    @ember.no_grad()
    def generate(self, tokens, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float | None = None, do_sample: bool = False, eos_token_id: int | None = None,
                 generator=None):
        """Extend ``tokens`` (B, T) by up to ``max_new_tokens`` ids and return (B, T + n).

        ``do_sample=False`` picks the most likely token (greedy); ``do_sample=True`` samples from
        ``softmax(logits / temperature)`` restricted to the ``top_k`` most likely tokens and to the
        nucleus of probability ``top_p``. Inputs longer than ``max_len`` keep their last ``max_len``
        tokens as context. Once every row has produced ``eos_token_id`` generation stops; rows that
        finished earlier are padded with ``eos_token_id``.
        """
        if tokens.dim() != 2:
            raise ValueError(f"expected token ids of shape (batch, seq_len), got shape {tuple(tokens.shape)}")
        if do_sample and temperature <= 0:
            raise ValueError(f"temperature must be positive when sampling, got {temperature}")
        was_training = self.training
        self.eval()
        done = ember.zeros(tokens.shape[0], dtype=ember.bool, device=tokens.device)
        for _ in range(max_new_tokens):
            logits = self(tokens[:, -self.max_len:])[:, -1, :]
            if do_sample:
                probs = _filter_logits(logits / temperature, top_k, top_p).softmax(-1)
                nxt = ember.multinomial(probs, 1, generator=generator)
            else:
                nxt = logits.argmax(-1, keepdim=True)
            if eos_token_id is not None:
                nxt = nxt.masked_fill(done.unsqueeze(1), eos_token_id)
                done = done | nxt.squeeze(1).eq(eos_token_id)
            tokens = ember.cat([tokens, nxt], dim=1)
            if eos_token_id is not None and bool(done.all()):
                break
        self.train(was_training)
        return tokens
