"""Scored items per second of the prompting strategies on the real SmolLM2-135M-Instruct.

On a bundled task (default: 200 test items of sentiment-yelp, 2 labels) for zeroshot
(the chat template) and 4-shot icl (one draw of demonstrations), it prints items/s of
(a) adapteval's scorer, :func:`adapteval.models.scoring.fast_scores` through the
    ``Prompter`` (the shared prefix run once, first label tokens read from the prompt's
    pass, longer labels continued from its cache),
(b) the physical limit: one batched forward (same batch size, longest first) over each
    prompt's tokens followed by all of its labels' tokens, no cache and nothing shared,
    so every token the answer needs is run exactly once per item,
(c) the naive loop, :func:`adapteval.models.scoring.naive_scores` (one full forward of
    prompt + label per label; on ``--naive-items`` items),
the ratios adapteval/limit (target >= 1/1.2; above 1 when the shared prefix saves more
than the label passes cost) and adapteval/naive, and max |fast - naive| of the label
log-likelihoods on the naive items. Each timing is the best of ``--repeats`` runs after
one warm-up.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/prompting.py [--items 200] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]


def limit_scores(lm, contexts, labels, batch_size):
    """One right-padded forward per batch (longest first) over context + every label's
    tokens; log-softmax only where label tokens are predicted."""
    import torch

    tail = [t for lab in labels for t in lab]
    seqs = sorted((list(c) + tail for c in contexts), key=len, reverse=True)
    with torch.inference_mode():
        for s in range(0, len(seqs), batch_size):
            rows = seqs[s : s + batch_size]
            width = max(len(r) for r in rows)
            ids = torch.zeros((len(rows), width), dtype=torch.long)
            mask = torch.zeros_like(ids)
            for i, r in enumerate(rows):
                ids[i, : len(r)] = torch.tensor(r)
                mask[i, : len(r)] = 1
            logits = lm(input_ids=ids, attention_mask=mask).logits
            for i, r in enumerate(rows):
                torch.log_softmax(logits[i, len(r) - len(tail) - 1 : len(r) - 1].float(), -1)


def best_rate(fn, n, repeats):
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return n / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="sentiment-yelp")
    ap.add_argument("--items", type=int, default=200)
    ap.add_argument("--naive-items", type=int, default=40)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    from adapteval.data.task import load_task
    from adapteval.models.kinds import load_model, resolve_model
    from adapteval.models.scoring import fast_scores, naive_scores
    from adapteval.strategies.prompting import Prompter, PromptParams, balanced_demos
    from adapteval.suite.specs import ModelSpec, TaskSpec

    model = load_model(resolve_model(ModelSpec(source="SmolLM2-135M-Instruct"), ROOT,
                                     where="benchmark"))
    task = load_task(TaskSpec(name="t", bundled=args.task, max_test=args.items),
                     Path(tempfile.mkdtemp()))
    split = task.split(0)
    texts = split.test.items[: args.items]
    prompter = Prompter(model, task, PromptParams(batch_size=args.batch_size, chat="auto"))
    labels, bs = prompter.labels, args.batch_size
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"SmolLM2-135M-Instruct, {args.task}, {len(texts)} items, {len(labels)} labels "
          f"{prompter.words} (tokens {[len(x) for x in labels]}), chat={prompter.chat}, "
          f"batch {bs}, naive on {min(args.naive_items, len(texts))} items")
    for name, demos in (("zeroshot", []), ("icl k=4", balanced_demos(split.train, 4, 2, 0, 0))):
        ctx = [prompter.context(t, demos) for t in texts]
        few = ctx[: args.naive_items]
        ours = best_rate(lambda d=demos: prompter.probabilities(texts, d), len(ctx),
                         args.repeats)
        limit = best_rate(lambda c=ctx: limit_scores(model.lm, c, labels, bs), len(ctx),
                          args.repeats)
        naive = best_rate(lambda c=few: naive_scores(model.lm, c, labels), len(few), 1)
        diff = np.abs(fast_scores(model.lm, few, labels, batch_size=bs).loglik
                      - naive_scores(model.lm, few, labels).loglik).max()
        lengths = [len(c) for c in ctx]
        print(f"{name:9s} prompt {np.mean(lengths):6.1f} tok (max {max(lengths)}) | "
              f"adapteval {ours:7.2f} items/s | limit {limit:7.2f} items/s | "
              f"naive {naive:7.2f} items/s | adapteval/limit {ours / limit:5.2f} | "
              f"adapteval/naive {ours / naive:5.2f}x | max |fast-naive| {diff:.2e}")


if __name__ == "__main__":
    main()
