"""Prompting without training: ``zeroshot`` and ``icl`` (in-context examples) for causal LMs.

Each class has a label continuation: its word from the task's ``label_words`` (default:
the class name). A test item's prompt asks the task's ``prompt`` question about its
text; every label is scored by the log-likelihood of its continuation after the prompt
(all of its tokens, exactly; ``length_normalize`` divides by the token count) and the
class probabilities are the softmax over labels, so every metric, analysis and criterion
reads them as any other cell's. With a chat template (``chat: auto`` uses it when the
model has one) the prompt is the user turn and the label is the opened assistant turn's
first word; otherwise the plain ``template`` is used and the label follows a space.

``icl`` puts ``k`` solved training examples before each test item, balanced over labels
(``k // C`` per class, the remainder to classes drawn at random), drawn per cell seed
over ``n_experiments`` draws; one draw's demonstrations are shared by all of its test
items and run through the model once (see :mod:`adapteval.models.scoring`).

``calibrate: true`` applies contextual calibration (Zhao et al., 2021): the same prompt
with content-free texts ("N/A", "", "[MASK]") gives the model's prior over labels
``p_cf`` (their mean), and each item's probabilities are divided by it and renormalised.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, field_validator

from adapteval.contracts.strategy import (
    STRATEGIES,
    CellContext,
    Fitted,
    Predictions,
    Predictor,
    Strategy,
)
from adapteval.core.errors import ConfigError, IncompatibleError
from adapteval.core.plugin import TEXT, Params
from adapteval.data.task import Task, View
from adapteval.models.scoring import fast_scores, softmax

CONTENT_FREE = ("N/A", "", "[MASK]")
DEFAULT_TEMPLATE = "{prompt}\nText: {text}\nAnswer:"
CHAT_TEMPLATE = "{prompt}\n\n{text}"
DEFAULT_PROMPT = "Which label fits this text: {labels}?"


class PromptParams(Params):
    template: str | None = Field(
        default=None, description="the prompt, with {prompt} (the task's question) and "
        "{text}; default '{prompt}\\nText: {text}\\nAnswer:' followed by ' <label>', or, "
        "with a chat template, the user turn '{prompt}\\n\\n{text}'")
    chat: Literal["auto", "true", "false"] = Field(
        default="auto", description="use the model's chat template (auto: when it has one)")
    length_normalize: bool = Field(default=False, description="mean log-probability per "
                                   "label token instead of the sum")
    calibrate: bool = Field(default=False, description="contextual calibration with "
                            "content-free inputs")
    max_text_tokens: int = Field(default=256, ge=8, le=8192,
                                 description="each text is cut to this many tokens")
    batch_size: int = Field(default=16, ge=1, le=1024, description="prompts per forward pass")

    @field_validator("template")
    @classmethod
    def _has_text(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            value.format(prompt="", text="")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"template may use only {{prompt}} and {{text}} ({exc})") from None
        if "{text}" not in value:
            raise ValueError("template needs {text}, where each item's text goes")
        return value


class IclParams(PromptParams):
    k: int = Field(default=4, ge=1, le=64, description="demonstrations per prompt")
    n_experiments: int = Field(default=5, ge=1, le=100, description="draws of demonstrations")


def label_words(task: Task) -> list[str]:
    """Each class's label word, in class order; bare-number class names need words."""
    classes = [str(c) for c in task.classes or ()]
    given = task.spec.label_words or {}
    missing = [c for c in classes if c not in given]
    if given and missing:
        raise ConfigError(
            f"label_words of task {task.name!r} miss classes {', '.join(missing[:5])}",
            where=f"task {task.name!r}.label_words", value=given,
            fix="give a word for every class: " + ", ".join(classes[:8]))
    if not given and any(c.lstrip("-").replace(".", "", 1).isdigit() for c in classes):
        raise ConfigError(
            f"task {task.name!r} has numbers as class names ({', '.join(classes[:4])}), which "
            "a language model cannot be asked to answer with",
            where=f"task {task.name!r}", value=classes[:4],
            fix="set label_words on the task, e.g. label_words: {0: negative, 1: positive}")
    words = [given.get(c, c) for c in classes]
    if len(set(words)) != len(words):
        raise ConfigError(f"two classes of task {task.name!r} share a label word",
                          where=f"task {task.name!r}.label_words", value=words,
                          fix="give each class its own word")
    return words


