"""Off-topic filtering (cjm/enrichment/relevance.py) and its evaluation on Sanders.

Hand-written texts show each signal; the config tests show that what a user writes in
config/cjm.yml reaches the score through the real loader; the Sanders test runs the
real evaluation on a fixed sample of the labelled tweets (read from the shared data
directory, never copied here) and is skipped only when that directory is absent.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import pytest

from cjm.bench.evaluation import default_data_dir
from cjm.bench.evaluation.relevance import (
    SANDERS,
    evaluate_relevance,
    relevance_brand,
)
from cjm.core.config import Brand, parse_config
from cjm.core.warehouse import ensure_schema
from cjm.enrichment.relevance import (
    DEFAULT_MIN_SCORE,
    RelevanceBrand,
    brand_from_row,
    guess_language,
    guess_languages,
    relevance,
)
from cjm.loader import sync_config

ROOT = Path(__file__).resolve().parents[1]
APPLE = RelevanceBrand(
    name="Apple",
    keywords=("apple", "@apple", "#apple", "iphone", "ipad", "mac", "itunes"),
    languages=("en",),
)
ENGLISH = "My new iPhone from Apple keeps dropping calls since the last update, so annoying"
SPANISH = "Mi nuevo iPhone de Apple se cae cada vez que intento llamar desde la actualización"


def score(text: str, brand: RelevanceBrand) -> float:
    return relevance(text, brand, guess_language(text))[0]


# ---------------------------------------------------------------- language
def test_a_spanish_tweet_about_apple_is_not_relevant_for_an_english_brand() -> None:
    en, es = score(ENGLISH, APPLE), score(SPANISH, APPLE)
    assert en >= DEFAULT_MIN_SCORE > es
    _, evidence = relevance(SPANISH, APPLE, guess_language(SPANISH))
    assert any(line.startswith("language es not in ['en']") for line in evidence)


def test_the_same_spanish_tweet_is_relevant_when_spanish_is_configured() -> None:
    bilingual = replace(APPLE, languages=("en", "es"))
    assert score(SPANISH, bilingual) == score(ENGLISH, APPLE)


def test_short_texts_and_names_are_not_judged_by_language() -> None:
    # n-gram models guess wildly on a few letters; brand names are no language's words
    assert score("Siri is down! #apple", APPLE) >= DEFAULT_MIN_SCORE
    russian = RelevanceBrand(name="Сбербанк", keywords=("сбербанк",), languages=("ru", "en"))
    text = "Сбербанк Курган http://t.co/x"  # py3langid: Kyrgyz, on "сбербанк курган"
    assert guess_language(text).language not in russian.languages
    assert score(text, russian) == 0.6


def test_a_source_language_tag_is_taken_at_its_word() -> None:
    assert relevance(ENGLISH, APPLE, "de")[0] < DEFAULT_MIN_SCORE
    assert relevance(ENGLISH, APPLE, "en")[0] >= DEFAULT_MIN_SCORE


def test_batch_language_guess_matches_py3langid() -> None:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    reference = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    texts = [ENGLISH, SPANISH, "Das ist ein ganz normaler deutscher Satz über Computer", "ok"]
    texts.append("Сбербанк снова заблокировал карту, поддержка молчит уже второй день")
    guesses = guess_languages(texts)
    for text, guess in zip(texts[:3] + texts[4:], guesses[:3] + guesses[4:], strict=True):
        language, probability = reference.classify(text)
        assert guess.language == language
        assert guess.shares[language] == pytest.approx(probability, abs=1e-3)
    assert guesses[3].language is None  # two letters: nothing to judge by


# ---------------------------------------------------------------- words
def test_apple_pie_recipe_is_excluded_or_off_topic() -> None:
    text = "Grandma's apple pie recipe: the best dessert for autumn evenings"
    assert score(text, APPLE) >= DEFAULT_MIN_SCORE  # the plain matcher cannot tell
    excluded = replace(APPLE, exclude=("apple pie",))
    assert relevance(text, excluded, None) == (0.0, ["no keyword outside the exclude phrases"])
    off = replace(APPLE, off_topic=("pie", "recipe", "juice"))
    value, evidence = relevance(text, off, guess_language(text))
    assert value < DEFAULT_MIN_SCORE and "off-topic: pie, recipe" in evidence
    # an exclude phrase only masks its own words: the iPhone is still about the brand
    both = "Baked an apple pie while my iPhone updated to iOS 5"
    assert score(both, excluded) >= DEFAULT_MIN_SCORE


def test_a_brand_given_by_the_source_is_not_zero_without_a_keyword() -> None:
    # the brand's own channel or a file with a brand column: the source vouches for it
    text = "Thanks for waiting, the new card design ships next week"
    value, evidence = relevance(text, replace(APPLE, exclude=("apple pie",)), None)
    assert value >= DEFAULT_MIN_SCORE
    assert evidence == ["no keyword: brand given by the source"]


def test_context_words_raise_relevance() -> None:
    text = "Apple announced it today"
    with_context = replace(APPLE, context=("app store", "ios"))
    plain = score(text, with_context)
    richer = "Apple announced the new iOS in the App Store today"
    value, evidence = relevance(richer, with_context, guess_language(richer))
    assert value > plain and "context: ios, app store" in evidence  # in text order
    # a keyword is not its own context
    assert relevance("iPhone", RelevanceBrand("A", ("iphone",), context=("iphone",)))[1] == [
        "keywords: iphone"
    ]


def test_spam_shapes_lower_but_do_not_drop_alone() -> None:
    tags = "Apple #a #b #c #d #e #f http://x.co/1 http://x.co/2"
    value, evidence = relevance(tags, APPLE, None)
    assert DEFAULT_MIN_SCORE <= value < score("Apple news", APPLE)
    assert "spam: 6 hashtags" in evidence and "spam: 2 links" in evidence


# ---------------------------------------------------------------- config
def _config(brand: dict[str, Any]) -> Any:
    return parse_config(
        {
            "brands": [brand],
            "sources": [
                {
                    "name": "f",
                    "type": "file",
                    "entity": "mention",
                    "path": "x/*.csv",
                    "columns": {"native_id": "id", "text": "body", "published_at": "date"},
                }
            ],
        }
    )


def _loaded_brand(brand: dict[str, Any]) -> RelevanceBrand:
    """The brand as the dbt model sees it: config → loader → config.* → stg columns."""
    con = duckdb.connect()
    ensure_schema(con)
    sync_config(con, _config(brand))
    row = con.execute(
        """select b.brand, b.keywords, b.exclude as exclude_keywords, b.languages,
                  r.context, r.off_topic, r.min_score as min_relevance
           from config.brands b left join config.brand_relevance r using (brand)"""
    ).fetchone()
    names = ["brand", "keywords", "exclude_keywords", "languages", "context", "off_topic"]
    return brand_from_row(dict(zip([*names, "min_relevance"], row, strict=True)))


def test_config_defaults_and_an_exclude_edit_change_the_result() -> None:
    base = {"name": "Apple", "keywords": ["apple", "iphone"], "languages": ["en"]}
    text = "Apple juice and apple pie for breakfast, then cider"
    before = _loaded_brand(base)
    assert before.min_score == DEFAULT_MIN_SCORE == Brand(**base).relevance.min_score
    staging = ROOT / "dbt_project" / "models" / "staging" / "stg_config__brands.sql"
    assert f"coalesce(relevance.min_score, {DEFAULT_MIN_SCORE})" in staging.read_text()
    assert relevance(text, before, guess_language(text))[0] >= DEFAULT_MIN_SCORE
    after = _loaded_brand({**base, "exclude": ["apple juice", "apple pie"]})
    assert relevance(text, after, guess_language(text))[0] == 0.0
    tuned = _loaded_brand({**base, "off_topic": ["juice", "cider"], "relevance": {"min_score": 0}})
    assert tuned.off_topic == ("juice", "cider") and tuned.min_score == 0.0


def test_config_rejects_a_min_score_outside_0_1() -> None:
    with pytest.raises(Exception, match="min_score"):
        _config({"name": "A", "keywords": ["a"], "relevance": {"min_score": 2}})


def test_eval_brand_config_is_what_the_scorer_gets() -> None:
    brand = Brand(name="X", keywords=["x"], context=["y"], off_topic=["z"])
    assert relevance_brand(brand) == RelevanceBrand(
        "X", ("x",), (), ("ru", "en"), ("y",), ("z",), DEFAULT_MIN_SCORE
    )


# ---------------------------------------------------------------- Sanders
def test_sanders_sample_precision_rises_without_losing_recall() -> None:
    data_dir = default_data_dir()
    if not (data_dir / SANDERS).is_file():
        pytest.skip(f"labelled data not found at {data_dir / SANDERS} (set CJM_EVAL_DATA)")
    result = evaluate_relevance(data_dir, sample=800)
    base, rel = result["baseline"]["overall"], result["relevance"]["overall"]
    assert result["rows"] == 800
    assert rel["precision"] > base["precision"] + 0.1
    assert rel["recall"] >= base["recall"] - 0.03
    assert rel["f1"] > base["f1"]
    assert set(result["relevance"]) == {"overall", "apple", "google", "microsoft", "twitter"}
