"""The transformers backend: a local causal language model the user points at (a folder).

Decoding is constrained to the request's JSON schema with lm-format-enforcer: at every step
only the tokens that keep the text a valid prefix of a schema-conforming JSON may be chosen,
so the reply parses whatever the model's weights are (a tiny random model included). Greedy
decoding, on the CPU unless told otherwise; the model is loaded from the folder only
(`local_files_only`), never downloaded. What it proposes then goes through `LLMBackend`'s
checks, repair rounds and fallback. Needs the `llm` extra (`pip install -e ".[llm]"`).

lm-format-enforcer's own transformers integration imports names transformers 5 removed, so
the few lines it offers (token table, logits mask) are written here against its core API.
"""

from __future__ import annotations

import inspect
import os
import string
from pathlib import Path
from typing import Any

from planner.backends.llm import LLMBackend, LLMError

# Each constrained step costs a model forward; bound the reply so a rambling model ends.
MAX_NEW_TOKENS = 1200
# Characters a JSON string may hold: no control characters (they do not parse unescaped).
PRINTABLE = string.ascii_letters + string.digits + string.punctuation + " "


class TransformersBackend(LLMBackend):
    name = "transformers"

    def __init__(
        self,
        model_path: str | Path,
        device: str = "cpu",
        max_new_tokens: int = MAX_NEW_TOKENS,
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        path = Path(model_path)
        if not (path / "config.json").is_file():
            raise LLMError(
                f"{path} is not a transformers model folder (no config.json); give the folder a "
                "model was saved to with save_pretrained (nothing is downloaded)"
            )
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            import torch
            from lmformatenforcer import TokenEnforcerTokenizerData  # noqa: F401 (fail early, with advice)
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as e:
            raise LLMError(
                f"the transformers backend needs the 'llm' extra (pip install -e '.[llm]'): {e}"
            ) from e
        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        self.model = AutoModelForCausalLM.from_pretrained(str(path), local_files_only=True).to(device).eval()
        self.device = device
        self.max_new_tokens = max_new_tokens
        self._token_data: Any = None

    # ---- constrained decoding ------------------------------------------------------------
    def _tokenizer_data(self) -> Any:
        """lm-format-enforcer's table of what each token spells, built once per model."""
        if self._token_data is None:
            from lmformatenforcer import TokenEnforcerTokenizerData

            tok = self.tokenizer
            vocab_size = len(tok)
            special = set(tok.all_special_ids)
            zero = tok.encode("0", add_special_tokens=False)[-1]
            regular = []
            for idx in range(vocab_size):
                if idx in special:
                    continue
                # decoding after "0" shows a token's leading space, as the enforcer expects
                after_zero = tok.decode([zero, idx])[1:]
                alone = tok.decode([idx])
                # JSON needs no layout whitespace and no partial UTF-8; a token never offered
                # is one the enforcer can never pick, which keeps weak models from padding
                if not after_zero.strip() or any(
                    c == "\ufffd" or ord(c) < 32 or ord(c) == 127 for c in after_zero
                ):
                    continue
                regular.append((idx, after_zero, len(after_zero) > len(alone)))

            def decode(ids: list[int]) -> str:
                return tok.decode(ids).rstrip("\ufffd")

            eos = tok.eos_token_id if tok.eos_token_id is not None else vocab_size - 1
            self._token_data = TokenEnforcerTokenizerData(regular, decode, eos, False, vocab_size)
        return self._token_data

    def _prompt_ids(self, messages: list[dict[str, str]]) -> list[int]:
        tok = self.tokenizer
        if getattr(tok, "chat_template", None):
            ids = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
            ids = list(ids["input_ids"] if isinstance(ids, dict) else ids)
        else:
            text = "".join(f"{m['role']}: {m['content']}\n" for m in messages) + "assistant: "
            ids = tok.encode(text, add_special_tokens=False)
        # keep the end (the command and the latest rejection) if the prompt outgrows the model
        limit = int(getattr(self.model.config, "max_position_embeddings", 4096)) - self.max_new_tokens
        return ids[-limit:] if limit > 0 else ids

    def complete(self, messages: list[dict[str, str]], schema: dict[str, Any], name: str) -> str:
        from lmformatenforcer import CharacterLevelParserConfig, JsonSchemaParser, TokenEnforcer

        torch = self.torch
        # no free whitespace: a random or weak model would otherwise pad until the budget ends
        parser = JsonSchemaParser(
            schema, config=CharacterLevelParserConfig(alphabet=PRINTABLE, max_consecutive_whitespaces=0)
        )
        enforcer = TokenEnforcer(self._tokenizer_data(), parser)
        prompt = self._prompt_ids(messages)
        seq = list(prompt)
        eos = self._tokenizer_data().eos_token_id
        eos_ids = set(eos) if isinstance(eos, list) else {eos}
        past = None
        # transformers 5 renamed the KV cache argument; older releases call it past_key_values
        cache_arg = (
            "cache" if "cache" in inspect.signature(self.model.forward).parameters else "past_key_values"
        )
        step_input = torch.tensor([prompt], device=self.device)
        with torch.no_grad():
            for _ in range(self.max_new_tokens):
                out = self.model(input_ids=step_input, use_cache=True, **{cache_arg: past})
                past = getattr(out, cache_arg)
                allowed = enforcer.get_allowed_tokens(seq).allowed_tokens
                if not allowed:
                    break
                logits = out.logits[0, -1]
                idx = torch.tensor(allowed, device=logits.device)
                nxt = int(idx[int(torch.argmax(logits[idx]))])
                if nxt in eos_ids:
                    break
                seq.append(nxt)
                step_input = torch.tensor([[nxt]], device=self.device)
        text = self.tokenizer.decode(seq[len(prompt) :], skip_special_tokens=True)
        if not text:
            raise LLMError(f"{self.name} produced no text for the {name}")
        return text
