"""Behaviour of the mention enrichment (cjm/enrichment/), hand-written cases.

Each case states what a reader of the mention would say; the rules come from the real
seed CSVs, so a failing case means either a seed or the scorer changed its answer.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from cjm.enrichment import BrandInfo, Enricher, RuleSet
from cjm.enrichment.language import LanguageDetector
from cjm.enrichment.morph import english_forms, surface_forms
from cjm.enrichment.rules import SEEDS_DIR, RulesError
from cjm.enrichment.text import normalize_url, story_keys, tokenize

STAGES = ("awareness", "consideration", "purchase", "usage", "loyalty")


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return RuleSet.from_seed_dir()


@pytest.fixture(scope="module")
def enricher(rules: RuleSet) -> Enricher:
    """The seed rules alone: these tests pin the rules (negation, contrast, emoji …), which
    the sentiment model reads as features; the model has tests of its own
    (tests/test_sentiment_model.py)."""
    return Enricher(
        rules,
        [BrandInfo("Acme", ("acme", "акме", "@acmebank"), ("ru", "en"))],
        STAGES,
        use_model=False,
    )


def sentiment(enricher: Enricher, text: str) -> str:
    return enricher.enrich(text, brand="Acme").sentiment


# ---------------------------------------------------------------- morphology
def test_russian_lemmas_match_inflections_but_not_homonyms() -> None:
    assert {"задержали", "задержат", "задержал"} <= surface_forms("задержать")
    assert {"доволен", "довольна", "довольны"} <= surface_forms("довольный")
    # "дорога" is far more often the road than "expensive"
    assert "дорога" not in surface_forms("дорогой")
    # suppletive comparatives are weighed apart by the analyst
    assert "лучший" not in surface_forms("хороший")


def test_english_forms_are_regular_and_irregular_inflections() -> None:
    assert {"delays", "delayed", "delaying"} <= english_forms("delay")
    assert {"cancelled", "canceled"} <= english_forms("cancel")
    assert {"charged", "charges"} <= english_forms("charge")
    assert "lost" in english_forms("lose")
    assert "later" not in english_forms("late")


# ---------------------------------------------------------------- sentiment
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Приложение удобное", "positive"),
        ("Приложение неудобное", "negative"),
        ("Хорошо", "positive"),
        ("Не хорошо", "negative"),
        ("не понравилось", "negative"),
        ("Не советую этот банк", "negative"),
        ("Не плохо", "positive"),
        ("The app is good", "positive"),
        ("The app is not good", "negative"),
        ("I don't like the new design", "negative"),
        ("Not bad at all", "positive"),
        ("can't complain, smooth flight", "positive"),
    ],
)
def test_negation_flips(enricher: Enricher, text: str, expected: str) -> None:
    assert sentiment(enricher, text) == expected


def test_negation_does_not_cross_a_clause(enricher: Enricher) -> None:
    # "не" belongs to "не отвечают"; it must not also flip "хорошо" in the next clause
    result = enricher.enrich("Поддержка не отвечают. Хорошо, подожду", brand="Acme")
    assert "хорошо" in result.sentiment_terms
    assert "хорошо (negated)" not in result.sentiment_terms


def test_a_negative_phrase_is_not_negated_by_its_own_negator(enricher: Enricher) -> None:
    result = enricher.enrich("Акме не отвечают третий день", brand="Acme")
    assert result.sentiment == "negative"
    assert not any(t.endswith("(negated)") for t in result.sentiment_terms)


def test_intensifiers_strengthen_and_diminishers_soften(enricher: Enricher) -> None:
    plain = enricher.enrich("удобно", brand="Acme").sentiment_score
    strong = enricher.enrich("очень удобно", brand="Acme").sentiment_score
    weak = enricher.enrich("немного удобно", brand="Acme").sentiment_score
    assert weak < plain < strong
    assert (
        enricher.enrich("very slow", brand="Acme").sentiment_score
        < enricher.enrich("slow", brand="Acme").sentiment_score
    )


def test_exclamations_and_capitals_strengthen(enricher: Enricher) -> None:
    base = enricher.enrich("this is bad", brand="Acme").sentiment_score
    assert enricher.enrich("this is bad!!!", brand="Acme").sentiment_score < base
    assert enricher.enrich("this is BAD", brand="Acme").sentiment_score < base


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Кешбэк хороший, но поддержка ужасная", "negative"),
        ("Поддержка ужасная, но кешбэк отличный", "positive"),
        ("The food was great but the flight was awful", "negative"),
        ("The flight was late but the crew were amazing", "positive"),
        ("Although the app is slow, the support is excellent", "positive"),
        ("Хотя приложение удобное, поддержка ужасная", "negative"),
    ],
)
def test_contrast_the_clause_after_but_weighs_more(
    enricher: Enricher, text: str, expected: str
) -> None:
    assert sentiment(enricher, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Перевод пришёл 👍", "positive"),
        ("Опять списали деньги 😡", "negative"),
        ("thanks 🙏", "positive"),
        ("my flight 😭", "negative"),
        ("спасибо)))", "positive"),
        ("снова не работает((", "negative"),
        ("Отзыв (без эмоций) про приложение", "neutral"),
    ],
)
def test_emoji_and_emoticons(enricher: Enricher, text: str, expected: str) -> None:
    assert sentiment(enricher, text) == expected


def test_links_do_not_count_as_emoticons(enricher: Enricher) -> None:
    # "https://" holds ":/" (a skeptical emoticon)
    assert sentiment(enricher, "Акме: новости https://example.org/a") == "neutral"


@pytest.mark.parametrize(
    "text",
    [
        "Висю на линии уже 40 минут",
        "Верните деньги за отменённый рейс",
        "Поддержка не отвечает",
        "Курьер опоздал на два часа",
        "Деньги списали дважды",
        "been on hold for 2 hours",
        "still waiting for my refund",
        "my flight was delayed again",
        "they charged me twice, give me my money back",
        "nobody answers the phone",
    ],
)
def test_customer_service_language_is_negative(enricher: Enricher, text: str) -> None:
    assert sentiment(enricher, text) == "negative"


def test_irony_marker_turns_praise_next_to_a_complaint(enricher: Enricher) -> None:
    result = enricher.enrich(
        "Спасибо, что заблокировали карту в отпуске. Прекрасный сервис, ага 🙃", brand="Acme"
    )
    assert result.sentiment == "negative"
    assert result.is_ironic
    # without a complaint the same marker changes nothing
    assert enricher.enrich("Прекрасный сервис 🙃", brand="Acme").is_ironic is False


def test_neutral_news_and_questions(enricher: Enricher) -> None:
    assert sentiment(enricher, "Акме открыл офис на Тверской") == "neutral"
    assert sentiment(enricher, "Есть у Акме кешбэк на такси?") == "neutral"


def test_score_is_bounded(enricher: Enricher) -> None:
    text = "ужасно ужасно ужасно отвратительно кошмар позор!!!! 😡😡😡"
    score = enricher.enrich(text, brand="Acme").sentiment_score
    assert -1.0 < score < -0.9


# ---------------------------------------------------------------- stage
@pytest.mark.parametrize(
    ("text", "stage"),
    [
        ("Увидел рекламу Акме в метро", "awareness"),
        ("Акме объявил о запуске новой карты", "awareness"),
        ("saw an ad for Acme on youtube", "awareness"),
        ("Стоит ли открывать вклад в Акме? Кто пользовался?", "consideration"),
        ("thinking about switching banks, is Acme worth it?", "consideration"),
        ("Оформил карту Акме, курьер привёз сегодня", "purchase"),
        ("just signed up for Acme premium", "purchase"),
        ("Приложение Акме не работает", "usage"),
        ("@acme my package never arrived", "usage"),
        ("Пользуюсь Акме уже много лет, всем советую", "loyalty"),
        ("been with Acme for 10 years, always reliable", "loyalty"),
        ("Закрываю счёт в Акме, ухожу к конкурентам", "churn"),
        ("closing my account at Acme, switching to another bank", "churn"),
    ],
)
def test_stage_cues(enricher: Enricher, text: str, stage: str) -> None:
    assert enricher.enrich(text, brand="Acme").journey_stage == stage


def test_churn_lands_in_the_last_configured_stage(rules: RuleSet) -> None:
    text = "Закрываю счёт, ухожу в другой банк"
    five = Enricher(rules, stages=STAGES).enrich(text)
    assert (five.journey_stage, five.stage, five.nps_signal) == ("churn", "loyalty", "churn")
    with_churn = Enricher(rules, stages=(*STAGES, "churn")).enrich(text)
    assert with_churn.stage == "churn"
    no_loyalty = Enricher(rules, stages=STAGES[:4]).enrich(text)
    assert no_loyalty.stage == "usage"


def test_no_cue_means_the_first_stage(rules: RuleSet) -> None:
    assert Enricher(rules, stages=STAGES).enrich("обычный день").stage == "awareness"
    assert Enricher(rules, stages=("lead", "client")).enrich("обычный день").stage == "lead"


# ---------------------------------------------------------------- topics and barriers
@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("Цены на обслуживание выросли", "price"),
        ("prices went up again", "price"),
        ("Опять комиссия за перевод", "fees"),
        ("hidden fees everywhere", "fees"),
        ("Третий день не отвечают", "response_speed"),
        ("on hold for an hour", "response_speed"),
        ("Оператор поддержки нахамил", "support_quality"),
        ("the agent was rude", "support_quality"),
        ("Курьер потерял посылку", "delivery"),
        ("package never delivered", "delivery"),
        ("Пришёл бракованный товар", "product_quality"),
        ("the charger arrived broken", "product_quality"),
        ("Интерфейс очень неудобный", "usability"),
        ("the new interface is confusing", "usability"),
        ("Это обман и развод", "trust"),
        ("total scam", "trust"),
        ("Приложение вылетает при входе", "app_stability"),
        ("the app keeps crashing", "app_stability"),
        ("Мошенники взломали аккаунт", "security"),
        ("my account was hacked", "security"),
        ("Где мой кешбэк?", "rewards"),
        ("where are my reward points", "rewards"),
        ("Нет связи в метро", "connectivity"),
        ("no signal at home", "connectivity"),
        ("Рейс задержали на 3 часа", "punctuality"),
        ("flight delayed again", "punctuality"),
        ("Потеряли багаж", "baggage"),
        ("they lost my luggage", "baggage"),
        ("Жду компенсацию за отмену", "refunds"),
        ("still no refund", "refunds"),
    ],
)
def test_each_topic_in_both_languages(enricher: Enricher, text: str, topic: str) -> None:
    assert topic in enricher.enrich(text, brand="Acme").topics


def test_topic_tonality_is_per_sentence(enricher: Enricher) -> None:
    result = enricher.enrich(
        "Кешбэк отличный, всё нравится. А вот поддержка ужасная, хамят.", brand="Acme"
    )
    tones = {t["topic"]: t["sentiment"] for t in result.topic_sentiments}
    assert tones["rewards"] == "positive"
    assert tones["support_quality"] == "negative"
    assert result.barriers == ["support_quality"]


# ---------------------------------------------------------------- emotion, NPS, role
@pytest.mark.parametrize(
    ("text", "emotion"),
    [
        ("Интересно, а есть у вас вклады?", "interest"),
        ("Сомневаюсь, что это надёжно", "doubt"),
        ("Переживаю за свои деньги, что делать?", "anxiety"),
        ("Ура, наконец-то! Я в восторге", "joy"),
        ("Бесит! Сколько можно!", "anger"),
        ("Разочарован, раньше было лучше", "disappointment"),
        ("Спасибо большое, благодарю!", "gratitude"),
        ("curious about the new card", "interest"),
        ("so angry right now 😡", "anger"),
        ("thank you so much 🙏", "gratitude"),
    ],
)
def test_emotions(enricher: Enricher, text: str, emotion: str) -> None:
    assert enricher.enrich(text, brand="Acme").emotion == emotion


def test_negated_emotion_is_dropped(enricher: Enricher) -> None:
    assert enricher.enrich("не рад", brand="Acme").emotion is None


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("Всем советую Акме", "promoter"),
        ("Не советую, обходите стороной", "detractor"),
        ("Нормально, жить можно", "passive"),
        ("Ухожу к конкурентам", "churn"),
        ("highly recommend", "promoter"),
        ("would not recommend, stay away", "detractor"),
        ("it's okay, nothing special", "passive"),
        ("switching to another bank", "churn"),
    ],
)
def test_nps_signal(enricher: Enricher, text: str, signal: str) -> None:
    assert enricher.enrich(text, brand="Acme").nps_signal == signal


@pytest.mark.parametrize(
    ("author", "source_type", "text", "role"),
    [
        ("РБК", "rss", "Акме запустил кешбэк", "media"),
        ("@acmebank", "telegram", "Спасибо, что выбираете нас", "brand"),
        ("Acme Support", "telegram", "we are on it", "brand"),
        ("rbc_news", "telegram", "Акме запустил кешбэк", "media"),
        ("deals_bot", "telegram", "скидки", "bot"),
        ("Иван, финансовый аналитик", "telegram", "разбор тарифов", "expert"),
        ("maria", "telegram", "как аналитик скажу: ставки высокие", "expert"),
        ("maria", "telegram", "не работает приложение", "client"),
    ],
)
def test_author_role(
    enricher: Enricher, author: str, source_type: str, text: str, role: str
) -> None:
    got = enricher.enrich(text, author=author, source_type=source_type, brand="Acme")
    assert got.author_role == role


# ---------------------------------------------------------------- language
@pytest.mark.parametrize(
    ("text", "languages", "expected"),
    [
        ("норм", ["ru", "en"], "ru"),
        ("ok 👍", ["ru", "en"], "en"),
        ("@acmebank привет", ["ru", "en"], "ru"),
        ("https://example.org 👍", ["ru", "en"], None),
        ("Mein Flug wurde schon wieder verschoben, keiner hilft", ["en", "de"], "de"),
        ("My flight was delayed again and nobody helps us", ["en", "de"], "en"),
        ("Приложение не работает", ["en"], "ru"),
    ],
)
def test_language_detection(text: str, languages: list[str], expected: str | None) -> None:
    assert LanguageDetector(languages).detect(text) == expected


# ---------------------------------------------------------------- stories
def test_story_keys_meet_on_links_and_wording() -> None:
    original = "Финли запустил кешбэк 10% на все покупки в кафе"
    tweet = f"RT @finvesti: {original} https://news.example/a?utm_source=tw"
    article = story_keys(original, "https://www.news.example/a/")
    assert set(story_keys(tweet, None)) >= set(article)
    assert normalize_url("https://www.news.example/a/?utm=1#x") == "news.example/a"
    # short texts are written independently by many people: not reposts
    assert story_keys("Приложение не работает, ужас", None) == []


def test_tokenizer_keeps_clauses_and_squeezes_stretched_words() -> None:
    toks = tokenize("Sooo gooood, but SLOW!!")
    assert toks.words == ["soo", "good", "but", "slow"]
    assert toks.stretched[:2] == [True, True]
    assert toks.caps == [False, False, False, True]
    assert toks.exclamations == 2
    assert toks.clause[2] > toks.clause[1]


# ---------------------------------------------------------------- one source of truth
def _edited_seeds(tmp_path: Path, seed: str, rows: list[list[str]]) -> Path:
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS_DIR, target)
    with (target / f"{seed}.csv").open("a", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    return target


@pytest.mark.parametrize(
    ("text", "use_model"),
    [("Финли — просто вжух, и перевод у друга", False), ("вжух и готово", True)],
)
def test_editing_a_seed_changes_the_result_without_code_changes(
    tmp_path: Path, text: str, use_model: bool
) -> None:
    """With and without the sentiment model: the seeds are its features and keep a vote."""
    before = Enricher(RuleSet.from_seed_dir(), use_model=use_model).enrich(text)
    assert before.sentiment == "neutral"
    seeds = _edited_seeds(tmp_path, "sentiment_lexicon", [["вжух", "ru", "3"]])
    edited = RuleSet.from_seed_dir(seeds)
    after = Enricher(edited, use_model=use_model).enrich(text)
    assert after.sentiment == "positive"
    assert after.sentiment_score > before.sentiment_score
    assert "вжух" in after.sentiment_terms
    assert edited.hash != RuleSet.from_seed_dir().hash


def test_editing_stage_cues_and_topics_changes_the_result(tmp_path: Path) -> None:
    text = "Хочу рефинансировать ипотеку"
    assert Enricher(RuleSet.from_seed_dir()).enrich(text).journey_stage is None
    seeds = _edited_seeds(
        tmp_path, "stage_cues", [["consideration", "ru", "рефинансировать", "55"]]
    )
    seeds_topics = seeds / "topic_keywords.csv"
    with seeds_topics.open("a", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerow(["mortgage", "ru", "ипотека"])
    result = Enricher(RuleSet.from_seed_dir(seeds)).enrich(text)
    assert result.journey_stage == "consideration"
    assert result.topics == ["mortgage"]


def test_a_bad_seed_row_is_named(tmp_path: Path) -> None:
    seeds = _edited_seeds(tmp_path, "sentiment_lexicon", [["хо*", "ru", "2"]])
    with pytest.raises(RulesError, match=r"sentiment_lexicon.csv row \d+: a stem needs"):
        RuleSet.from_seed_dir(seeds)


def test_seed_tables_and_csv_files_give_the_same_hash(rules: RuleSet) -> None:
    typed = {
        name: [
            {k: (int(v) if k in {"weight", "priority"} and v else v) for k, v in row.items()}
            for row in rows
        ]
        for name, rows in rules.tables.items()
    }
    assert RuleSet.from_tables(typed).hash == rules.hash


def test_english_text_the_seeds_miss_backs_off_to_vader() -> None:
    """Without a model for the text's language: broad vocabulary the seeds do not list
    still counts (VADER); seed matches stay in charge."""
    enricher = Enricher(
        RuleSet.from_seed_dir(), [BrandInfo("eval", (), ("ru", "en"))], use_model=False
    )
    missed = enricher.enrich("what an obnoxious, horrid experience with @someairline")
    assert missed.sentiment == "negative"
    assert missed.sentiment_terms[0].startswith("(vader")
    flat = enricher.enrich("@someairline flight 123 boards at gate 4")
    assert flat.sentiment == "neutral"
