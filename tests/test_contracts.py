"""Stable ids and keyed customer hashing."""

from __future__ import annotations

from pathlib import Path

import pytest

from cjm.core.contracts import (
    MissingSecretError,
    customer_key_secret,
    hash_customer_id,
    landing_schema,
    stable_id,
)


def test_stable_id_is_deterministic_and_source_scoped() -> None:
    assert stable_id("rbc", "123") == stable_id("rbc", "123")
    assert stable_id("rbc", "123") != stable_id("tass", "123")
    assert stable_id("a", "bc") != stable_id("ab", "c")  # separator prevents collisions
    # Pinned value: ids stored in real warehouses must never change between versions.
    assert stable_id("rbc", "123") == "ba931b171b0941808dace656ff3dd17c"
    assert len(stable_id("rbc", "123")) == 32


def test_customer_hash_needs_the_key_and_hides_the_raw_id(monkeypatch) -> None:
    monkeypatch.delenv("CJM_CUSTOMER_KEY_SECRET", raising=False)
    with pytest.raises(MissingSecretError, match="CJM_CUSTOMER_KEY_SECRET"):
        customer_key_secret()
    monkeypatch.setenv("CJM_CUSTOMER_KEY_SECRET", "k1")
    h1 = hash_customer_id("Ivan@Example.org ", customer_key_secret())
    assert h1 == hash_customer_id("ivan@example.org", b"k1")  # normalised
    assert "ivan" not in h1
    assert h1 != hash_customer_id("ivan@example.org", b"k2")  # keyed


def test_landing_schema_has_meta_columns() -> None:
    names = landing_schema("mention").names
    assert names[0] == "mention_id" and names[-2:] == ["_row", "_errors"]


def test_the_table_reference_is_generated_from_the_dbt_docs() -> None:
    """docs/TABLES.md is what `cjm docs` writes from the dbt .yml: edit the dbt docs and
    regenerate (`cjm docs --out docs/TABLES.md`), never the page."""
    from cjm.refresh.docs import table_reference
    from cjm.refresh.marts import MART_TABLES

    page = (Path(__file__).parents[1] / "docs" / "TABLES.md").read_text(encoding="utf-8")
    assert page == table_reference()
    assert all(f"## `marts.{t}`" in page for t in MART_TABLES)
