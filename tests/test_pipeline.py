"""The whole refresh on real DuckDB files, real GX validation and a real dbt build."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from cjm.refresh import tasks
from cjm.refresh.pipeline import run_refresh
from tests.pipeline_helpers import FIXTURES, MARTS, ROOT, rows, scalar, snapshot


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory: pytest.TempPathFactory):
    """One clean refresh of the fixture config, shared by the read-only checks below."""
    mp = pytest.MonkeyPatch()
    mp.setenv("CJM_CUSTOMER_KEY_SECRET", "test-secret")
    wh = tmp_path_factory.mktemp("wh") / "warehouse.duckdb"
    report = run_refresh(str(FIXTURES / "config.yml"), str(wh))
    yield wh, report
    mp.undo()


def test_refresh_fills_raw_ops_and_every_mart(refreshed) -> None:
    wh, report = refreshed
    assert report.ok, report.failures
    assert scalar(wh, "select count(*) from raw.mentions") > 0
    assert scalar(wh, "select count(*) from raw.crm_events") > 0
    for mart in MARTS:
        assert scalar(wh, f"select count(*) from marts.{mart}") > 0, mart
    # read = loaded + quarantined + duplicates + off-brand, per batch, in the table
    batches = rows(
        wh,
        """
            select source, rows_extracted, rows_duplicate, rows_in, rows_passed,
                   rows_quarantined, rows_inserted, rows_updated, rows_unchanged,
                   rows_seen, rows_off_brand
            from ops.validation_runs""",
    )
    assert batches and any(off for *_, off in batches), "no batch counted an off-brand row"
    for source, extracted, dup, rin, passed, quarantined, ins, upd, unch, seen, off in batches:
        assert seen == extracted + off, source
        assert rin == passed + quarantined, source
        assert extracted == rin + dup, source
        assert passed == ins + upd + unch, source
    assert set(report.steps) == {
        "extract",
        "validate",
        "load",
        "freshness",
        "dbt build",
        "publish",
        "report",
        "alerts",
    }
    # `cjm run` checks each source's age as the DAG's check_freshness task does: every
    # source of the fixture just loaded, so none is stale
    assert set(report.freshness["sources"]) == set(report.sources)
    assert report.freshness["stale"] == [] and report.freshness["notified"] == {}


def test_customer_ids_are_hashed_not_stored(refreshed) -> None:
    wh, _ = refreshed
    assert scalar(wh, "select count(*) from raw.crm_events where customer_key like '%@%'") == 0
    assert scalar(wh, "select min(length(customer_key)) from raw.crm_events") == 32


def test_cjm_has_a_row_per_configured_stage(refreshed) -> None:
    wh, _ = refreshed
    stages = [r[0] for r in rows(wh, "select stage from config.stages order by stage_order")]
    for (brand,) in rows(wh, "select brand from config.brands"):
        got = [
            r[0]
            for r in rows(
                wh, "select stage from marts.cjm where brand = ? order by stage_order", [brand]
            )
        ]
        assert got == stages


def test_published_copy_is_readable_and_complete(refreshed) -> None:
    wh, report = refreshed
    bi = Path(report.published["duckdb"])
    assert bi == wh.parent / "bi" / "marts.duckdb"
    con = duckdb.connect(str(bi), read_only=True)
    try:
        for mart in MARTS:
            n = con.execute(f"select count(*) from marts.{mart}").fetchone()[0]
            assert n == scalar(wh, f"select count(*) from marts.{mart}"), mart
            pq_n = con.execute(
                f"select count(*) from read_parquet('{wh.parent}/bi/parquet/{mart}.parquet')"
            ).fetchone()[0]
            assert pq_n == n
    finally:
        con.close()


def test_second_run_changes_nothing(tmp_path: Path) -> None:
    wh = tmp_path / "warehouse.duckdb"
    first = run_refresh(str(FIXTURES / "config.yml"), str(wh))
    assert first.ok, first.failures
    before = snapshot(wh)
    second = run_refresh(str(FIXTURES / "config.yml"), str(wh))
    assert second.ok, second.failures
    # nothing dbt reads changed: the build is skipped (cjm/refresh/inputs.py)
    assert second.dbt == {"seconds": 0.0, "nodes": {}, "skipped": first.run_id}
    after = snapshot(wh)
    assert before.keys() == after.keys()
    for table in before:
        assert before[table] == after[table], f"{table} changed on a second identical run"
    # asked to, it builds anyway, and the marts come out the same
    third = run_refresh(str(FIXTURES / "config.yml"), str(wh), build_always=True)
    assert third.ok and third.dbt["nodes"].get("success", 0) > 0, third.dbt
    rebuilt = snapshot(wh, schemas=("marts",))
    assert rebuilt == {t: v for t, v in before.items() if t.startswith("marts.")}


def test_rerun_after_a_failed_load_neither_duplicates_nor_loses(tmp_path: Path) -> None:
    """A load that dies on one batch (its landing file is corrupt), then a retry of the run."""
    clean = tmp_path / "clean" / "warehouse.duckdb"
    assert run_refresh(str(FIXTURES / "config.yml"), str(clean)).ok

    wh = tmp_path / "retry" / "warehouse.duckdb"
    config = str(FIXTURES / "config.yml")
    run_id = "manual__retry-test"
    names = tasks.list_sources(config)
    manifests = {}
    for n in names:
        tasks.extract(n, run_id, config, str(wh))
        manifests[n] = tasks.validate(n, run_id, config, str(wh))
    victim = next(n for n in names if manifests[n]["entity"] == "mention")
    Path(manifests[victim]["passed_path"]).write_bytes(b"PAR1 truncated")
    report = tasks.load(run_id, config, str(wh))
    assert victim in report["failed"]
    # The failed batch left nothing behind: no rows, no validation record, no cursor.
    assert scalar(wh, "select count(*) from raw.mentions where source = ?", [victim]) == 0
    assert scalar(wh, "select count(*) from ops.source_state where source = ?", [victim]) == 0
    # Retry the whole run (as Airflow would): extract and validate rewrite their files.
    for n in names:
        tasks.extract(n, run_id, config, str(wh))
        tasks.validate(n, run_id, config, str(wh))
    assert tasks.load(run_id, config, str(wh))["failed"] == {}
    for table, key in (("raw.mentions", "mention_id"), ("raw.crm_events", "event_id")):
        got = rows(wh, f"select {key} from {table} order by 1")
        assert got == rows(clean, f"select {key} from {table} order by 1"), table
    assert scalar(wh, "select count(*) from ops.source_state") == len(names)


def test_bad_input_is_quarantined_with_reasons(tmp_path: Path) -> None:
    """Every broken row of the bad fixtures lands in quarantine naming its line and field."""
    expected = json.loads((FIXTURES / "bad" / "expected.json").read_text(encoding="utf-8"))
    wh = tmp_path / "warehouse.duckdb"
    report = run_refresh(str(FIXTURES / "bad" / "config.yml"), str(wh))
    for source, exp in expected.items():
        counts = rows(
            wh,
            """select rows_extracted, rows_duplicate, rows_in, rows_passed,
                                    rows_quarantined
                             from ops.validation_runs where source = ?""",
            [source],
        )
        c = exp["counts"]
        assert counts == [
            (
                c["rows_extracted"],
                c["rows_duplicate"],
                c["rows_in"],
                c["rows_passed"],
                c["rows_quarantined"],
            )
        ], source
        got = dict(
            rows(wh, "select row_ref, lower(reason) from ops.quarantine where source = ?", [source])
        )
        want_refs = {f"{exp['file']}:{line}" for line in exp["quarantined"]}
        assert {ref.rsplit("/", 1)[-1] for ref in got} == want_refs, source
        for line, word in exp["quarantined"].items():
            reason = next(r for ref, r in got.items() if ref.endswith(f"{exp['file']}:{line}"))
            assert word.lower() in reason, (source, line, reason)
        table = "raw.mentions" if source != "bad_crm" else "raw.crm_events"
        loaded = [
            r[0]
            for r in rows(
                wh, f"select native_id from {table} where source = ? order by 1", [source]
            )
        ]
        assert loaded == sorted(exp["passed_ids"]), source
        assert report.sources[source]["off_brand"] == c["rows_off_brand"]
    # Quarantined records keep their values: nothing is lost.
    record = json.loads(rows(wh, "select record from ops.quarantine limit 1")[0][0])
    assert record["source"] in expected


def test_cli_run_without_the_customer_secret_stops_with_one_line(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.delenv("CJM_CUSTOMER_KEY_SECRET", raising=False)
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "cjm.cli",
            "--config",
            str(FIXTURES / "config.yml"),
            "--warehouse",
            str(tmp_path / "w.duckdb"),
            "run",
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert res.returncode == 2
    assert res.stderr.strip().count("\n") == 0 and "CJM_CUSTOMER_KEY_SECRET" in res.stderr
    assert not (tmp_path / "w.duckdb").exists()


def test_landing_files_are_per_source_and_run(tmp_path: Path) -> None:
    wh = tmp_path / "warehouse.duckdb"
    config = str(FIXTURES / "config.yml")
    name = tasks.list_sources(config)[0]
    m1 = tasks.extract(name, "run-a", config, str(wh))
    m2 = tasks.extract(name, "run-a", config, str(wh))  # a retry overwrites
    assert m1["landing_path"] == m2["landing_path"]
    files = [p.name for p in Path(m1["landing_path"]).parent.iterdir() if p.suffix == ".parquet"]
    assert files == ["run-a.parquet"]
    shutil.rmtree(Path(m1["landing_path"]).parent)
