"""What a mention says: sentiment, emotion, journey stage, topics with tonality, NPS
signal, author role and language, from the compiled seed rules.

A fast rule-based path on purpose: thousands of mentions per second on one core, no
model download, and every answer traceable to the seed rows that produced it
(`sentiment_terms`), so an analyst can fix a wrong answer by editing a CSV.

Sentiment of a mention (the constants below are the defaults the seeds adjust):

1. every lexicon match contributes its weight (-3..3);
2. a negator up to three words before it, in the same clause, flips and damps it
   (× -0.75: "not bad" is mildly good, not great); a phrase that itself starts with
   a negator ("не работает", "not recommend") already means what it says;
3. intensifiers right before multiply it ("очень", "very": × factor), capitals in a
   lower-case text × 1.5, stretched spelling ("sooo") × 1.2;
4. contrast ("но", "but"): what follows weighs `factor`, what precedes `2 - factor`
   (the clause after "but" is the author's point); concession ("хотя", "although"):
   its own clause weighs `factor`;
5. emoji and emoticons add their weight; "!" strengthens a non-zero sum;
6. irony (cheap sarcasm): when an irony marker (e.g. 🙃, "ага", "yeah right") and a
   negative match co-occur, positive matches are multiplied by the marker's factor
   ("Спасибо, что заблокировали карту, прекрасный сервис 🙃");
7. score = s / sqrt(s² + 15) in (-1, 1); positive above 0.05, negative below -0.05.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cjm.enrichment.language import LanguageDetector
from cjm.enrichment.rules import Match, RuleSet
from cjm.enrichment.sentiment_model import featurise, load_model, with_rules
from cjm.enrichment.stages import CHURN as CHURN_SET
from cjm.enrichment.stages import catalogue as cue_catalogue
from cjm.enrichment.stages import resolve as resolve_stage_cues
from cjm.enrichment.text import text_story_keys, tokenize, with_url_key, words

NEGATION_SCALAR = -0.75
NEGATION_WINDOW = 3
INTENSIFIER_WINDOW = 2
CAPS_FACTOR = 1.5
STRETCH_FACTOR = 1.2
EXCLAMATION_STEP = 0.3
SCORE_ALPHA = 15.0
NEUTRAL_BAND = 0.05
NPS_SEVERITY = {"churn": 1, "detractor": 2, "promoter": 3, "passive": 4}
ROLE_ORDER = ("bot", "media", "expert")
# Emotions that cannot be a mention's emotion under a sentiment label (the emotion seed's
# labels; interest and doubt go with any tone).
EMOTIONS_AGAINST = {
    "negative": frozenset({"joy", "gratitude"}),
    "positive": frozenset({"anger", "disappointment", "anxiety"}),
}
BALANCED_PARENS_RE = re.compile(r"\([^()]*\)")
URL_OR_HANDLE_RE = re.compile(r"(?:https?://|www\.)\S+|@[\w.]+")


@dataclass(frozen=True, slots=True)
class BrandInfo:
    """What the scorer needs of a configured brand: its name, keywords and languages."""

    name: str
    keywords: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()


@dataclass(slots=True)
class Enrichment:
    """Everything derived from one mention (one row of intermediate.int_mentions_enriched)."""

    language: str | None
    sentiment: str
    sentiment_score: float
    raw_score: float
    sentiment_terms: list[str]
    is_ironic: bool
    journey_stage: str | None
    stage: str | None
    topics: list[str]
    topic_sentiments: list[dict[str, str]]
    barriers: list[str]
    emotion: str | None
    nps_signal: str | None
    author_role: str
    story_keys: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(frozen=True, slots=True)
class _TextPart:
    """What `Enricher._text_part` computes once per distinct (text, brand, language tag):
    the enrichment without author role and link keys, the roles the text's own words
    suggest, and the story keys of the text."""

    enrichment: Enrichment
    text_roles: frozenset[str]
    text_keys: tuple[str, ...]

    def story_keys(self, url: str | None) -> list[str]:
        return with_url_key(self.text_keys, url)


# Distinct texts (and authors) remembered per Enricher; cleared when full.
TEXT_CACHE_SIZE = 20_000

# VADER's own recommended neutral band for its compound score.
VADER_BAND = 0.05


def _label(score: float) -> str:
    if score > NEUTRAL_BAND:
        return "positive"
    if score < -NEUTRAL_BAND:
        return "negative"
    return "neutral"


def _normalise(raw: float) -> float:
    return round(raw / math.sqrt(raw * raw + SCORE_ALPHA), 4)


def _resolve(matches: Iterable[Match]) -> list[Match]:
    """Per rule (per topic for topics), drop a match that lies inside a stronger one."""
    groups: dict[tuple[str, str | None], list[Match]] = {}
    for match in matches:
        key = (match.term.rule, match.term.label if match.term.rule == "topic" else None)
        groups.setdefault(key, []).append(match)
    kept: list[Match] = []
    for group in groups.values():
        group.sort(key=lambda m: (m.rank(), m.start, m.term.text))
        chosen: list[Match] = []
        for match in group:
            if any(c.start <= match.start and match.end <= c.end for c in chosen):
                continue
            chosen.append(match)
        kept.extend(chosen)
    kept.sort(key=lambda m: (m.start, m.end, m.term.rule, m.term.text))
    return kept


class Enricher:
    """Scores mentions with one `RuleSet`; cheap to call, build once per batch."""

    def __init__(
        self,
        rules: RuleSet,
        brands: Sequence[BrandInfo] = (),
        stages: Sequence[str] = ("awareness", "consideration", "purchase", "usage", "loyalty"),
        stage_cues: Mapping[str, Sequence[str]] | None = None,
        topic_packs: Sequence[str] | None = None,
        topic_packs_by_brand: Mapping[str, Sequence[str]] | None = None,
        use_model: bool = True,
    ) -> None:
        """`stage_cues`: configured stage → cue sets (config `stages.stage_cues`); the
        stages it leaves out get cues by name or position (cjm/enrichment/stages.py), so a
        custom journey is never read as the default one. `topic_packs`: the topic packs
        whose keywords may tag a mention (None = every pack of the seed);
        `topic_packs_by_brand` overrides them per brand."""
        self.rules = rules
        self.brands = {b.name: b for b in brands}
        self.stages = list(stages)
        self.stage_order = {s: i for i, s in enumerate(self.stages)}
        self.cue_map = resolve_stage_cues(
            self.stages, stage_cues, cue_catalogue(rules.tables["stage_cues"])
        )
        # cue set (the seed's `stage` value) → the configured stage its cues vote for
        self.cue_stage = self.cue_map.stage_of_set()
        self.default_stage = self.cue_map.first_stage
        # churn is a journey stage of its own in the cues; when no configured stage took
        # the churn cues it lands in the last configured stage (where retention is
        # measured) and the NPS signal keeps the distinction.
        self.churn_stage = self.cue_map.churn_stage
        every_pack = sorted({t.pack for t in rules.terms if t.rule == "topic"})
        self.topic_packs = frozenset(every_pack if topic_packs is None else topic_packs)
        self.brand_topic_packs = {
            name: frozenset(packs) for name, packs in (topic_packs_by_brand or {}).items()
        }
        languages: list[str] = []
        for brand in brands:
            languages += [lang for lang in brand.languages if lang not in languages]
        self.languages = languages or ["ru", "en"]
        self.detector = LanguageDetector(self.languages)
        self._vader: Any = None
        # the shipped sentiment model of each language (none: the rules decide alone)
        self.models = (
            {lang: m for lang in self.languages if (m := load_model(lang)) is not None}
            if use_model
            else {}
        )
        # first characters of every emoji/emoticon: most texts hold none of them
        self._emoji_chars = frozenset(e.symbol[0] for e in rules.emoji)
        self._brand_words = {
            b.name: [tuple(words(k)) for k in (*b.keywords, b.name) if words(k)] for b in brands
        }
        # Reposts, bots and templates repeat texts, and authors post many times: what
        # depends only on the text (or only on the author) is computed once per distinct
        # value. Bounded: cleared when full, so memory stays set by the size.
        self._text_cache: dict[tuple[str, str | None, str | None], _TextPart] = {}
        self._author_cache: dict[str, frozenset[str]] = {}

    # ------------------------------------------------------------------ sentiment
    def rule_sentiment(self, text: str, brand: str | None = None) -> tuple[float, list[str], bool]:
        """The seed lexicon's raw score, its terms and irony for a text — what the
        sentiment model takes as features (and what training feeds it)."""
        toks = tokenize(text)
        raw, terms, ironic, _, _ = self._sentiment(text, toks, self._matches(toks, brand))
        return raw, terms, ironic

    def seed_label(self, text: str, brand: str | None = None) -> str:
        """The label the seeds vote for, exactly as `enrich` mixes it into the model's
        (no VADER back-off there; the cross-validation in `cjm bench eval` measures this
        recipe, not a friendlier one)."""
        raw, _, _ = self.rule_sentiment(text, brand)
        return _label(_normalise(raw))

    def _matches(self, toks: Any, brand: str | None) -> list[Match]:
        """The seed terms found in the words, topic keywords only from the brand's packs."""
        return _resolve(
            [m for m in self.rules.matcher.find(toks.words) if self._packs_allow(m, brand)]
        )

    def _sentiment(
        self, text: str, toks: Any, matches: list[Match]
    ) -> tuple[float, list[str], bool, dict[int, float], list[tuple[str, int]]]:
        n = len(toks.words)
        negators = [False] * n
        for i, word in enumerate(toks.words):
            if word.endswith("n't"):
                negators[i] = True
        intensity: dict[int, float] = {}
        contrast: tuple[int, float] | None = None
        concessions: list[tuple[int, float]] = []
        irony_factor: float | None = None
        sentiment: list[Match] = []
        for m in matches:
            rule = m.term.rule
            if rule == "negator":
                negators[m.start] = True
        # a negator that opens a phrase of its own ("не отвечают") is used up by it and
        # does not also negate what follows ("не отвечают третий день")
        for m in matches:
            if m.term.rule == "sentiment" and m.term.n_words > 1:
                for j in range(m.start, m.end + 1):
                    negators[j] = False
        for m in matches:
            rule = m.term.rule
            if rule == "negator":
                continue
            elif rule == "sentiment":
                sentiment.append(m)
            elif rule == "modifier":
                kind, factor = m.term.label, m.term.factor
                if kind == "intensifier":
                    intensity[m.end] = intensity.get(m.end, 1.0) * factor
                elif kind == "contrast":
                    contrast = (m.start, factor)
                elif kind == "concession":
                    concessions.append((m.start, factor))
                elif kind == "irony":
                    irony_factor = factor

        values: list[tuple[Match, float, bool]] = []
        for m in sentiment:
            value = m.term.weight
            starts_negated = negators[m.start]
            negated = False
            if not starts_negated:
                clause = toks.clause[m.start]
                for j in range(max(0, m.start - NEGATION_WINDOW), m.start):
                    if negators[j] and toks.clause[j] == clause:
                        negated = True
                        break
            if negated:
                value *= NEGATION_SCALAR
            for j in range(max(0, m.start - INTENSIFIER_WINDOW), m.start):
                if j in intensity and toks.clause[j] == toks.clause[m.start]:
                    value *= intensity[j]
            if any(toks.caps[m.start : m.end + 1]):
                value *= CAPS_FACTOR
            if any(toks.stretched[m.start : m.end + 1]):
                value *= STRETCH_FACTOR
            if contrast is not None:
                position, factor = contrast
                if m.start > position:
                    value *= factor
                elif m.start < position:
                    value *= 2.0 - factor
            for position, factor in concessions:
                if m.start > position and toks.clause[m.start] == toks.clause[position]:
                    value *= factor
            values.append((m, value, negated))

        emoji_total, emoji_plain, emoji_emotions, emoji_irony = self._emoji(text, n)
        if emoji_irony is not None and irony_factor is None:
            irony_factor = emoji_irony
        # the complaint must come from something other than the irony marker itself
        has_negative = any(v < 0 for _, v, _ in values) or emoji_plain < 0
        ironic = irony_factor is not None and has_negative and any(v > 0 for _, v, _ in values)
        if ironic and irony_factor is not None:
            values = [(m, v * irony_factor if v > 0 else v, neg) for m, v, neg in values]

        raw = sum(v for _, v, _ in values) + emoji_total
        if raw and toks.exclamations:
            raw += math.copysign(EXCLAMATION_STEP * min(toks.exclamations, 4), raw)
        per_sentence: dict[int, float] = {}
        for m, v, _ in values:
            sentence = toks.sentence[m.start]
            per_sentence[sentence] = per_sentence.get(sentence, 0.0) + v
        terms = [m.term.text + (" (negated)" if neg else "") for m, _, neg in values]
        return raw, terms, ironic, per_sentence, emoji_emotions

    def _emoji(
        self, text: str, n_words: int
    ) -> tuple[float, float, list[tuple[str, int]], float | None]:
        """Emoji and emoticons: longest symbols first, each occurrence consumed once.

        Links and @handles are removed first (`https://` holds ":/"), and so are
        balanced "( … )" asides, so that only a bare ")" — the Russian smile — counts.
        """
        if not self.rules.emoji:
            return 0.0, 0.0, [], None
        present = self._emoji_chars.intersection(text)
        if not present:
            return 0.0, 0.0, [], None
        rest = URL_OR_HANDLE_RE.sub(" ", text).replace("\ufe0f", "")
        rest = BALANCED_PARENS_RE.sub(" ", rest)
        total = plain = 0.0
        emotions: list[tuple[str, int]] = []
        irony: float | None = None
        for emoji in self.rules.emoji:
            if emoji.symbol[0] not in present:
                continue
            count = rest.count(emoji.symbol)
            if not count:
                continue
            rest = rest.replace(emoji.symbol, " ")
            # repeats strengthen, with diminishing returns: 1, 1.25, 1.5 (cap)
            value = emoji.weight * (1.0 + 0.25 * (min(count, 3) - 1))
            total += value
            if not emoji.is_irony:
                plain += value
            if emoji.emotion:
                emotions.append((emoji.emotion, n_words))
            if emoji.is_irony:
                irony = -0.5
        return total, plain, emotions, irony

    # ------------------------------------------------------------------ the rest
    def _stage(self, matches: list[Match]) -> tuple[str | None, str | None]:
        """The highest-priority cue decides (ties: the earlier configured stage, churn
        last, then the earlier cue). A cue votes for the configured stage its cue set is
        mapped to (`self.cue_map`), so custom stage names get the standard cues too;
        `journey_stage` is that configured stage, or `churn` for churn cues."""
        best: tuple[int, int, int] | None = None
        journey: str | None = None
        for m in matches:
            if m.term.rule != "stage" or not m.term.label:
                continue
            label = m.term.label
            if label == CHURN_SET:
                target, order = CHURN_SET, len(self.stages)
            elif label in self.cue_stage:
                target = self.cue_stage[label]
                order = self.stage_order[target]
            else:
                continue
            key = (-m.term.priority, order, m.start)
            if best is None or key < best:
                best, journey = key, target
        if journey is None:
            return None, self.default_stage
        stage = self.churn_stage if journey == CHURN_SET else journey
        return journey, stage

    def _packs_allow(self, match: Match, brand: str | None) -> bool:
        """Topic keywords count only when their pack is picked for the brand (config
        `enrichment.topic_packs`): a bank's "задержка перевода" is not an airline delay."""
        if match.term.rule != "topic":
            return True
        packs = self.brand_topic_packs.get(brand or "", self.topic_packs)
        return match.term.pack in packs

    def _author_role(
        self,
        source_type: str | None,
        author: str | None,
        brand: str | None,
        text_roles: frozenset[str],
        author_roles: frozenset[str],
    ) -> str:
        if source_type == "rss":
            return "media"
        author_words = words(author or "")
        if author_words:
            padded = " " + " ".join(author_words) + " "
            candidates = (
                [self._brand_words.get(brand, [])]
                if brand in self._brand_words
                else list(self._brand_words.values())
            )
            for keyword_lists in candidates:
                for keyword in keyword_lists:
                    if " " + " ".join(keyword) + " " in padded:
                        return "brand"
        # author-field terms look at the author's name, text-field terms at the text
        roles = author_roles | text_roles
        for role in ROLE_ORDER:
            if role in roles:
                return role
        return "client"

    def _vader_compound(self, text: str) -> float:
        if self._vader is None:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            self._vader = SentimentIntensityAnalyzer()
        return float(self._vader.polarity_scores(text)["compound"])

    def enrich(
        self,
        text: str | None,
        title: str | None = None,
        author: str | None = None,
        source_type: str | None = None,
        brand: str | None = None,
        url: str | None = None,
        language: str | None = None,
    ) -> Enrichment:
        """Score one mention. `language` is the source's own tag, used only when the
        text has no letters to judge by."""
        body = "\n".join(part for part in (title, text) if part)
        key = (body, brand, language)
        part = self._text_cache.get(key)
        if part is None:
            part = self._text_part(body, brand, language)
            if len(self._text_cache) >= TEXT_CACHE_SIZE:
                self._text_cache.clear()
            self._text_cache[key] = part
        if author:
            author_roles = self._author_cache.get(author)
            if author_roles is None:
                author_roles = frozenset(
                    m.term.label
                    for m in _resolve(self.rules.matcher.find(words(author)))
                    if m.term.rule == "author_role"
                )
                if len(self._author_cache) >= TEXT_CACHE_SIZE:
                    self._author_cache.clear()
                self._author_cache[author] = author_roles
        else:
            author_roles = frozenset()
        role = self._author_role(source_type, author, brand, part.text_roles, author_roles)
        e = part.enrichment
        return Enrichment(
            language=e.language,
            sentiment=e.sentiment,
            sentiment_score=e.sentiment_score,
            raw_score=e.raw_score,
            sentiment_terms=list(e.sentiment_terms),
            is_ironic=e.is_ironic,
            journey_stage=e.journey_stage,
            stage=e.stage,
            topics=list(e.topics),
            topic_sentiments=[dict(t) for t in e.topic_sentiments],
            barriers=list(e.barriers),
            emotion=e.emotion,
            nps_signal=e.nps_signal,
            author_role=role,
            story_keys=part.story_keys(url),
        )

    def _text_part(self, body: str, brand: str | None, language: str | None) -> _TextPart:
        """Everything of `enrich` that depends on the text, the brand and the source's
        language tag alone (not on the author, the source type or the link)."""
        toks = tokenize(body)
        matches = self._matches(toks, brand)
        raw, terms, ironic, per_sentence, emoji_emotions = self._sentiment(body, toks, matches)
        brand_languages = self.brands[brand].languages if brand in self.brands else ()
        detected = self.detector.detect(body, brand_languages or None) or language
        score = _normalise(raw)
        label = _label(score)
        model = self.models.get(detected) if detected else None
        if model is not None:
            # The trained model decides; the seeds' verdict is one of its features and
            # their matched terms stay the evidence beside the model's top features.
            prediction = with_rules(model.predict(featurise(body, detected, raw, ironic)), label)
            label, score = prediction.label, prediction.score
            terms = terms + prediction.evidence
        elif raw == 0 and not terms and detected == "en":
            # No model for the text's language: back off to VADER where no seed
            # term matched (the first version's behaviour).
            compound = self._vader_compound(body)
            if abs(compound) >= VADER_BAND:
                score = round(compound, 4)
                label = _label(score)
                terms = [f"(vader {score:+.2f})"]

        negators = {m.start for m in matches if m.term.rule == "negator"}
        negators |= {i for i, w in enumerate(toks.words) if w.endswith("n't")}

        def negated(m: Match) -> bool:
            if m.start in negators:
                return False
            clause = toks.clause[m.start]
            return any(
                j in negators and toks.clause[j] == clause
                for j in range(max(0, m.start - NEGATION_WINDOW), m.start)
            )

        emotion_hits: dict[str, list[int]] = {}
        for m in matches:
            if m.term.rule == "emotion" and m.term.label and not negated(m):
                emotion_hits.setdefault(m.term.label, []).append(m.start)
        for emotion, position in emoji_emotions:
            emotion_hits.setdefault(emotion, []).append(position)
        # the emotion must not contradict the mention's sentiment: "спасибо, что
        # заблокировали карту" is not gratitude once the mention reads negative
        contradicting = EMOTIONS_AGAINST.get(label, frozenset())
        emotion = min(
            (e for e in emotion_hits if e not in contradicting),
            key=lambda e: (-len(emotion_hits[e]), min(emotion_hits[e]), e),
            default=None,
        )

        journey_stage, stage = self._stage(matches)

        topic_sentences: dict[str, set[int]] = {}
        for m in matches:
            if m.term.rule == "topic" and m.term.label:
                topic_sentences.setdefault(m.term.label, set()).add(toks.sentence[m.start])
        topics = sorted(topic_sentences)
        topic_sentiments = []
        for topic in topics:
            local = sum(per_sentence.get(s, 0.0) for s in topic_sentences[topic])
            tone = _label(_normalise(local)) if local else label
            topic_sentiments.append({"topic": topic, "sentiment": tone})
        barriers = [t["topic"] for t in topic_sentiments if t["sentiment"] == "negative"]

        nps = None
        for m in matches:
            if (
                m.term.rule == "nps"
                and m.term.label in NPS_SEVERITY
                and not negated(m)
                and (nps is None or NPS_SEVERITY[m.term.label] < NPS_SEVERITY[nps])
            ):
                nps = m.term.label
        if nps is None and journey_stage == "churn":
            nps = "churn"

        text_roles = frozenset(m.term.label for m in matches if m.term.rule == "author_text")
        enrichment = Enrichment(
            language=detected,
            sentiment=label,
            sentiment_score=score,
            raw_score=round(raw, 4),
            sentiment_terms=terms,
            is_ironic=ironic,
            journey_stage=journey_stage,
            stage=stage,
            topics=topics,
            topic_sentiments=topic_sentiments,
            barriers=barriers,
            emotion=emotion,
            nps_signal=nps,
            author_role="",
        )
        return _TextPart(enrichment, text_roles, text_story_keys(body))
