"""The transformers backend with a tiny random Llama and a byte-level tokenizer built here.

Nothing is downloaded: the model is four thousand random weights saved to a temp folder. Its
replies are nonsense, but constrained decoding makes them parse as the schema's JSON; the
validator rejects what breaks the domain, and the embedded planner answers instead.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("lmformatenforcer")
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from planner.backends.base import validate_plan  # noqa: E402
from planner.backends.llm import LLMError  # noqa: E402


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    # every byte its own token (a BPE with no merges): any text can be spelt, one char at a time
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {ch: i for i, ch in enumerate(alphabet)}
    vocab["<eos>"] = len(vocab)
    tk = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tk.decoder = decoders.ByteLevel()
    tokenizer = transformers.PreTrainedTokenizerFast(tokenizer_object=tk, eos_token="<eos>")
    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=8192,
        eos_token_id=vocab["<eos>"],
        bos_token_id=vocab["<eos>"],
        pad_token_id=vocab["<eos>"],
    )
    model = transformers.LlamaForCausalLM(config)
    path = tmp_path_factory.mktemp("tiny_llama")
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def backend(tiny_model_dir):
    from planner.backends.transformers_lm import TransformersBackend

    return TransformersBackend(tiny_model_dir, repair_rounds=1, max_new_tokens=900)


def test_constrained_decoding_always_parses(backend):
    reply = backend.complete(
        [{"role": "user", "content": "Command: bring me the coke"}], backend.goal_schema(), "goal"
    )
    data = json.loads(reply)
    assert set(data) == {"understood", "reason", "facts", "variables"}


def test_random_plans_are_rejected_and_the_embedded_planner_answers(backend, kitchen_facts):
    from planner.grounding import default_grounder

    goal = default_grounder().ground("bring me the red mug")
    plan = backend.propose(goal, kitchen_facts)
    tries = [t for t in backend.transcript if t["kind"] == "plan"]
    assert len(tries) == 2  # one try and one repair round, each reply valid JSON
    for t in tries:
        json.loads(t["reply"])
    assert "rejected" in plan.notes[0]
    assert "embedded planner used" in plan.notes[-1]
    validate_plan(plan, goal, kitchen_facts)  # what moves is validated whatever the model said


def test_a_random_goal_is_checked_before_use(backend):
    from planner.errors import GroundingError

    try:
        goal = backend.ground("bring me the red mug")
    except GroundingError as e:  # the model said it cannot: a refusal with what the robot can do
        assert "I can:" in str(e)
        return
    # else the model's goal passed the checks (known predicates and ids) or grounding fell back
    assert goal.facts and all(f[0] in ("at", "handed", "open", "closed", "contains") for f in goal.facts)


def test_a_folder_without_a_model_is_a_clear_error(tmp_path):
    from planner.backends.transformers_lm import TransformersBackend

    with pytest.raises(LLMError, match="not a transformers model folder"):
        TransformersBackend(tmp_path)
