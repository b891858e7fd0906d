"""zeroshot and icl: class probabilities are the softmax of exact label log-likelihoods."""

from __future__ import annotations

import numpy as np
import pytest

from adapteval.contracts.strategy import CellContext
from adapteval.core.errors import ConfigError
from adapteval.data.task import Split, load_task
from adapteval.models.scoring import softmax
from adapteval.strategies.prompting import (
    CONTENT_FREE,
    Icl,
    Prompter,
    PromptParams,
    ZeroShot,
    balanced_demos,
    label_words,
)
from adapteval.suite.specs import TaskSpec


@pytest.fixture(scope="module")
def yelp(tmp_path_factory):
    spec = TaskSpec(name="yelp", bundled="sentiment-yelp", max_train=200, max_test=100)
    return load_task(spec, tmp_path_factory.mktemp("t"))


def _small(task, seed=0, n=4):
    split = task.split(seed)
    return Split(split.train, split.test.take(np.arange(n)))


def _direct_proba(lm, context, labels):
    """One forward of the full sequence per label, log_softmax, gather, sum; softmax."""
    import torch

    out = []
    with torch.inference_mode():
        for lab in labels:
            logits = lm(input_ids=torch.tensor([list(context) + list(lab)])).logits[0]
            logp = torch.log_softmax(logits.float(), -1)
            pos = torch.arange(len(context) - 1, len(context) + len(lab) - 1)
            out.append(float(logp[pos, torch.tensor(lab)].double().sum()))
    return softmax(np.array(out))


@pytest.mark.slow
@pytest.mark.parametrize("chat,words", [
    ("true", None), ("false", None),
    ("false", {"0": "very negative", "1": "quite positive"}),
    ("true", {"0": "very negative", "1": "quite positive"})])
def test_zeroshot_probabilities_equal_direct_transformers_computation(
        smollm2, chat, words, tmp_path, one_torch_thread):
    task = load_task(TaskSpec(name="y", bundled="sentiment-yelp", max_train=20, max_test=10,
                              label_words=words), tmp_path)
    small = _small(task, n=3)
    fitted = ZeroShot.from_params({"chat": chat}).fit(CellContext(task, small, smollm2, 0))
    prompter = Prompter(smollm2, task, PromptParams(chat=chat))
    assert prompter.chat == (chat == "true")
    if words:
        assert task.spec.label_words == words and min(map(len, prompter.labels)) > 1
    direct = np.stack([_direct_proba(smollm2.lm, prompter.context(t), prompter.labels)
                       for t in small.test.items])
    np.testing.assert_allclose(fitted.predictions.proba[0], direct, atol=1e-5, rtol=0)
    # the predictor analyses use is the same classifier the cell scored
    np.testing.assert_allclose(fitted.predictor.scores(small.test.items),
                               fitted.predictions.proba[0], atol=1e-6, rtol=0)


def test_demonstrations_are_balanced_and_drawn_per_seed_and_experiment(yelp):
    train = yelp.split(0).train
    for k, want in ((4, [2, 2]), (5, [2, 3]), (2, [1, 1])):
        for e in range(4):
            demos = balanced_demos(train, k, 2, 0, e)
            assert sorted(np.bincount([c for _, c in demos], minlength=2)) == want
            assert all(t in train.items for t, _ in demos)
    assert balanced_demos(train, 4, 2, 0, 1) == balanced_demos(train, 4, 2, 0, 1)
    assert balanced_demos(train, 4, 2, 0, 1) != balanced_demos(train, 4, 2, 0, 2)
    assert balanced_demos(train, 4, 2, 0, 1) != balanced_demos(train, 4, 2, 1, 1)


@pytest.mark.slow
def test_icl_same_seed_identical_other_seed_differs(smollm2, yelp, one_torch_thread):
    small = _small(yelp, n=4)
    params = {"k": 2, "n_experiments": 2, "chat": "false"}
    run = [Icl.from_params(params).fit(CellContext(yelp, small, smollm2, s)).predictions
           for s in (3, 3, 4)]
    assert run[0].y_pred.shape == (2, 4) and run[0].proba.shape == (2, 4, 2)
    assert run[0].info["n_demonstrations"] == 2
    np.testing.assert_array_equal(run[0].proba, run[1].proba)
    assert not np.allclose(run[0].proba, run[2].proba)
    assert not np.allclose(run[0].proba[0], run[0].proba[1])  # draws differ


@pytest.mark.slow
def test_calibration_equals_hand_computation(smollm2, yelp, one_torch_thread):
    small = _small(yelp, seed=3, n=4)
    fitted = Icl.from_params({"k": 2, "n_experiments": 1, "calibrate": True, "chat": "false"}
                             ).fit(CellContext(yelp, small, smollm2, 3))
    prompter = Prompter(smollm2, yelp, PromptParams(chat="false"))
    demos = balanced_demos(small.train, 2, 2, 3, 0)
    raw, _ = prompter.probabilities(small.test.items, demos)
    p_cf = prompter.probabilities(list(CONTENT_FREE), demos)[0].mean(0)
    hand = raw / p_cf
    hand /= hand.sum(1, keepdims=True)
    np.testing.assert_allclose(fitted.predictions.proba[0], hand, atol=1e-6, rtol=0)
    np.testing.assert_allclose(fitted.predictions.info["p_cf"][0], p_cf, atol=1e-6)
    np.testing.assert_allclose(fitted.predictor.scores(small.test.items), hand, atol=1e-6)
    assert not np.allclose(hand, raw)


def test_digit_class_names_without_label_words_are_refused(tmp_path):
    import pandas as pd

    pd.DataFrame({"text": [f"t{i}" for i in range(20)], "label": [0, 1] * 10}).to_csv(
        tmp_path / "d.csv", index=False)
    task = load_task(TaskSpec(name="digits", path="d.csv"), tmp_path)
    with pytest.raises(ConfigError) as err:
        label_words(task)
    message = str(err.value)
    assert "label_words" in message and "\n" not in message and err.value.fix
    assert "label_words" in err.value.fix


def test_template_without_text_is_refused():
    with pytest.raises(ConfigError) as err:
        ZeroShot.from_params({"template": "{prompt} Answer:"})
    assert "{text}" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ConfigError):
        ZeroShot.from_params({"template": "{question} {text}"})


@pytest.mark.slow
def test_zeroshot_on_100_real_yelp_items_beats_chance(smollm2, yelp, one_torch_thread):
    out = ZeroShot.from_params({"chat": "false"}).fit(
        CellContext(yelp, yelp.split(0), smollm2, 0)).predictions
    acc = float((out.y_pred[0] == out.y_true).mean())
    majority = float(np.bincount(out.y_true).max() / len(out.y_true))
    print(f"\nzeroshot SmolLM2 chat=false yelp accuracy {acc:.3f} on {len(out.y_true)} items "
          f"(majority {majority:.3f}), {out.info['items_per_second']:.1f} items/s")
    assert len(out.y_true) == 100 and out.proba.shape == (1, 100, 2)
    assert acc > 0.65
