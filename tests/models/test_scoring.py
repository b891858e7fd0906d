"""Label log-likelihoods: the cached-prefix scorer equals one full forward per label."""

from __future__ import annotations

import numpy as np
import pytest

from adapteval.models.scoring import common_prefix, fast_scores, naive_scores, softmax


def _ids(tok, text, special=True):
    return tok(text, add_special_tokens=special)["input_ids"]


def _cases(tok):
    """Prompts of different lengths sharing demonstrations; labels of 1, 2 and more tokens."""
    shots = "Review: great food. Answer: positive\n\nReview: awful. Answer: negative\n\n"
    texts = ["Review: the staff were lovely. Answer:", "Review: cold soup, rude waiter and a long"
             " wait for the bill at the end. Answer:", "Review: fine. Answer:",
             "Review: ok I guess. Answer:"]
    contexts = [_ids(tok, shots + t) for t in texts]
    labels = [_ids(tok, w, False) for w in (" positive", " not good", " extraordinarily mixed bag")]
    return contexts, labels


def _direct(lm, context, label):
    """One forward over the full sequence, log_softmax, gather: the textbook computation."""
    import torch

    ids = torch.tensor([list(context) + list(label)])
    with torch.inference_mode():
        logp = torch.log_softmax(lm(input_ids=ids).logits[0].float(), -1)
    pos = torch.arange(len(context) - 1, len(context) + len(label) - 1)
    return float(logp[pos, torch.tensor(label)].double().sum())


def test_common_prefix_and_softmax():
    assert common_prefix([[1, 2, 3], [1, 2, 4], [1, 2]]) == 2
    assert common_prefix([[5, 1], [6, 1]]) == 0 and common_prefix([]) == 0
    p = softmax(np.array([[0.0, np.log(3.0)]]))
    np.testing.assert_allclose(p, [[0.25, 0.75]])


@pytest.mark.slow
def test_fast_equals_naive_on_smollm2(smollm2, one_torch_thread):
    contexts, labels = _cases(smollm2.tokenizer)
    assert len({len(x) for x in labels}) == len(labels) and len(labels[0]) == 1
    assert len({len(c) for c in contexts}) == len(contexts)
    assert common_prefix(contexts) > 10  # the demonstrations are shared
    naive = naive_scores(smollm2.lm, contexts, labels)
    direct = np.array([[_direct(smollm2.lm, c, lab) for lab in labels] for c in contexts])
    np.testing.assert_allclose(naive.loglik, direct, atol=1e-5, rtol=0)
    runs = {}
    for batch_size in (1, 16):
        for prefix in (None, 0):
            fast = fast_scores(smollm2.lm, contexts, labels, batch_size=batch_size, prefix=prefix)
            runs[batch_size, prefix] = fast.loglik
            for norm in (False, True):
                np.testing.assert_allclose(fast.scores(norm), naive.scores(norm), atol=1e-4,
                                           rtol=0)
            if prefix is None:
                assert fast.prompt_tokens < sum(map(len, contexts))  # the prefix ran once
            else:
                assert fast.prompt_tokens == sum(map(len, contexts))
    np.testing.assert_allclose(runs[1, None], runs[16, None], atol=1e-4, rtol=0)
    np.testing.assert_allclose(runs[1, 0], runs[16, 0], atol=1e-4, rtol=0)


@pytest.mark.parametrize("family", ["tiny_llama", "tiny_gpt2", "tiny_qwen"])
def test_fast_equals_naive_on_tiny_families(family, request, one_torch_thread):
    """GPT-2 has learned absolute positions: a wrong position after the padding or the
    cache would change its numbers."""
    from adapteval.models.kinds import load_model, resolve_model
    from adapteval.suite.specs import ModelSpec

    folder = request.getfixturevalue(family)
    model = load_model(resolve_model(ModelSpec(source=str(folder)), folder, where="m"))
    lm, tok = model.lm, model.tokenizer
    contexts, labels = _cases(tok)
    naive = naive_scores(lm, contexts, labels)
    loose = [_ids(tok, t) for t in ("a b c d e", "zebra", "one two three four five six")]
    assert common_prefix(loose) == 0
    for batch_size in (1, 3, 16):
        for prefix in (None, 0, 5):
            fast = fast_scores(lm, contexts, labels, batch_size=batch_size, prefix=prefix)
            np.testing.assert_allclose(fast.loglik, naive.loglik, atol=1e-4, rtol=0)
        fast = fast_scores(lm, loose, labels, batch_size=batch_size)
        np.testing.assert_allclose(fast.loglik, naive_scores(lm, loose, labels).loglik,
                                   atol=1e-4, rtol=0)


def test_empty_label_is_refused(tiny_llama, one_torch_thread):
    from transformers import AutoModelForCausalLM

    lm = AutoModelForCausalLM.from_pretrained(tiny_llama).eval()
    with pytest.raises(ValueError, match="at least one token"):
        fast_scores(lm, [[1, 2, 3]], [[4], []])
