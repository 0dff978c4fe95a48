"""Grounding: a sentence becomes a `Goal` over the scene's objects and places.

Lexical first, then embeddings. Words are lower-cased, typos corrected by edit distance
against the vocabulary of planner/data/grounding.yaml, object and place names matched
longest-phrase-first. An intent is picked by its trigger phrases or required concept; only
when none fires does the MiniLM matcher compare the sentence with each intent's examples.
Objects always come from the lexical layer, so an embedding can never invent one. What is
not understood raises `GroundingError` saying which words and what the robot can do.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from planner.embeddings import IntentMatcher
from planner.errors import GroundingError
from planner.goal import Fact, Goal
from scenarios.world import ObjectInfo, load_catalogue

DATA_PATH = Path(__file__).resolve().parent / "data" / "grounding.yaml"
_CONTRACTIONS = (
    ("n't", " not"),
    ("'d", " would"),
    ("'m", " am"),
    ("'ll", " will"),
    ("'re", " are"),
    ("'ve", " have"),
    ("'s", ""),
)


@dataclass(frozen=True)
class Mention:
    """A phrase of the command recognised as an object, a place, a category or a concept."""

    start: int
    end: int  # token span [start, end)
    kind: str  # object | place | category | concept
    value: str


@dataclass(frozen=True)
class Intent:
    name: str
    description: str
    requires: tuple[str, ...]
    triggers: tuple[tuple[str, ...], ...]
    goal: tuple[tuple[str, ...], ...]
    defaults: Mapping[str, str]
    examples: tuple[str, ...]


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (adjacent swaps count one), or limit+1 once it exceeds `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def _typo_budget(word: str) -> int:
    # Short words are too easy to confuse ("tea"/"tee"); long ones tolerate two slips.
    return 0 if len(word) <= 3 else 1 if len(word) <= 7 else 2


def tokenize(text: str) -> list[str]:
    # "café" -> "cafe": accents would otherwise split a word in two
    text = unicodedata.normalize("NFKD", text.lower().replace("\u2019", "'"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    for short, long in _CONTRACTIONS:
        text = text.replace(short, long)
    return re.findall(r"[a-z0-9]+", text)


class Grounder:
    """Turns commands into goals for one scene, from the grounding data file."""

    def __init__(
        self,
        catalogue: Mapping[str, ObjectInfo] | None = None,
        data_path: Path = DATA_PATH,
        matcher: IntentMatcher | None = None,
        use_embeddings: bool = True,
    ) -> None:
        raw: dict[str, Any] = yaml.safe_load(data_path.read_text())
        self.catalogue = dict(catalogue) if catalogue is not None else load_catalogue("kitchen")
        self.max_chars = int(raw.get("max_command_chars", 300))
        self.intents = [
            Intent(
                name=name,
                description=str(spec["description"]),
                requires=tuple(spec.get("requires", ())),
                triggers=tuple(tuple(tokenize(t)) for t in spec.get("triggers", ())),
                goal=tuple(tuple(f) for f in spec["goal"]),
                defaults=dict(spec.get("defaults", {})),
                examples=tuple(spec.get("examples", ())),
            )
            for name, spec in raw["intents"].items()
        ]
        self.places = {oid for oid, info in self.catalogue.items() if not info.graspable}
        self.places |= {oid for oid in raw["aliases"] if oid not in self.catalogue}  # e.g. the user's spot
        # phrase (as a token tuple) -> (kind, value); catalogue ids are phrases too
        self.phrases: dict[tuple[str, ...], tuple[str, str]] = {}
        for oid in set(self.catalogue) | set(raw["aliases"]):
            kind = "place" if oid in self.places else "object"
            for phrase in [oid.replace("_", " "), oid, *raw["aliases"].get(oid, ())]:
                self.phrases[tuple(tokenize(phrase))] = (kind, oid)
        for section, kind in (("categories", "category"), ("concepts", "concept")):
            for value, phrases in raw.get(section, {}).items():
                for phrase in phrases:
                    self.phrases.setdefault(tuple(tokenize(phrase)), (kind, value))
        self.max_phrase = max(len(p) for p in self.phrases)
        self.destination_words = frozenset(raw.get("destination_words", ()))
        self.determiners = frozenset(raw.get("determiners", ()))
        self.fillers = frozenset(raw.get("fillers", ()))
        # words worth correcting a typo towards; fillers are known but never targets
        self.content_words = frozenset(w for p in self.phrases for w in p) | {
            w for i in self.intents for t in i.triggers for w in t
        }
        self.vocabulary = self.content_words | self.fillers | self.destination_words | self.determiners
        emb = raw.get("embedding", {})
        self.min_similarity = float(emb.get("min_similarity", 0.55))
        self.min_margin = float(emb.get("min_margin", 0.03))
        self.use_embeddings = use_embeddings
        self.matcher = matcher or IntentMatcher({i.name: i.examples for i in self.intents if i.examples})

    # ---- the entry point -----------------------------------------------------------------
    def ground(self, command: object) -> Goal:
        text = self._check_text(command)
        tokens, notes = self._correct(tokenize(text))
        if not tokens:
            raise GroundingError(f"the command {text!r} has no words I can read. {self.capabilities()}")
        mentions = self._mentions(tokens)
        intent, how = self._intent(tokens, mentions, text)
        notes.append(how)
        self._check_unknown_phrases(tokens, mentions, text)
        facts, variables = self._fill(intent, tokens, mentions, text)
        return Goal(intent=intent.name, facts=facts, variables=variables, command=text, notes=tuple(notes))

    # ---- steps ---------------------------------------------------------------------------
    def _check_text(self, command: object) -> str:
        if isinstance(command, bytes | bytearray):
            try:
                command = bytes(command).decode("utf-8")
            except UnicodeDecodeError:
                raise GroundingError(
                    "the command is binary data, not text; give a sentence such as 'make me a coffee'"
                ) from None
        if not isinstance(command, str):
            raise GroundingError(f"the command must be text, got {type(command).__name__}")
        text = " ".join(command.split())
        if not text:
            raise GroundingError(f"the command is empty. {self.capabilities()}")
        if len(text) > self.max_chars:
            raise GroundingError(
                f"the command is {len(text)} characters long; at most {self.max_chars} are accepted. "
                "Give one short request, e.g. 'make me a coffee'."
            )
        if any(not ch.isprintable() for ch in text):
            raise GroundingError(
                "the command contains control or binary characters; give plain text, e.g. 'make me a coffee'"
            )
        return text

    def _correct(self, tokens: list[str]) -> tuple[list[str], list[str]]:
        out, notes = [], []
        for tok in tokens:
            fixed = tok if tok in self.vocabulary or tok.isdigit() else self._nearest(tok)
            if fixed != tok:
                notes.append(f"read '{tok}' as '{fixed}'")
            out.append(fixed)
        return out, notes

    def _nearest(self, word: str) -> str:
        budget = _typo_budget(word)
        best, best_d = word, budget + 1
        for cand in sorted(self.content_words):
            if cand[0] != word[0] and not (len(word) > 1 and cand[:2] == word[1::-1]):
                continue  # a typo rarely hits the first letter; this keeps "cake" from meaning "bake"
            d = edit_distance(word, cand, budget)
            if d < best_d:
                best, best_d = cand, d
        return best

    def _mentions(self, tokens: Sequence[str]) -> list[Mention]:
        found, i = [], 0
        while i < len(tokens):
            for n in range(min(self.max_phrase, len(tokens) - i), 0, -1):
                hit = self.phrases.get(tuple(tokens[i : i + n]))
                if hit is not None:
                    found.append(Mention(i, i + n, *hit))
                    i += n
                    break
            else:
                i += 1
        return found

    def _intent(self, tokens: Sequence[str], mentions: Sequence[Mention], text: str) -> tuple[Intent, str]:
        concepts = {f"concept:{m.value}" for m in mentions if m.kind == "concept"}
        joined = f" {' '.join(tokens)} "
        for intent in self.intents:
            needs = [r for r in intent.requires if r.startswith("concept:")]
            if needs and all(r in concepts for r in needs):
                return intent, f"intent '{intent.name}' from the words"
            if any(f" {' '.join(t)} " in joined for t in intent.triggers):
                return intent, f"intent '{intent.name}' from the words"
        if not self.use_embeddings:
            raise GroundingError(self._not_understood(text, tokens, mentions))
        m = self.matcher.match(" ".join(tokens))
        if m.similarity < self.min_similarity or m.similarity - m.runner_up_similarity < self.min_margin:
            raise GroundingError(self._not_understood(text, tokens, mentions))
        intent = next(i for i in self.intents if i.name == m.intent)
        # A resemblance may stand in for a missing concept ("something to wake me up" is coffee),
        # never against a thing the sentence does name ("a cup of tea" is not coffee).
        if any(r.startswith("concept:") for r in intent.requires):
            odd = [
                m.value
                for m in mentions
                if m.kind in ("object", "category") and not self._is_mug(m.value) and m.value != "mug"
            ]
            if odd:
                raise GroundingError(
                    f"could not understand {text!r}: it reads like '{m.example}', but {', '.join(odd)} does not fit "
                    f"that. {self.capabilities()}"
                )
        return (
            intent,
            f"intent '{intent.name}' by resemblance to '{m.example}' (similarity {m.similarity:.2f})",
        )

    def _check_unknown_phrases(self, tokens: Sequence[str], mentions: Sequence[Mention], text: str) -> None:
        """An unknown word in a noun phrase ("a pizza") names something this kitchen does not have."""
        covered = {i for m in mentions for i in range(m.start, m.end)}
        stops = self.destination_words | {"and", "then", "or", "but", "with"}
        for i, tok in enumerate(tokens):
            if tok not in self.determiners:
                continue
            unknown = []
            for j in range(i + 1, len(tokens)):
                if j in covered or tokens[j] in stops or tokens[j] in self.determiners:
                    break
                if tokens[j] not in self.vocabulary:
                    unknown.append(tokens[j])
            else:
                j = len(tokens)
            if unknown and j not in covered:
                raise GroundingError(self._not_understood(text, tokens, mentions))

    def _fill(
        self, intent: Intent, tokens: Sequence[str], mentions: Sequence[Mention], text: str
    ) -> tuple[tuple[Fact, ...], dict[str, str]]:
        slots: dict[str, str] = dict(intent.defaults)
        variables: dict[str, str] = {}
        things = [m for m in mentions if m.kind in ("object", "category")]
        places = [m for m in mentions if m.kind == "place"]
        dest = [m for m in places if self._after_destination_word(tokens, m)]
        if intent.name in ("open", "close"):
            dest = places  # "open the cupboard": the place is the object of the verb
        if dest:
            slots["destination"] = dest[-1].value
        if things:
            first = things[0]
            if first.kind == "category":
                slots["object"] = "?object"
                variables["?object"] = first.value
            else:
                slots["object"] = first.value
        mug = next((m for m in things if m.kind == "object" and self._is_mug(m.value)), None)
        slots["mug"] = mug.value if mug else "?mug"
        if slots["mug"] == "?mug":
            variables["?mug"] = "mug"
        for req in intent.requires:
            kind, _, name = req.partition(":")
            if kind == "slot" and name not in slots:
                raise GroundingError(self._missing_slot(intent, name, text, tokens, mentions))
        facts = tuple(tuple(slots[t[1:]] if t.startswith("$") else t for t in f) for f in intent.goal)
        variables = {v: c for v, c in variables.items() if any(v in f for f in facts)}
        return facts, variables

    # ---- helpers -------------------------------------------------------------------------
    def _after_destination_word(self, tokens: Sequence[str], m: Mention) -> bool:
        j = m.start - 1
        while j >= 0 and tokens[j] in self.determiners:
            j -= 1
        return j >= 0 and tokens[j] in self.destination_words

    def _is_mug(self, oid: str) -> bool:
        info = self.catalogue.get(oid)
        return info is not None and info.kind == "mug"

    def _unknown_words(self, tokens: Sequence[str], mentions: Sequence[Mention]) -> list[str]:
        covered = {i for m in mentions for i in range(m.start, m.end)}
        return [t for i, t in enumerate(tokens) if i not in covered and t not in self.vocabulary]

    def _not_understood(self, text: str, tokens: Sequence[str], mentions: Sequence[Mention]) -> str:
        unknown = self._unknown_words(tokens, mentions)
        what = f"I don't know {', '.join(repr(w) for w in unknown)}" if unknown else "I don't know what to do"
        return f"could not understand {text!r}: {what}. {self.capabilities()}"

    def _missing_slot(
        self, intent: Intent, slot: str, text: str, tokens: Sequence[str], mentions: Sequence[Mention]
    ) -> str:
        unknown = self._unknown_words(tokens, mentions)
        kinds = {"object": "which thing", "destination": "which place"}
        head = f"to {intent.description} I need to know {kinds.get(slot, slot)}"
        if unknown:
            head += f", and I don't know {', '.join(repr(w) for w in unknown)}"
        known = self.known_things() if slot == "object" else self.known_places()
        return f"could not understand {text!r}: {head}. I know: {', '.join(known)}. {self.capabilities()}"

    def known_things(self) -> list[str]:
        return sorted(oid for oid, info in self.catalogue.items() if info.graspable)

    def known_places(self) -> list[str]:
        return sorted(self.places)

    def capabilities(self) -> str:
        """What the robot can be asked, for error messages and `--help`."""
        lines = "; ".join(f"{i.description} (e.g. '{i.examples[0]}')" for i in self.intents if i.examples)
        return f"I can: {lines}."


@lru_cache(maxsize=2)
def default_grounder(scene: str = "kitchen") -> Grounder:
    return Grounder(load_catalogue(scene))


def ground_command(command: object, scene: str = "kitchen") -> Goal:
    """Ground one command with the shared grounder of `scene`."""
    return default_grounder(scene).ground(command)