@dataclass
class Prompter:
    """Builds prompts and label continuations for one model, task and settings."""

    model: Any
    task: Task
    params: PromptParams

    def __post_init__(self) -> None:
        tok = self.model.tokenizer
        p = self.params
        self.words = label_words(self.task)
        self.chat = self.model.chat if p.chat == "auto" else p.chat == "true"
        if self.chat and not self.model.chat:
            raise IncompatibleError("chat: true, but the model has no chat template",
                                    fix="set chat: auto or false")
        self.question = self.task.spec.prompt or DEFAULT_PROMPT.format(
            labels=" or ".join(self.words))
        self.labels = [tok((w if self.chat else " " + w), add_special_tokens=False)["input_ids"]
                       for w in self.words]

    def _cut(self, text: str) -> str:
        tok = self.model.tokenizer
        ids = tok(text, add_special_tokens=False)["input_ids"]
        if len(ids) <= self.params.max_text_tokens:
            return text
        return tok.decode(ids[: self.params.max_text_tokens])

    def _user(self, text: str) -> str:
        template = self.params.template or (CHAT_TEMPLATE if self.chat else DEFAULT_TEMPLATE)
        return template.format(prompt=self.question, text=self._cut(text))

    def context(self, text: str, demos: list[tuple[str, int]] = ()) -> list[int]:
        """Token ids of the prompt for ``text`` after the demonstrations ``(text, class)``."""
        tok = self.model.tokenizer
        if self.chat:
            messages = []
            for d, c in demos:
                messages += [{"role": "user", "content": self._user(d)},
                             {"role": "assistant", "content": self.words[c]}]
            messages.append({"role": "user", "content": self._user(text)})
            rendered = tok.apply_chat_template(messages, add_generation_prompt=True,
                                               tokenize=False)
            return tok(rendered, add_special_tokens=False)["input_ids"]
        shots = "".join(f"{self._user(d)} {self.words[c]}\n\n" for d, c in demos)
        return tok(shots + self._user(text))["input_ids"]

    def rendered(self, text: str, demos: list[tuple[str, int]] = ()) -> str:
        return self.model.tokenizer.decode(self.context(text, demos))

    def probabilities(self, texts: list[str], demos: list[tuple[str, int]] = (),
                      p_cf: np.ndarray | None = None) -> tuple[np.ndarray, int]:
        """(class probabilities (n, C), prompt tokens run)."""
        contexts = [self.context(t, demos) for t in texts]
        scored = fast_scores(self.model.lm, contexts, self.labels,
                             batch_size=self.params.batch_size)
        proba = softmax(scored.scores(self.params.length_normalize))
        if p_cf is not None:
            proba = proba / p_cf
            proba /= proba.sum(1, keepdims=True)
        return proba, scored.prompt_tokens

    def prior(self, demos: list[tuple[str, int]] = ()) -> np.ndarray:
        """Mean label probabilities of content-free inputs (contextual calibration)."""
        proba, _ = self.probabilities(list(CONTENT_FREE), demos)
        return proba.mean(0)


class PromptPredictor(Predictor):
    """Scores new texts with the cell's prompt (and its first draw's demonstrations, and
    its calibration), so analyses see the same classifier the cell scored."""

    kind = "prompted"

    def __init__(self, task: Task, prompter: Prompter, demos: list[tuple[str, int]],
                 p_cf: np.ndarray | None) -> None:
        super().__init__(task)
        self.prompter, self.demos, self.p_cf = prompter, demos, p_cf

    def scores(self, items: list[Any], pairs: list[Any] | None = None) -> np.ndarray:
        return self.prompter.probabilities(list(items), self.demos, self.p_cf)[0]


