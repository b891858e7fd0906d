"""Log-likelihood of label continuations under a causal LM, exactly and fast.

For a prompt (context tokens) and C label continuations (token ids, one or more each),
``log p(label | context)`` is the sum of the log-probabilities of the label's tokens, each
given the context and the label tokens before it. Contexts that share a prefix (a chat
template's system turn, the task's question, in-context demonstrations) share its
key/value cache: the prefix is run once, each item's remaining tokens continue from a
copy of it, and the first label token of every label is read from that same pass; only
labels longer than one token need one more pass, over their other tokens, for all labels
at once (the item's cache repeated per label). So the model sees each prompt token once
and each label token at most once: the physical limit. ``naive_scores`` runs one full
forward per label, the reference the fast path is tested against.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Scored:
    """Per item and label: summed log-likelihood and the label's token count."""

    loglik: np.ndarray  # (n, C) float64
    n_tokens: np.ndarray  # (C,)
    prompt_tokens: int  # tokens the model ran over for the prompts (prefix counted once)

    def scores(self, length_normalize: bool) -> np.ndarray:
        return self.loglik / self.n_tokens if length_normalize else self.loglik


def common_prefix(rows: Sequence[Sequence[int]]) -> int:
    """Length of the longest token prefix all ``rows`` share."""
    if not rows:
        return 0
    first = rows[0]
    n = min(len(r) for r in rows)
    for row in rows[1:]:
        k = 0
        while k < n and row[k] == first[k]:
            k += 1
        n = k
        if n == 0:
            break
    return n


def _log_softmax(logits: Any) -> Any:
    import torch

    return torch.log_softmax(logits.float(), dim=-1)


def fast_scores(
    lm: Any, contexts: Sequence[Sequence[int]], labels: Sequence[Sequence[int]], *,
    prefix: int | None = None, batch_size: int = 16,
    progress: Callable[[int], None] | None = None,
) -> Scored:
    """Label log-likelihoods of every context, sharing the common prefix's cache (see the
    module docstring). ``prefix`` caps the shared length (default: the longest common).
    Items run ``batch_size`` at a time, longest first, right-padded: the padding is masked
    and comes after every real token, so it changes no number."""
    import torch

    device = next(lm.parameters()).device
    n, c = len(contexts), len(labels)
    if any(len(lab) == 0 for lab in labels):
        raise ValueError("every label continuation needs at least one token")
    out = np.zeros((n, c), np.float64)
    if n == 0:
        return Scored(out, np.array([len(lab) for lab in labels]), 0)
    shared = common_prefix(contexts) if prefix is None else prefix
    shared = min(shared, min(len(x) for x in contexts) - 1)  # each item keeps a token
    first = torch.tensor([lab[0] for lab in labels], device=device)
    multi = [j for j, lab in enumerate(labels) if len(lab) > 1]
    order = sorted(range(n), key=lambda i: -len(contexts[i]))
    prompt_tokens = shared
    with torch.inference_mode():
        base = None
        if shared > 0:
            ids = torch.tensor([list(contexts[0][:shared])], device=device)
            base = lm(input_ids=ids, use_cache=True).past_key_values
        for start in range(0, n, batch_size):
            rows = order[start : start + batch_size]
            rests = [list(contexts[i][shared:]) for i in rows]
            lengths = [len(r) for r in rests]
            width = max(lengths)
            ids = torch.zeros((len(rows), width), dtype=torch.long, device=device)
            mask = torch.zeros((len(rows), shared + width), dtype=torch.long, device=device)
            mask[:, :shared] = 1
            for r, rest in enumerate(rests):
                ids[r, : len(rest)] = torch.tensor(rest, device=device)
                mask[r, shared : shared + len(rest)] = 1
            prompt_tokens += sum(lengths)
            cache = None
            if base is not None:
                cache = copy.deepcopy(base)
                if len(rows) > 1:
                    cache.batch_repeat_interleave(len(rows))
            res = lm(input_ids=ids, attention_mask=mask, past_key_values=cache,
                     use_cache=bool(multi))
            last = torch.tensor(lengths, device=device) - 1
            logp = _log_softmax(res.logits[torch.arange(len(rows), device=device), last])
            out[rows] = logp[:, first].double().cpu().numpy()
            if multi:
                more = _continuations(lm, res.past_key_values, mask, shared,
                                      lengths, [labels[j] for j in multi], device)
                out[np.ix_(rows, multi)] += more
            if progress is not None:
                progress(len(rows))
    return Scored(out, np.array([len(lab) for lab in labels]), prompt_tokens)


def _continuations(lm: Any, cache: Any, mask: Any, shared: int, lengths: list[int],
                   labels: list[Sequence[int]], device: Any) -> np.ndarray:
    """(items, labels) log-likelihood of each label's tokens after its first, from the
    batch's cache repeated once per label. Each continuation takes the positions right
    after its item's last real token (explicit ``position_ids``); the item's padding stays
    masked."""
    import torch

    b, k = len(lengths), len(labels)
    width = max(len(lab) for lab in labels) - 1
    ids = torch.zeros((b * k, width), dtype=torch.long, device=device)
    new_mask = torch.zeros((b * k, width), dtype=torch.long, device=device)
    for r in range(b):
        for j, lab in enumerate(labels):
            ids[r * k + j, : len(lab) - 1] = torch.tensor(list(lab[:-1]), device=device)
            new_mask[r * k + j, : len(lab) - 1] = 1
    full_mask = torch.cat([mask.repeat_interleave(k, dim=0), new_mask], dim=1)
    start = torch.tensor([shared + n for n in lengths], device=device).repeat_interleave(k)
    positions = start[:, None] + torch.arange(width, device=device)[None, :]
    if b * k > 1:
        cache.batch_repeat_interleave(k)
    logp = _log_softmax(lm(input_ids=ids, attention_mask=full_mask, position_ids=positions,
                           past_key_values=cache).logits)
    total = np.zeros((b, k), np.float64)
    for r in range(b):
        for j, lab in enumerate(labels):
            target = torch.tensor(list(lab[1:]), device=device)
            steps = torch.arange(len(lab) - 1, device=device)
            total[r, j] = float(logp[r * k + j, steps, target].double().sum())
    return total


def naive_scores(lm: Any, contexts: Sequence[Sequence[int]],
                 labels: Sequence[Sequence[int]]) -> Scored:
    """The reference: one full forward over context + label for every label."""
    import torch

    device = next(lm.parameters()).device
    out = np.zeros((len(contexts), len(labels)), np.float64)
    tokens = 0
    with torch.inference_mode():
        for i, ctx in enumerate(contexts):
            for j, lab in enumerate(labels):
                ids = torch.tensor([list(ctx) + list(lab)], device=device)
                tokens += ids.shape[1]
                logp = _log_softmax(lm(input_ids=ids).logits[0])
                pos = torch.arange(len(ctx) - 1, len(ctx) + len(lab) - 1, device=device)
                out[i, j] = float(logp[pos, torch.tensor(list(lab), device=device)].double().sum())
    return Scored(out, np.array([len(lab) for lab in labels]), tokens)


def softmax(scores: np.ndarray) -> np.ndarray:
    z = scores - scores.max(-1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(-1, keepdims=True)
