"""Brand matching: whole words, case-insensitive, Cyrillic and Latin, exclusions."""

from __future__ import annotations

from cjm.core.brand_match import BrandMatcher, _Tokens
from cjm.core.config import Brand

ACME = Brand(name="Acme Bank", keywords=["acme", "акме", "@acmebank"], exclude=["acme corporation"])
ZETA = Brand(name="Zeta", keywords=["zeta", "зета"])


def m(text: str):
    return BrandMatcher([ACME, ZETA]).match(text)


def test_case_insensitive_latin_and_cyrillic() -> None:
    assert m("ACME is great").brand == "Acme Bank"
    assert m("Открыл счёт в АКМЕ вчера").brand == "Acme Bank"
    assert m("Ёжик и Зета").brand == "Zeta"


def test_word_boundaries() -> None:
    assert m("acmex is a different company") is None
    assert m("pseudoacme") is None
    assert m("акмеология — наука") is None
    assert m("(acme), right?").brand == "Acme Bank"


def test_handles_and_punctuation() -> None:
    r = m("спасибо @acmebank за быстрый ответ!")
    assert r.brand == "Acme Bank" and "@acmebank" in r.keywords
    assert m("email me at x@acmebank") is None  # part of an address, not a handle


def test_exclusion_masks_only_the_excluded_phrase() -> None:
    assert m("Acme Corporation reports profits") is None
    assert m("Acme Corporation sues Acme bank customers").brand == "Acme Bank"


def test_most_hits_wins_and_others_recorded() -> None:
    r = m("zeta vs acme: zeta wins, Зета cheaper")
    assert r.brand == "Zeta"
    assert r.other_brands == ("Acme Bank",)


def test_yo_folding() -> None:
    b = Brand(name="Ёлка", keywords=["ёлка"])
    assert BrandMatcher([b]).match("купил в ЕЛКА") is not None


# --------------------------------------------------------------------------- inflection

SBER = Brand(name="Сбербанк", keywords=["сбербанк", "sberbank"], exclude=["кафе сбербанк"])
LADYA = Brand(name="Ладья Банк", keywords=["ладья банк", "альфа-банк"])


def test_cyrillic_keyword_matches_its_word_forms() -> None:
    matcher = BrandMatcher([SBER])
    for text in (
        "Открыл вклад в Сбербанке",
        "Перевёл деньги со Сбербанка",
        "Доволен Сбербанком",
        "СБЕРБАНКУ стоит ответить",
    ):
        r = matcher.match(text)
        assert r is not None and r.brand == "Сбербанк", text
        assert r.keywords == ("сбербанк",)  # the configured keyword, not the word form


def test_word_forms_do_not_widen_to_other_words() -> None:
    matcher = BrandMatcher([SBER, ACME])
    assert matcher.match("сбербанковский терминал") is None  # a derived word, another lemma
    assert matcher.match("акмеология — наука") is None
    assert matcher.match("Открыл счёт в АКМЕ вчера").brand == "Acme Bank"


def test_multi_word_and_hyphenated_keywords_inflect_every_word() -> None:
    matcher = BrandMatcher([LADYA])
    assert matcher.match("Ушёл из Ладьи Банка").brand == "Ладья Банк"
    assert matcher.match("кредит в «Ладье» банке").brand == "Ладья Банк"  # quotes between
    assert matcher.match("в Альфа-Банке очередь").brand == "Ладья Банк"
    assert matcher.match("альфа банком пользуюсь").brand == "Ладья Банк"
    assert matcher.match("Ладья. Банк закрыт") is None  # a sentence break is not a phrase
    assert matcher.match("шахматная ладья") is None


def test_a_phrase_needs_each_of_its_words_and_occurrences_do_not_overlap() -> None:
    matcher = BrandMatcher([LADYA])
    assert matcher.match("и снова ладья") is None  # the text ends before "банк"
    assert matcher.match("ладья 24 банк") is None  # another word between
    assert matcher.match("ладья ладья банк").keywords == ("ладья банк",)
    # every occurrence counts towards "most hits"; "банкомат" is not a form of "банк"
    text = "ладья банк, ладьи банка и ладья банкомат"
    tokens = _Tokens(text, matcher._starts)
    assert matcher._rule_hits(matcher._rules[0], text, tokens) == ["ладья банк"] * 2


def test_latin_keywords_stay_exact_words() -> None:
    matcher = BrandMatcher([SBER])
    assert matcher.match("I bank with Sberbank").brand == "Сбербанк"
    assert matcher.match("Sberbanks everywhere") is None
    assert matcher.match("sberbank's app").brand == "Сбербанк"


def test_inflected_exclusions_still_exclude() -> None:
    matcher = BrandMatcher([SBER])
    assert matcher.match("Встретимся в кафе «Сбербанк» на углу") is None
    assert matcher.match("В кафе Сбербанк, потом в Сбербанке").brand == "Сбербанк"


def test_handles_and_hashtags_are_not_word_forms() -> None:
    matcher = BrandMatcher([SBER])
    assert matcher.match("#сбербанка") is None
    assert matcher.match("@сбербанк") is None
    tagged = Brand(name="Сбербанк", keywords=["сбербанк", "#сбербанк"])
    assert BrandMatcher([tagged]).match("#сбербанк").keywords == ("#сбербанк",)


def test_inflected_hits_count_towards_most_hits() -> None:
    zeta = Brand(name="Zeta", keywords=["зета"])
    r = BrandMatcher([SBER, zeta]).match("Зеты нет, у Зеты дорого, в Сбербанке дешевле")
    assert r.brand == "Zeta" and r.other_brands == ("Сбербанк",)


def test_demo_brand_forms() -> None:
    finly = Brand(name="Finly", keywords=["finly", "финли"], exclude=["кафе финли", "финлидер"])
    matcher = BrandMatcher([finly])
    assert matcher.match("Финли снова лежит").brand == "Finly"
    assert matcher.match("Курс «ФинЛидер» для начинающих") is None
    assert matcher.match("Кофе в кафе «Финли» в Казани") is None