def balanced_demos(train: View, k: int, n_classes: int, seed: int, experiment: int
                   ) -> list[tuple[str, int]]:
    """``k`` training items balanced over labels (``k // C`` each, the remainder to classes
    drawn at random; a class with fewer items gives what it has), in a seeded order."""
    rng = np.random.default_rng([seed, experiment, 7])
    per = np.full(n_classes, k // n_classes)
    per[rng.choice(n_classes, size=k % n_classes, replace=False)] += 1
    picked: list[int] = []
    for c in range(n_classes):
        members = np.flatnonzero(train.y == c)
        picked += rng.choice(members, size=min(per[c], len(members)), replace=False).tolist()
    return [(train.items[picked[i]], int(train.y[picked[i]]))
            for i in rng.permutation(len(picked))]


class Prompting(Strategy):
    """Base of the prompting strategies: no training, the LM's label likelihoods."""

    frozen = True
    embeds = False  # the LM scores prompts; no embedding is read
    modalities = frozenset({TEXT})
    task_types = frozenset({"binary", "multiclass"})
    Params = PromptParams
    rung: ClassVar[float | None] = 0

    def supports(self, model_kind: Any) -> bool:
        return bool(getattr(model_kind, "prompts", False))

    def check_task(self, task: Task) -> None:
        label_words(task)

    def draws(self, ctx: CellContext) -> list[list[tuple[str, int]]]:
        return [[]]

    def fit(self, ctx: CellContext) -> Fitted:
        p = self.params
        prompter = Prompter(ctx.model, ctx.task, p)
        test = ctx.split.test
        draws = self.draws(ctx)
        preds, probas, priors, tokens = [], [], [], 0
        t0 = time.perf_counter()
        for e, demos in enumerate(draws):
            p_cf = prompter.prior(demos) if p.calibrate else None
            proba, n_tok = prompter.probabilities(test.items, demos, p_cf)
            preds.append(proba.argmax(1))
            probas.append(proba)
            priors.append(p_cf)
            tokens += n_tok
            if ctx.progress is not None:
                ctx.progress("prompting", e + 1, len(draws))
        seconds = time.perf_counter() - t0
        first = test.items[0] if len(test) else ""
        info = {
            "n_test": len(test), "template": prompter.rendered(first, draws[0])[-600:],
            "label_words": prompter.words, "label_tokens": [len(x) for x in prompter.labels],
            "chat": prompter.chat, "calibrate": p.calibrate,
            "p_cf": [q.round(6).tolist() for q in priors] if p.calibrate else None,
            "n_demonstrations": len(draws[0]), "scored_items": len(test) * len(draws),
            "score_seconds": seconds, "prompt_tokens": tokens,
            "items_per_second": len(test) * len(draws) / seconds if seconds > 0 else None,
        }
        predictions = Predictions(test.y, np.stack(preds), np.stack(probas), test.rows, info)
        return Fitted(PromptPredictor(ctx.task, prompter, draws[0], priors[0]), predictions)


@STRATEGIES.register
class ZeroShot(Prompting):
    name = "zeroshot"
    description = "prompt a language model; each label scored by its log-likelihood"


@STRATEGIES.register
class Icl(Prompting):
    name = "icl"
    description = "in-context learning: k balanced demonstrations per prompt, resampled"
    Params = IclParams
    rung = 1

    def draws(self, ctx: CellContext) -> list[list[tuple[str, int]]]:
        p: IclParams = self.params  # type: ignore[assignment]
        n_classes = len(ctx.task.classes or ())
        return [balanced_demos(ctx.split.train, p.k, n_classes, ctx.seed, e)
                for e in range(p.n_experiments)]
