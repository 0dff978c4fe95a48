"""Grounding: a sentence becomes a `Goal` over the scene's objects and places.

Lexical first, then embeddings. Words are lower-cased, typos corrected by edit distance
against the vocabulary of planner/data/grounding.yaml, object and place names matched
longest-phrase-first. An intent is picked by its trigger phrases or required concept; only
when none fires does the MiniLM matcher compare the sentence with each intent's examples.
Objects always come from the lexical layer, so an embedding can never invent one. What is
not understood raises `GroundingError` saying which words and what the robot can do.

Open-ended speech, all driven by the data file:
- several requests in one sentence ("throw away the apple and bring me a coke") split into
  clauses at punctuation and at "and"/"then" when a new request follows; their goals join;
- a clause with no request is context ("I spilled my coke, ...") that "it" may refer to, and
  a sentence with no request at all may state a need ("I'm thirsty");
- categories narrowed by properties and negation ("a drink without caffeine") become category
  expressions (planner/goal.py);
- "the <category>" with several candidates raises `AmbiguityError` with the options, so the
  operator is asked instead of the planner guessing;
- text that tries to change the robot's rules ("ignore your rules and ...") is refused.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from planner.embeddings import IntentMatcher
from planner.errors import AmbiguityError, GroundingError
from planner.goal import Fact, Goal, category_holds, category_text
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


@dataclass(frozen=True)
class Need:
    """A stated need that is a request when nothing else is asked ("I'm thirsty" -> bring a drink)."""

    phrases: tuple[tuple[str, ...], ...]
    intent: str
    category: str | None


@dataclass
class Thing:
    """One thing a clause asks for: a scene id, or a category expression built from its words."""

    value: str  # object id, or "" for a category
    terms: list[str]  # category expression terms ("drink", "!caffeinated") when value is ""
    definite: bool  # "the fruit": one particular thing the speaker has in mind
    start: int
    end: int = 0  # token after the last word that shaped it
    has_base: bool = True  # False while only properties or "something" describe it

    @property
    def expression(self) -> str:
        return "&".join(self.terms)


@dataclass
class Part:
    """The goal of one request in the sentence."""

    intent: Intent
    facts: list[Fact]
    variables: dict[str, str]
    objects: list[str]  # what the request is about, for "it" in a later clause
    destination: str | None


PRONOUNS = frozenset({"it", "them", "this", "that", "one"})
# "and" or "then" start a new request only when one follows; otherwise they join things
# ("bring me the apple and the orange").
CLAUSE_JOINERS = frozenset({"and", "then", "also", "afterwards", "after"})


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
        for section, kind in (
            ("categories", "category"),
            ("concepts", "concept"),
            ("properties", "property"),
        ):
            for value, phrases in raw.get(section, {}).items():
                for phrase in phrases:
                    self.phrases.setdefault(tuple(tokenize(phrase)), (kind, value))
        for word in raw.get("generic_things", ()):
            self.phrases.setdefault(tuple(tokenize(word)), ("generic", ""))
        # A name without the category word it ends with ("jalapeno" of "jalapeno chips") means
        # that object, but only where the sentence talks about that category ("chips but not
        # jalapeno", "crisps, not the rice ones") or says "one(s)"; a full phrase always wins.
        self.partial_names: dict[tuple[str, ...], tuple[str, str]] = {}
        category_phrases = [
            (tuple(tokenize(p)), cat) for cat, ps in raw.get("categories", {}).items() for p in ps
        ]
        for oid in sorted(set(self.catalogue) | set(raw["aliases"])):
            info = self.catalogue.get(oid)
            if info is None or not info.graspable:
                continue
            for phrase in [oid.replace("_", " "), *raw["aliases"].get(oid, ())]:
                toks = tuple(tokenize(phrase))
                for cat_toks, cat in category_phrases:
                    head = toks[: len(toks) - len(cat_toks)]
                    if (
                        head
                        and toks[len(head) :] == cat_toks
                        and cat in info.categories
                        and head not in self.phrases
                    ):
                        self.partial_names.setdefault(head, (oid, cat))
        self.needs = [
            Need(tuple(tuple(tokenize(p)) for p in n["phrases"]), str(n["intent"]), n.get("category"))
            for n in raw.get("needs", ())
        ]
        # exclusion markers, as token tuples ("but", "other than", "apart from")
        self.negation_phrases = frozenset(tuple(tokenize(n)) for n in raw.get("negations", ()))
        self.negations = frozenset(w for n in self.negation_phrases for w in n)
        self.statement_words = frozenset(raw.get("statement_words", ()))
        self.refuse_phrases = tuple(" ".join(tokenize(p)) for p in raw.get("refuse_phrases", ()))
        self.max_phrase = max(len(p) for p in [*self.phrases, *self.partial_names])
        self.destination_words = frozenset(raw.get("destination_words", ()))
        self.determiners = frozenset(raw.get("determiners", ()))
        self.fillers = frozenset(raw.get("fillers", ()))
        # words worth correcting a typo towards; fillers are known but never targets
        self.content_words = frozenset(w for p in self.phrases for w in p) | {
            w for i in self.intents for t in i.triggers for w in t
        }
        self.content_words |= {w for n in self.needs for p in n.phrases for w in p}
        self.content_words |= {w for p in self.partial_names for w in p}
        self.vocabulary = (
            self.content_words
            | self.fillers
            | self.destination_words
            | self.determiners
            | self.negations
            | CLAUSE_JOINERS
            | PRONOUNS
            | self.statement_words
        )
        self._by_name = {i.name: i for i in self.intents}
        emb = raw.get("embedding", {})
        self.min_similarity = float(emb.get("min_similarity", 0.55))
        self.min_margin = float(emb.get("min_margin", 0.03))
        self.use_embeddings = use_embeddings
        self.matcher = matcher or IntentMatcher({i.name: i.examples for i in self.intents if i.examples})

    # ---- the entry point -----------------------------------------------------------------
    def ground(self, command: object, choices: Sequence[str] = ()) -> Goal:
        """The goal `command` asks for. `choices` answer an earlier `AmbiguityError` (the ids the
        operator picked), so "bring me the mug" + ["mug_red"] means the red mug."""
        self._choices = tuple(choices)
        text = self._check_text(command)
        self._check_rules_talk(text)
        notes: list[str] = []
        clauses: list[list[str]] = []
        segments = []
        for segment in re.split(r"[,;.!?:]+|\s-\s", text):
            tokens, fixed = self._correct(tokenize(segment))
            notes += fixed
            segments.append(tokens)
        self._scope = frozenset()  # categories the sentence talks about, for partial names
        self._scope = frozenset(
            m.value for tokens in segments for m in self._mentions(tokens) if m.kind == "category"
        )
        for tokens in segments:
            clauses += self._split(tokens)
        if not clauses:
            raise GroundingError(f"the command {text!r} has no words I can read. {self.capabilities()}")
        parts: list[Part] = []
        context: list[str] = []  # things named outside any request, for "it"
        bare: list[tuple[list[str], list[Mention]]] = []  # clauses that only name things
        bare_exclusions: list[Thing] = []  # "a soda, anything but pepsi": narrows the bare phrase
        deferred: GroundingError | None = None
        for tokens in clauses:
            mentions = self._mentions(tokens)
            found = self._lexical_intent(tokens, mentions)
            things = self._things(tokens, mentions, 0) if found is None else []
            if found is None and parts and self._only_exclusions(things):
                self._narrow(parts[-1], things)  # "bring me some chips, not the spicy ones"
                continue
            if found is None and bare and self._only_exclusions(things):
                bare_exclusions += things  # "a soda, anything but pepsi", "chips, not the rice ones"
                continue
            if found is None and parts and things:
                found = (parts[-1].intent, 0)  # "..., and the orange too": more of the same request
            if found is None:
                context += [t.value for t in things if t.value]
                if things and self._is_noun_phrase(tokens, mentions):
                    bare.append((tokens, mentions))
                continue
            intent, pos = found
            self._check_unknown_phrases(tokens, mentions, text)
            try:
                part = self._fill(intent, tokens, mentions, pos, text, parts, context)
            except AmbiguityError:
                raise
            except GroundingError as e:
                deferred = deferred or e  # a stated need may still say what is wanted
                continue
            if part is not None:
                parts.append(part)
            notes.append(f"intent '{intent.name}' from the words")
        all_tokens = [t for c in clauses for t in c]
        if not parts and deferred is None and len(bare) == 1 and not self._stated_need(all_tokens):
            # a noun phrase alone is a request for it: "a drink without caffeine", "the coke"
            tokens, mentions = bare[0]
            part = self._fill(self._by_name["bring"], tokens, mentions, 0, text, [], [])
            assert part is not None
            self._narrow(part, bare_exclusions)
            parts.append(part)
            notes.append("intent 'bring' for a thing named without a verb")
        if not parts:
            parts = [self._from_need_or_resemblance(all_tokens, text, notes, deferred)]
        return self._join(parts, text, notes)

    @staticmethod
    def _narrow(part: Part, things: Sequence[Thing]) -> None:
        var = next((v for v in reversed(part.variables) if v != "?mug"), None)
        if var is not None:
            extra = [x for t in things for x in t.terms]
            part.variables[var] = "&".join([part.variables[var], *extra])

    def _is_noun_phrase(self, tokens: Sequence[str], mentions: Sequence[Mention]) -> bool:
        """ "a drink without caffeine", "the coke please": a thing named with no verb, no statement."""
        if any(t in self.statement_words for t in tokens):
            return False
        first = next((m.start for m in mentions if m.kind != "concept"), len(tokens))
        lead = set(tokens[:first]) - self.determiners
        if lead - {
            "please",
            "just",
            "maybe",
            "ok",
            "okay",
            "now",
            "and",
            "also",
            "oh",
            "hey",
            "i",
            "would",
            "like",
        }:
            return False
        try:
            self._check_unknown_phrases(tokens, mentions, "")
        except GroundingError:
            return False
        return True

    def _stated_need(self, tokens: Sequence[str]) -> bool:
        return self._need(tokens) is not None

    def _need(self, tokens: Sequence[str]) -> Need | None:
        """The first need whose phrase the sentence says, outside any longer name: "energy" is a
        need in "I'm low on energy", not in "an energy drink"."""
        spans = [(m.start, m.end) for m in self._mentions(tokens)]
        for need in self.needs:
            for p in need.phrases:
                for i in range(len(tokens) - len(p) + 1):
                    if tuple(tokens[i : i + len(p)]) != p:
                        continue
                    inside = any(a <= i and i + len(p) <= b and b - a > len(p) for a, b in spans)
                    if not inside:
                        return need
        return None

    def _join(self, parts: list[Part], text: str, notes: list[str]) -> Goal:
        facts: list[Fact] = []
        variables: dict[str, str] = {}
        for part in parts:
            rename = {}
            for var, expr in part.variables.items():
                new, n = var, 2
                while new in variables:
                    new, n = f"{var}{n}", n + 1
                rename[var] = new
                variables[new] = expr
            for f in part.facts:
                fact = tuple(rename.get(t, t) for t in f)
                if fact not in facts:
                    facts.append(fact)
        intent = "+".join(dict.fromkeys(p.intent.name for p in parts))
        return Goal(intent=intent, facts=tuple(facts), variables=variables, command=text, notes=tuple(notes))

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

    def _check_rules_talk(self, text: str) -> None:
        joined = f" {' '.join(tokenize(text))} "
        hit = next((p for p in self.refuse_phrases if f" {p} " in joined), None)
        if hit is not None:
            raise GroundingError(
                f"refused: {text!r} asks me to change how I work ('{hit}'), not for a task. "
                f"My rules and safety limits stay as they are. {self.capabilities()}"
            )

    def _split(self, tokens: list[str]) -> list[list[str]]:
        """Clauses of one segment: cut at a joiner only when a request follows it."""
        if not tokens:
            return []
        cuts = [0]
        for i, tok in enumerate(tokens):
            if tok in CLAUSE_JOINERS and i > cuts[-1]:
                rest = tokens[i + 1 :]
                nxt = next((j for j, t in enumerate(rest) if t in CLAUSE_JOINERS), len(rest))
                ahead = rest[:nxt]
                if ahead and self._lexical_intent(ahead, self._mentions(ahead)) is not None:
                    cuts.append(i)
        cuts.append(len(tokens))
        out = []
        for a, b in itertools.pairwise(cuts):
            clause = tokens[a:b]
            while clause and clause[0] in CLAUSE_JOINERS:
                clause = clause[1:]
            if clause:
                out.append(clause)
        return out

    def _lexical_intent(
        self, tokens: Sequence[str], mentions: Sequence[Mention]
    ) -> tuple[Intent, int] | None:
        """The first intent (in priority order) whose words fire, and where its trigger ends."""
        concepts = {f"concept:{m.value}" for m in mentions if m.kind == "concept"}
        # "the trash can", "in the bin" name a place; "bin it" is a request
        nouns = self.determiners | self.destination_words
        inside = {
            i
            for m in mentions
            if m.kind in ("object", "place", "category") and m.start > 0 and tokens[m.start - 1] in nouns
            for i in range(m.start, m.end)
        }
        for intent in self.intents:
            needs = [r for r in intent.requires if r.startswith("concept:")]
            if needs and all(r in concepts for r in needs):
                return intent, 0
            for trig in intent.triggers:
                for i in range(len(tokens) - len(trig) + 1):
                    # "the trash can" names a place; only a verb "trash" is a request
                    if tuple(tokens[i : i + len(trig)]) == trig and not (len(trig) == 1 and i in inside):
                        return intent, i + len(trig)
        return None

    def _from_need_or_resemblance(
        self, tokens: list[str], text: str, notes: list[str], deferred: GroundingError | None
    ) -> Part:
        need = self._need(tokens)
        if need is not None:
            intent = self._by_name[need.intent]
            notes.append(f"intent '{intent.name}' from a stated need")
            mentions = self._mentions(tokens)
            excluded = [
                f"!{m.value}"
                for m in mentions
                if m.kind in ("object", "category", "property") and self._negated(tokens, m.start)
            ]
            slots = dict(intent.defaults)
            variables = {}
            # what the sentence names that fits the need is what is wanted ("I could eat an apple")
            named = [
                m for m in mentions if m.kind in ("object", "category") and not self._negated(tokens, m.start)
            ]
            fits = [
                m.value
                for m in named
                if m.kind == "object"
                and need.category is not None
                and need.category in getattr(self.catalogue.get(m.value), "categories", ())
            ]
            narrower = [  # "I could eat a fruit"; not "I spilled my drink" (a drink is no cleaning tool)
                m.value
                for m in named
                if m.kind == "category"
                and any(
                    {need.category, m.value} <= set(i.categories)
                    for i in self.catalogue.values()
                    if i.graspable
                )
            ]
            if need.category and len(fits) == 1:
                slots["object"] = fits[0]
            elif need.category:
                slots["object"] = "?object"
                variables["?object"] = "&".join([need.category, *narrower, *excluded])
            slots.setdefault("mug", "?mug")
            if slots["mug"] == "?mug":
                variables["?mug"] = "mug"
            facts = [tuple(slots[t[1:]] if t.startswith("$") else t for t in f) for f in intent.goal]
            variables = {v: c for v, c in variables.items() if any(v in f for f in facts)}
            return Part(intent, facts, variables, [], slots.get("destination"))
        if deferred is not None:
            raise deferred
        mentions = self._mentions(tokens)
        intent, how = self._intent(tokens, mentions, text)
        notes.append(how)
        self._check_unknown_phrases(tokens, mentions, text)
        part = self._fill(intent, tokens, mentions, 0, text, [], [])
        assert part is not None
        return part

    def _correct(self, tokens: list[str]) -> tuple[list[str], list[str]]:
        out, notes = [], []
        for tok in tokens:
            fixed = tok if tok in self.vocabulary or tok.isdigit() else self._stem(tok) or self._nearest(tok)
            if fixed != tok:
                notes.append(f"read '{tok}' as '{fixed}'")
            out.append(fixed)
        return out, notes

    def _stem(self, word: str) -> str | None:
        """ "fetching" -> "fetch", "apples" -> "apple": a known word behind a common ending.

        Tried before typo correction, which would otherwise reach for the nearest short word."""
        for suffix in ("ing", "ed", "es", "s"):
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                base = word[: -len(suffix)]
                for cand in (base, base + "e", base[:-1] if len(base) > 3 and base[-1] == base[-2] else ""):
                    if cand and cand in self.content_words:
                        return cand
        return None

    def _nearest(self, word: str) -> str:
        budget = _typo_budget(word)
        best, best_d = word, budget + 1
        for cand in sorted(self.content_words):
            if cand[0] != word[0] and not (len(word) > 1 and cand[:2] == word[1::-1]):
                continue  # a typo rarely hits the first letter; this keeps "cake" from meaning "bake"
            if _typo_budget(cand) == 0:
                continue  # "joke" is not a typo of "joe": one slip changes a short word too much
            d = edit_distance(word, cand, budget)
            if d < best_d:
                best, best_d = cand, d
        return best

    def _mentions(self, tokens: Sequence[str]) -> list[Mention]:
        found, i = [], 0
        while i < len(tokens):
            for n in range(min(self.max_phrase, len(tokens) - i), 0, -1):
                hit = self.phrases.get(tuple(tokens[i : i + n])) or self._partial(tokens, i, n)
                if hit is not None:
                    found.append(Mention(i, i + n, *hit))
                    i += n
                    break
            else:
                i += 1
        return found

    def _partial(self, tokens: Sequence[str], i: int, n: int) -> tuple[str, str] | None:
        """ "jalapeno" as the jalapeno chips, where the sentence talks about chips or says "one(s)"."""
        hit = self.partial_names.get(tuple(tokens[i : i + n]))
        if hit is None:
            return None
        oid, category = hit
        if category in getattr(self, "_scope", ()) or tokens[i + n : i + n + 1] in (["one"], ["ones"]):
            return "object", oid
        return None

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

    def _things(self, tokens: Sequence[str], mentions: Sequence[Mention], pos: int) -> list[Thing]:
        """Things named at or after `pos` (all of the clause's when none is), with properties and
        exclusions folded into category expressions."""
        out: list[Thing] = []
        excluding = False  # the last thing named was an excluded object
        for m in mentions:
            if m.start < pos:
                continue
            negated = self._negated(tokens, m.start)
            # "chips except the jalapeno and the rice ones": the exclusion goes on through a list
            negated = negated or (
                excluding and m.kind == "object" and self._after_and(tokens, m.start, "or", "nor")
            )
            excluding = negated and m.kind == "object"
            last = out[-1] if out else None
            open_thing = last if last is not None and not last.value else None
            if m.kind in ("object", "category"):
                if negated:
                    if last is not None and open_thing is None:
                        continue  # "the pepsi, not the coke": a named thing excludes the rest already
                    if open_thing is None:  # "..., no coke": narrows the previous request
                        out.append(Thing("", [], False, m.start, m.end, has_base=False))
                        open_thing = out[-1]
                    open_thing.terms.append(f"!{m.value}")  # "a soda but not the coke"
                    open_thing.end = m.end
                    continue
                if (
                    m.kind == "category"
                    and open_thing is not None
                    and not open_thing.has_base
                    and m.start - open_thing.end <= 1
                ):
                    open_thing.terms.append(m.value)  # "a caffeine free drink", "something fizzy"
                    open_thing.has_base, open_thing.end = True, m.end
                elif m.kind == "object":
                    out.append(Thing(m.value, [], self._definite(tokens, m.start), m.start, m.end))
                else:
                    out.append(Thing("", [m.value], self._definite(tokens, m.start), m.start, m.end))
            elif m.kind == "generic":
                out.append(Thing("", [], self._definite(tokens, m.start), m.start, m.end, has_base=False))
            elif m.kind == "property":
                if open_thing is None:  # "bring me caffeinated", "a decaf soda"
                    open_thing = Thing(
                        "", [], self._definite(tokens, m.start), m.start, m.end, has_base=False
                    )
                    out.append(open_thing)
                open_thing.terms.append(f"!{m.value}" if negated else m.value)
                open_thing.end = m.end
        out = [t for t in out if t.value or t.terms]
        if not out and pos > 0:
            return self._things(tokens, mentions, 0)
        return out

    @staticmethod
    def _only_exclusions(things: Sequence[Thing]) -> bool:
        return bool(things) and all(not t.value and all(x.startswith("!") for x in t.terms) for t in things)

    def _negated(self, tokens: Sequence[str], start: int) -> bool:
        """Does an exclusion marker ("not", "but", "other than", "apart from") come right before
        the words at `start` (articles, "for" and "of" aside)?"""
        j = start - 1
        while j >= 0 and (tokens[j] in self.determiners or tokens[j] in ("for", "of")):
            j -= 1
        return any(
            len(p) <= j + 1 and tuple(tokens[j + 1 - len(p) : j + 1]) == p for p in self.negation_phrases
        )

    def _after_and(self, tokens: Sequence[str], start: int, *others: str) -> bool:
        j = start - 1
        while j >= 0 and tokens[j] in self.determiners:
            j -= 1
        return j >= 0 and tokens[j] in ("and", *others)

    @staticmethod
    def _definite(tokens: Sequence[str], start: int) -> bool:
        return start > 0 and tokens[start - 1] in ("the", "that", "this", "my", "your")

    def _resolve(self, thing: Thing, text: str) -> tuple[str, str | None]:
        """(slot value, category expression or None): "the <category>" must name exactly one thing."""
        if thing.value:
            return thing.value, None
        expr = thing.expression
        if thing.definite:
            facts = frozenset(("is-a", o, c) for o, i in self.catalogue.items() for c in i.categories)
            options = sorted(
                o for o, i in self.catalogue.items() if i.graspable and category_holds(expr, o, facts)
            )
            picked = [o for o in options if o in getattr(self, "_choices", ())]
            if len(options) == 1 or len(picked) == 1:
                return (picked or options)[0], None
            if len(options) > 1:
                raise AmbiguityError(
                    f"{text!r} is ambiguous: which {category_text(expr)} do you mean: {', '.join(options)}?",
                    options,
                )
        return "?object", expr

    def _fill(
        self,
        intent: Intent,
        tokens: Sequence[str],
        mentions: Sequence[Mention],
        pos: int,
        text: str,
        parts: list[Part],
        context: list[str],
    ) -> Part | None:
        """The goal of one request; None when the clause only changes the previous request
        ("make me a coffee and put it on the table")."""
        slots: dict[str, str] = dict(intent.defaults)
        places = [m for m in mentions if m.kind == "place"]
        dest = [m for m in places if self._after_destination_word(tokens, m)]
        if intent.name in ("open", "close"):
            dest = places  # "open the cupboard": the place is the object of the verb
        if dest:
            slots["destination"] = dest[-1].value
        things = self._things(tokens, mentions, pos)
        extra: list[Thing] = []
        if intent.name == "make_coffee":
            # "a coffee and a snack": what follows "and" is a second request, to bring it
            extra = [
                t
                for t in things
                if not (t.value and self._is_mug(t.value)) and self._after_and(tokens, t.start)
            ]
            things = [t for t in things if t.value and self._is_mug(t.value)]
        mug = next((t.value for t in things if t.value and self._is_mug(t.value)), None)
        slots["mug"] = mug or "?mug"
        variables: dict[str, str] = {"?mug": "mug"} if not mug else {}
        uses_object = any("$object" in f for f in intent.goal)
        pronoun = any(t in PRONOUNS for t in tokens[pos:]) or not things
        if uses_object and not things and pronoun:
            if parts and "destination" in slots and intent.name == "put":
                self._retarget(parts[-1], slots["destination"])
                return None
            referent = parts[-1].objects[-1] if parts and parts[-1].objects else None
            referent = referent or (context[-1] if context else None)
            if referent is not None:
                things = [Thing(referent, [], True, pos)] if not referent.startswith("?") else []
                if referent.startswith("?"):
                    slots["object"] = referent
                    variables[referent] = parts[-1].variables.get(referent, "")
        if parts and "destination" not in slots and "slot:destination" in intent.requires:
            if parts[-1].destination not in (None, "user"):
                slots["destination"] = parts[-1].destination  # "open the drawer, then put the sponge in it"
        for req in intent.requires:
            kind, _, name = req.partition(":")
            if kind == "slot" and name == "object" and (things or "object" in slots):
                continue
            if kind == "slot" and name not in slots:
                raise GroundingError(self._missing_slot(intent, name, text, tokens, mentions))
        facts: list[Fact] = []
        objects: list[str] = []
        templates = [f for f in intent.goal]
        if uses_object and things and intent.name != "make_coffee":
            for n, thing in enumerate(things):
                value, expr = self._resolve(thing, text)
                if expr is not None:
                    value = "?object" if n == 0 else f"?object{n + 1}"
                    variables[value] = expr
                objects.append(value)
                sub = slots | {"object": value}
                facts += [tuple(sub[t[1:]] if t.startswith("$") else t for t in f) for f in templates]
        else:
            if "object" in slots:
                objects.append(slots["object"])
            facts = [tuple(slots[t[1:]] if t.startswith("$") else t for t in f) for f in templates]
        if intent.name == "make_coffee":
            objects.append(slots["mug"])
            for n, thing in enumerate(extra):
                value, expr = self._resolve(thing, text)
                if expr is not None:
                    value = "?object" if n == 0 else f"?object{n + 1}"
                    variables[value] = expr
                facts.append(("at", value, "user"))
        variables = {v: c for v, c in variables.items() if any(v in f for f in facts)}
        return Part(intent, facts, variables, objects, slots.get("destination"))

    @staticmethod
    def _retarget(part: Part, destination: str) -> None:
        """Send what `part` delivers to `destination` instead ("... and put it on the table")."""
        for i in range(len(part.facts) - 1, -1, -1):
            f = part.facts[i]
            if f[0] == "at" and f[1] in part.objects:
                part.facts[i] = ("at", f[1], destination)
                part.destination = destination
                return
            if f[0] == "handed" and f[1] in part.objects:
                part.facts[i] = ("at", f[1], destination)
                part.destination = destination
                return

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
