"""Which cell a free worker gets next: its own model's first, then the biggest model
nobody is on, and a share of a busy model only once that model's features are cached
(or for cells that embed nothing); GPU models only to GPU workers; cells another run
holds are skipped."""

from __future__ import annotations

from types import SimpleNamespace

from adapteval.core.devices import Placement
from adapteval.execution.cells import by_model
from adapteval.execution.schedule import Schedule


def _item(model: str, strategy: str, n: int, *, pretrained: bool = True, cuda: bool = False):
    ref = SimpleNamespace(label=model, pretrained=pretrained,
                          placement=Placement("cuda:0", "bfloat16") if cuda else None)
    strat = SimpleNamespace(name=strategy, embeds=strategy != "finetune")
    return (SimpleNamespace(key=f"{model}/{strategy}/{n}", model=ref, strategy=strat), [], None)


def _suite(*items):
    return by_model(list(items))


def _take(sched, holds=None, kind="cpu"):
    item = sched.next(holds, kind)
    return None if item is None else item[0].key


def test_a_worker_stays_on_its_model_and_a_second_takes_the_biggest_other_model():
    sched = Schedule(_suite(_item("tfidf", "probe", 0, pretrained=False),
                            _item("minilm", "probe", 0), _item("minilm", "probe", 1),
                            _item("minilm", "finetune", 0),
                            _item("majority", "probe", 0, pretrained=False),
                            _item("majority", "probe", 1, pretrained=False)), lambda i: i)
    # the biggest model first (fine-tuning and an encode), a cell that embeds first
    assert _take(sched) == "minilm/probe/0"
    # a second worker: a model nobody is on, the bigger of the two baselines' groups
    assert _take(sched) == "majority/probe/0"
    assert _take(sched, "majority") == "majority/probe/1"
    assert _take(sched, "minilm") == "minilm/finetune/0"  # then the heavy cells
    assert sched.left() == 2 and sched.running() == 4


def test_a_model_being_encoded_is_shared_only_once_its_features_are_cached():
    sched = Schedule(_suite(_item("minilm", "probe", 0), _item("minilm", "probe", 1),
                            _item("minilm", "kshot", 0), _item("minilm", "finetune", 0),
                            _item("minilm", "finetune", 1)), lambda i: i)
    assert _take(sched) == "minilm/probe/0"  # this worker embeds for the model, early
    assert _take(sched) == "minilm/finetune/0"  # embeds nothing: shared at once
    assert _take(sched, "minilm") == "minilm/finetune/1"
    assert _take(sched, "other") is None  # the encode is running: wait, do not repeat it
    sched.done("minilm/finetune/0")
    sched.done("minilm/finetune/1")
    assert _take(sched, "other") is None
    sched.done("minilm/probe/0")  # a cell that embedded: the features are in the cache
    assert _take(sched, "other") == "minilm/probe/1"
    assert _take(sched, "minilm") == "minilm/kshot/0"
    assert sched.left() == 0 and _take(sched) is None


def test_cells_another_run_holds_are_skipped_and_gpu_models_go_to_gpu_workers():
    held = {"minilm/probe/0"}
    sched = Schedule(_suite(_item("minilm", "probe", 0), _item("minilm", "probe", 1),
                            _item("llm", "probe", 0, cuda=True)),
                     lambda items: [i for i in items if i[0].key not in held])
    assert _take(sched, kind="gpu") == "llm/probe/0"
    assert _take(sched, kind="gpu") is None and sched.left("gpu") == 0
    assert _take(sched, kind="cpu") == "minilm/probe/1"
    assert sched.left() == 0
    # the local pool runs any model on any worker
    local = Schedule(_suite(_item("llm", "probe", 0, cuda=True)), lambda i: i, by_kind=False)
    assert _take(local, kind="cpu") == "llm/probe/0"
