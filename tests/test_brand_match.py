"""Brand matching: whole words, case-insensitive, Cyrillic and Latin, exclusions."""

from __future__ import annotations

from cjm.config import Brand
from extractors.brand_match import BrandMatcher

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
