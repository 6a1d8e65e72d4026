"""Adding a source type means one registry entry (cjm/core/sources.py): a test-only
type registered here flows through config validation, extraction, the GX suite and the
load without any other file naming it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import duckdb
import pytest

from cjm.core.config import ConfigError, SourceBase, parse_config
from cjm.core.sources import register_source_type, source_types, unregister_source_type
from cjm.extractors.base import ExtractContext, Extracted
from cjm.extractors.records import finish_mentions
from cjm.refresh import tasks


class EchoSource(SourceBase):
    """A source that yields the texts its config lists (one mention each)."""

    type: Literal["echo"]
    texts: list[str]


def extract_echo(ctx: ExtractContext) -> Extracted:
    drafts = [
        {
            "native_id": f"echo-{i}",
            "text": text,
            "published_at": datetime(2026, 11, 30, 12, i, tzinfo=UTC),
            "_row": f"texts[{i}]",
        }
        for i, text in enumerate(ctx.source.texts)
    ]
    return finish_mentions(drafts, ctx, cursor=str(len(drafts)))


CONFIG = {
    "brands": [{"name": "Acme", "keywords": ["Acme"]}],
    "sources": [
        {"name": "echoes", "type": "echo", "texts": ["Acme is great", "Acme broke again", ""]}
    ],
}


@pytest.fixture
def echo_type() -> Iterator[None]:
    register_source_type(EchoSource, extract_echo)
    try:
        yield
    finally:
        unregister_source_type("echo")


def test_an_unregistered_type_is_one_clear_config_error() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(CONFIG)
    (line,) = err.value.errors
    assert line.startswith("sources[0]:") and "'echo'" in line and "'rss'" in line


def test_a_registered_type_flows_through_config_extract_validate_and_load(
    echo_type: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "echo" in source_types()
    config = parse_config(CONFIG, base_dir=tmp_path)
    assert isinstance(config.sources[0], EchoSource)
    warehouse = str(tmp_path / "warehouse.duckdb")
    monkeypatch.setenv("CJM_LANDING", str(tmp_path / "landing"))
    extracted = tasks.extract("echoes", "run-1", config, warehouse)
    assert extracted["source_type"] == "echo" and extracted["rows_extracted"] == 3
    validated = tasks.validate("echoes", "run-1", config, warehouse)
    # the GX suite accepts the new type; only the empty text is quarantined
    assert (validated["rows_passed"], validated["rows_quarantined"]) == (2, 1)
    loaded = tasks.load("run-1", config, warehouse)
    assert loaded["failed"] == {}
    con = duckdb.connect(warehouse, read_only=True)
    try:
        rows = con.execute(
            "select source_type, text from raw.mentions order by native_id"
        ).fetchall()
        quarantined = con.execute("select count(*) from ops.quarantine").fetchone()
    finally:
        con.close()
    assert rows == [("echo", "Acme is great"), ("echo", "Acme broke again")]
    assert quarantined == (1,)
