"""The vLLM backend: a vLLM server (or any OpenAI-compatible one) with structured output.

Each request is a chat completion with `response_format: {type: json_schema}`, so the server
decodes inside the schema (vLLM's guided decoding). Time-outs, and retries with back-off on
connection errors, time-outs and 5xx answers; a 4xx answer is not retried (the request itself
is wrong). What the server says then goes through `LLMBackend`'s checks, repair rounds and
fallback to the embedded planner. Start a server with e.g.
`vllm serve Qwen/Qwen2.5-7B-Instruct --port 8000` and plan with
`humanoid plan "..." --backend vllm --llm-url http://127.0.0.1:8000/v1 --llm-model Qwen/Qwen2.5-7B-Instruct`.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from planner.backends.llm import LLMBackend, LLMError


class VLLMBackend(LLMBackend):
    name = "vllm"

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000/v1",
        model: str = "default",
        timeout_s: float = 30.0,
        retries: int = 2,
        max_tokens: int = 800,
        api_key: str | None = None,
        client: httpx.Client | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.retries = retries
        self.max_tokens = max_tokens
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = client or httpx.Client(timeout=timeout_s, headers=headers)

    def complete(self, messages: list[dict[str, str]], schema: dict[str, Any], name: str) -> str:
        body = {
            "model": self.model,
            "messages": messages,
            "temperature": 0.0,
            "max_tokens": self.max_tokens,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": name, "schema": schema, "strict": True},
            },
        }
        url = f"{self.base_url}/chat/completions"
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(2.0, 0.2 * 2 ** (attempt - 1)))  # back off: a busy server needs a moment
            try:
                resp = self.client.post(url, json=body)
            except httpx.TimeoutException:
                last = f"no answer from {url} within {self.client.timeout.read}s"
                continue
            except httpx.TransportError as e:
                last = f"cannot reach {url}: {e}"
                continue
            if resp.status_code >= 500:
                last = f"{url} answered {resp.status_code}: {resp.text[:120]}"
                continue
            if resp.status_code >= 400:
                raise LLMError(f"{url} refused the request ({resp.status_code}): {resp.text[:200]}")
            try:
                content = resp.json()["choices"][0]["message"]["content"]
            except (ValueError, KeyError, IndexError, TypeError):
                raise LLMError(f"{url} answered without a chat completion: {resp.text[:120]!r}") from None
            if not isinstance(content, str):
                raise LLMError(f"{url} answered with no text content")
            return content
        raise LLMError(f"{last} (after {self.retries + 1} tries)")
