"""The bundled demo data and the test fixtures are what their READMEs say they are.

Other tests (the marts, the alerts, the quarantine) compare against the numbers
documented in demo/README.md, demo/truth/summary.json and the fixture READMEs;
these tests keep those numbers honest: the generator is deterministic, the
committed files are what it writes, the planted incident and the designed
drop-off are really in the data, and every documented broken row is broken.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
import pytest

from cjm.core.config import load_config
from cjm.demo import generate as gen

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo"
FIXTURES = ROOT / "tests" / "fixtures"
MSK = ZoneInfo("Europe/Moscow")
LISTENING_FORMAT = "%d.%m.%Y %H:%M"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One generator run into a temp folder: <tmp>/inbox and <tmp>/truth."""
    root = tmp_path_factory.mktemp("demo")
    gen.generate(root / "inbox", root / "truth")
    return root


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _listening(folder: Path) -> list[dict[str, str]]:
    with (folder / gen.LISTENING_FILE).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _labels(folder: Path) -> list[dict[str, str]]:
    with (folder / "mention_labels.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _msk(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, LISTENING_FORMAT).replace(tzinfo=MSK)
    except ValueError:
        return None


def _crm_events(path: Path) -> list[gen.Event]:
    rows = pq.read_table(path).to_pylist()
    return [
        gen.Event(
            r["contact_email"],
            r["type"],
            datetime.fromisoformat(r["created_at"].replace("Z", "+00:00")),
            r["utm_source"],
            r["utm_campaign"],
            r["touchpoint"],
            r["message"],
            r["amount"],
        )
        for r in rows
    ]


# --------------------------------------------------------------------------- generator


def test_generator_is_deterministic(generated: Path, tmp_path: Path) -> None:
    gen.main(["--out", str(tmp_path / "inbox"), "--truth", str(tmp_path / "truth")])
    for sub in ("inbox", "truth"):
        first, second = _files(generated / sub), _files(tmp_path / sub)
        assert first.keys() == second.keys()
        for name in first:
            assert first[name] == second[name], f"{sub}/{name} differs between two runs"


def test_committed_demo_files_are_what_the_generator_writes(generated: Path) -> None:
    """If this fails, run `python -m cjm.demo.generate --out demo/inbox` and update the README."""
    for sub in ("inbox", "truth"):
        committed, fresh = _files(DEMO / sub), _files(generated / sub)
        assert committed.keys() == fresh.keys(), sub
        for name in fresh:
            if name.endswith(".parquet"):  # compare content: writer metadata may differ by version
                got = pq.read_table(DEMO / sub / name)
                assert got.equals(pq.read_table(generated / sub / name)), name
            else:
                assert committed[name] == fresh[name], f"demo/{sub}/{name} is stale"


def test_demo_is_small_enough_to_commit() -> None:
    total = sum(p.stat().st_size for p in (DEMO / "inbox").iterdir())
    assert total < 3 * 1024 * 1024
    assert total > 500_000  # and not accidentally empty


# --------------------------------------------------------------------------- configs


@pytest.mark.parametrize(
    "path",
    [
        "config/demo.yml",
        "config/cjm.yml",
        "tests/fixtures/config.yml",
        "tests/fixtures/bad/config.yml",
    ],
)
def test_configs_load_and_their_files_exist(path: str) -> None:
    config = load_config(ROOT / path)
    assert [b.name for b in config.brands if b.role == "own"] == ["Finly"]
    assert config.stages.order == ["awareness", "consideration", "purchase", "usage", "loyalty"]
    assert config.stages.event_stages == {
        "site_visit": "awareness",
        "lead": "consideration",
        "order_paid": "purchase",
        "support_ticket": "usage",
        "renewal": "loyalty",
    }
    for source in config.enabled_sources:
        if path == "config/demo.yml" and (source.type != "file" or "${" in source.path):
            continue  # served live by `cjm demo`: tests/test_demo_server.py covers these
        assert source.type == "file"
        assert list(Path(config.base_dir).glob(source.path)), (
            f"{path}: {source.path} matches nothing"
        )


def test_demo_config_reads_the_demo_inbox_in_moscow_time() -> None:
    config = load_config(ROOT / "config" / "demo.yml")
    listening = config.source("listening")
    assert listening.timestamp_format == LISTENING_FORMAT
    assert listening.timezone == "Europe/Moscow"
    assert config.source("media").channel == "media"  # an RSS feed since the live demo
    assert config.source("crm").type == "crm_api"
    assert config.stages.conversion_window_days == 90
    assert config.alerts.spike.min_count > gen.NEGATIVE_CAP_PER_HOUR


# --------------------------------------------------------------------------- mentions


def test_listening_export_shape_and_broken_rows(generated: Path) -> None:
    rows = _listening(generated / "inbox")
    summary = json.loads((generated / "truth" / "summary.json").read_text(encoding="utf-8"))
    assert list(rows[0]) == ["id", "body", "date", "author", "platform", "link", "Регион"]
    assert 2300 <= len(rows) <= 2700
    assert {r["platform"] for r in rows} == {"telegram", "vk", "twitter", "forum"}
    broken = {b["record"]: b for b in summary["broken_rows"]}
    assert 5 <= len(broken) <= 10
    assert {b["kind"] for b in broken.values()} == {
        "missing_id",
        "bad_timestamp",
        "empty_text",
        "duplicate_id",
    }
    for record, row in enumerate(rows, start=1):
        b = broken.get(record)
        kind = b["kind"] if b else None
        assert (row["id"] == "") == (kind == "missing_id"), record
        assert (_msk(row["date"]) is None) == (kind == "bad_timestamp"), record
        assert (row["body"].strip() == "") == (kind == "empty_text"), record
    ids = Counter(r["id"] for r in rows if r["id"])
    assert [i for i, n in ids.items() if n > 1] == [
        b["id"] for b in broken.values() if b["kind"] == "duplicate_id"
    ]
    # The documented line numbers are physical lines of the file.
    lines = (generated / "inbox" / gen.LISTENING_FILE).read_text(encoding="utf-8").split("\n")
    for b in broken.values():
        assert lines[b["line"] - 1].startswith(f"{b['id']},"), b


def test_dates_follow_days_and_hours(generated: Path) -> None:
    """More by day than at night, fewer on weekends, all inside the period."""
    times = [t for r in _listening(generated / "inbox") if (t := _msk(r["date"]))]
    assert min(times).date() >= gen.START
    assert max(times).date() <= gen.START + timedelta(days=gen.DAYS - 1)
    by_hour = Counter(t.hour for t in times)
    assert sum(by_hour[h] for h in range(10, 22)) > 5 * sum(by_hour[h] for h in range(0, 7))
    by_dow = Counter(t.weekday() for t in times)
    assert by_dow[1] > by_dow[5] * 1.2  # Tuesday vs Saturday


def test_every_demo_mention_names_the_brand_and_off_brand_rows_do_not(generated: Path) -> None:
    brand_match = pytest.importorskip("cjm.core.brand_match")
    matcher = brand_match.BrandMatcher(load_config(ROOT / "config" / "demo.yml").brands)
    rows, labels = _listening(generated / "inbox"), _labels(generated / "truth")
    for row, label in zip(rows, labels, strict=False):
        if not row["body"].strip():
            continue
        found = matcher.match(row["body"])
        assert (found is None) == (label["signal"] == "off_brand"), row["body"]
    with (generated / "inbox" / gen.MEDIA_FILE).open(encoding="utf-8") as f:
        for line in f:
            article = json.loads(line)
            assert matcher.match(article["title"], article["summary"]), article["guid"]


def test_media_articles_carry_offsets(generated: Path) -> None:
    lines = (generated / "inbox" / gen.MEDIA_FILE).read_text(encoding="utf-8").splitlines()
    assert 250 <= len(lines) <= 350
    guids = set()
    for line in lines:
        a = json.loads(line)
        assert list(a) == ["guid", "title", "summary", "published", "link", "outlet"]
        published = datetime.fromisoformat(a["published"])
        assert published.tzinfo is not None, a["published"]
        last_day = gen.START + timedelta(days=gen.DAYS - 1)
        assert gen.START <= published.astimezone(MSK).date() <= last_day
        guids.add(a["guid"])
    assert len(guids) == len(lines)


def test_sentiment_mix_is_realistic(generated: Path) -> None:
    labels = [
        x
        for x in _labels(generated / "truth")
        if x["source"] == "listening"
        and x["signal"] != "off_brand"
        and not x["signal"].startswith("broken:")
    ]
    sentiment = Counter(x["sentiment"] for x in labels)
    assert sentiment.most_common(1)[0][0] == "neutral"
    negative_share = {
        stage: sum(x["sentiment"] == "negative" for x in labels if x["stage"] == stage)
        / sum(x["stage"] == stage for x in labels)
        for stage in ("awareness", "consideration", "purchase", "usage")
    }
    assert max(negative_share, key=negative_share.get) == "usage"
    assert Counter(x["lang"] for x in labels)["en"] > 0.2 * len(labels)
    assert {x["stage"] for x in labels} == {
        "awareness",
        "consideration",
        "purchase",
        "usage",
        "loyalty",
    }


def test_the_planted_incident_is_in_the_data(generated: Path) -> None:
    """~50 negatives in 3 hours on 2026-10-14 10:00-13:00 MSK; at most 3 in any other hour."""
    rows, labels = _listening(generated / "inbox"), _labels(generated / "truth")
    start = datetime(2026, 10, 14, 10, 0, tzinfo=MSK)
    end = start + timedelta(hours=3)
    assert (start, end) == (gen.INCIDENT_START, gen.INCIDENT_END)
    negatives: Counter[datetime] = Counter()
    incident = []
    for row, label in zip(rows, labels, strict=False):
        t = _msk(row["date"])
        if t is None or label["signal"] == "off_brand" or label["signal"].startswith("broken:"):
            continue
        assert label["native_id"] == row["id"]
        if label["sentiment"] == "negative":
            negatives[t.astimezone(UTC).replace(minute=0)] += 1
        if label["signal"] == "incident":
            incident.append((t, row["body"], label))
    for label in _labels(generated / "truth"):
        if label["source"] == "media" and label["sentiment"] == "negative":
            t = datetime.fromisoformat(label["published_at_utc"].replace("Z", "+00:00"))
            negatives[t.replace(minute=0)] += 1

    assert 40 <= len(incident) <= 60
    assert all(start <= t < end for t, _, _ in incident)
    assert {x["sentiment"] for _, _, x in incident} == {"negative"}
    assert {x["lang"] for _, _, x in incident} == {"ru", "en"}
    barrier = re.compile(
        r"вход|войти|пускает|карт|поддержк|чат|оператор|дозвон|смс|ошибка|"
        r"лежит|упал|не работает|log in|login|card|support|chat|sms|down|"
        r"outage|called|agent|бот|ответ",
        re.IGNORECASE,
    )
    assert all(barrier.search(body) for _, body, _ in incident)
    window = [start.astimezone(UTC) + timedelta(hours=h) for h in range(3)]
    assert all(negatives[h] >= 5 for h in window), [negatives[h] for h in window]
    outside = [n for h, n in negatives.items() if h not in window]
    assert max(outside) <= gen.NEGATIVE_CAP_PER_HOUR
    summary = json.loads((generated / "truth" / "summary.json").read_text(encoding="utf-8"))
    assert summary["incident"]["incident_mentions"] == len(incident)
    assert summary["incident"]["negatives_per_window_hour"] == [negatives[h] for h in window]


# --------------------------------------------------------------------------- CRM


def test_crm_columns(generated: Path) -> None:
    table = pq.read_table(generated / "inbox" / gen.CRM_FILE)
    assert table.column_names == [
        "event_uid",
        "contact_email",
        "type",
        "created_at",
        "utm_source",
        "utm_campaign",
        "touchpoint",
        "message",
        "amount",
        "segment",
        "region",
        "product",
    ]
    rows = table.to_pylist()
    assert len({r["event_uid"] for r in rows}) == len(rows)
    assert {r["type"] for r in rows} == set(gen.STAGE_EVENTS)
    assert {r["utm_source"] for r in rows} == set(gen.CHANNELS)
    for r in rows:
        assert r["created_at"].endswith("Z")
        assert datetime.fromisoformat(r["created_at"]) < gen.PERIOD_END_UTC
        assert (r["amount"] is not None) == (r["type"] in ("order_paid", "renewal"))
        assert (
            r["contact_email"]
            .strip()
            .lower()
            .endswith(("@example.com", "@example.org", "@example.net"))
        )


def test_crm_drop_off_matches_the_design(generated: Path) -> None:
    events = _crm_events(generated / "inbox" / gen.CRM_FILE)
    customers = {e.email.strip().lower() for e in events}
    assert 2800 <= len(customers) <= 3000
    # Mature cohort (journeys had time to finish): the designed 45% -> 60% -> 50% -> 40%.
    mature = gen.funnel(events, first_visit_before=datetime(2026, 9, 26, tzinfo=UTC))["all"]
    for pair, lo, hi in (
        ("site_visit->lead", 0.40, 0.50),
        ("lead->order_paid", 0.55, 0.65),
        ("order_paid->support_ticket", 0.45, 0.56),
        ("support_ticket->renewal", 0.33, 0.47),
    ):
        assert lo <= mature[pair] <= hi, (pair, mature[pair])
    # Channels differ as designed (largest groups first: tolerance for sampling noise).
    everything = gen.funnel(events)
    for name, channel in gen.CHANNELS.items():
        got = everything[name]
        assert abs(got["site_visit->lead"] - channel.p_lead) < 0.08, name
        assert abs(got["lead->order_paid"] - channel.p_order) < 0.10, name
    visit_to_lead = {c: everything[c]["site_visit->lead"] for c in gen.CHANNELS}
    assert max(visit_to_lead, key=visit_to_lead.get) == "referral"
    assert min(visit_to_lead, key=visit_to_lead.get) == "vk_ads"
    summary = json.loads((generated / "truth" / "summary.json").read_text(encoding="utf-8"))
    assert summary["crm"]["realised_all"] == everything


def test_crm_journeys_are_irregular(generated: Path) -> None:
    """Re-entries, skipped stages, other-channel revisits and e-mail case variants exist."""
    events = _crm_events(generated / "inbox" / gen.CRM_FILE)
    by_customer: dict[str, list[gen.Event]] = {}
    for e in events:
        by_customer.setdefault(e.email.strip().lower(), []).append(e)
    types = {k: Counter(e.type for e in v) for k, v in by_customer.items()}
    assert sum(t["order_paid"] and not t["lead"] for t in types.values()) > 50
    assert sum(t["site_visit"] > 1 for t in types.values()) > 300
    assert sum(len({e.utm_source for e in v}) > 1 for v in by_customer.values()) > 100
    assert (
        sum(any(e.email != e.email.strip().lower() for e in v) for v in by_customer.values()) > 10
    )
    hours = [
        max(v, key=lambda e: e.at).at - min(v, key=lambda e: e.at).at
        for v in by_customer.values()
        if len(v) > 2
    ]
    assert sorted(hours)[len(hours) // 2] > timedelta(days=1)  # journeys spread over days
    incident = [
        e
        for e in events
        if e.type == "support_ticket" and gen.INCIDENT_START <= e.at < gen.INCIDENT_END
    ]
    assert len(incident) >= 10


# --------------------------------------------------------------------------- fixtures


def test_clean_fixture_is_small_and_spike_free() -> None:
    with (FIXTURES / "mentions.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    with (FIXTURES / "labels.csv").open(encoding="utf-8", newline="") as f:
        labels = {(x["source"], x["native_id"]): x for x in csv.DictReader(f)}
    media = [json.loads(x) for x in (FIXTURES / "media.jsonl").read_text("utf-8").splitlines()]
    assert (len(rows), len(media)) == (41, 20)
    assert all(_msk(r["date"]) and r["id"] and r["body"].strip() for r in rows)
    assert {_msk(r["date"]).date().isoformat() for r in rows} == {"2026-09-07", "2026-09-08"}
    negatives: Counter[datetime] = Counter()
    for r in rows:
        if labels[("listening", r["id"])]["sentiment"] == "negative":
            negatives[_msk(r["date"]).astimezone(UTC).replace(minute=0)] += 1
    for a in media:
        if labels[("media", a["guid"])]["sentiment"] == "negative":
            negatives[datetime.fromisoformat(a["published"]).astimezone(UTC).replace(minute=0)] += 1
    assert sum(negatives.values()) == 14
    assert max(negatives.values()) <= 2
    events = []
    with (FIXTURES / "crm_events.csv").open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            events.append(
                gen.Event(
                    r["contact_email"],
                    r["type"],
                    datetime.fromisoformat(r["created_at"].replace("Z", "+00:00")),
                    r["utm_source"],
                    r["utm_campaign"] or None,
                    r["touchpoint"],
                    r["message"],
                    float(r["amount"]) if r["amount"] else None,
                )
            )
    assert len(events) == 51
    f_all = gen.funnel(events)["all"]
    assert f_all["customers"] == 15
    assert [
        f_all[f"{p}:converted"]
        for p in (
            "site_visit->lead",
            "lead->order_paid",
            "order_paid->support_ticket",
            "support_ticket->renewal",
        )
    ] == [9, 5, 5, 3]
    assert [
        f_all[f"{p}:entered"]
        for p in (
            "site_visit->lead",
            "lead->order_paid",
            "order_paid->support_ticket",
            "support_ticket->renewal",
        )
    ] == [15, 9, 6, 5]


def _readme_rows(section: str) -> dict[int, str]:
    """{line: outcome} from the table under `## `<file>`` in the bad fixture's README."""
    text = (FIXTURES / "bad" / "README.md").read_text(encoding="utf-8")
    part = text.split(f"## `{section}`", 1)[1].split("\n## ", 1)[0]
    return {
        int(m[1]): m[2].strip() for m in re.finditer(r"^\| (\d+) \|.*\| ([^|]+) \|$", part, re.M)
    }


def test_bad_fixture_rows_are_broken_as_documented() -> None:
    expected = json.loads((FIXTURES / "bad" / "expected.json").read_text(encoding="utf-8"))
    for source, exp in expected.items():
        c = exp["counts"]
        assert c["rows_seen"] == c["rows_extracted"] + c["rows_off_brand"], source
        assert c["rows_extracted"] == c["rows_in"] + c["rows_duplicate"], source
        assert c["rows_in"] == c["rows_passed"] + c["rows_quarantined"], source
        assert len(exp["quarantined"]) == c["rows_quarantined"], source
        documented = _readme_rows(exp["file"])
        assert {int(k) for k in exp["quarantined"]} == {
            n for n, outcome in documented.items() if outcome.startswith("quarantined")
        }, source
        assert set(exp["off_brand"]) == {
            n for n, outcome in documented.items() if outcome == "off-brand"
        }, source

    lines = (FIXTURES / "bad" / "mentions.csv").read_text("utf-8").splitlines()
    header = next(csv.reader([lines[0]]))
    for n, why in expected["bad_listening"]["quarantined"].items():
        fields = next(csv.reader([lines[int(n) - 1]]))
        row = dict(zip(header, fields, strict=False))
        broken = {
            "native_id": not row["id"].strip(),
            "text": not row["body"].strip(),
            "published_at": _msk(row["date"]) is None,
            "fields": len(fields) != len(header),
        }
        assert broken[why], (n, why, fields)
    for first, second in expected["bad_listening"]["duplicates"].items():
        assert lines[int(first) - 1].split(",")[0] == lines[second - 1].split(",")[0]

    media = (FIXTURES / "bad" / "media.jsonl").read_text("utf-8").splitlines()
    for n, why in expected["bad_media"]["quarantined"].items():
        raw = media[int(n) - 1]
        if why == "json":
            with pytest.raises(json.JSONDecodeError):
                json.loads(raw)
            continue
        obj = json.loads(raw)
        if why == "object":
            assert not isinstance(obj, dict)
        elif why == "native_id":
            assert not obj.get("guid")
        else:
            with pytest.raises(ValueError):
                datetime.fromisoformat(obj["published"])

    crm = list(
        csv.DictReader(io.StringIO((FIXTURES / "bad" / "crm_events.csv").read_text("utf-8")))
    )
    for n, why in expected["bad_crm"]["quarantined"].items():
        row = crm[int(n) - 2]
        if why == "amount":
            with pytest.raises(ValueError):
                float(row["amount"].replace(" ", "").replace(",", "."))
        elif why == "occurred_at":
            with pytest.raises(ValueError):
                datetime.fromisoformat(row["created_at"])
        else:
            column = {
                "customer_key": "contact_email",
                "native_id": "event_uid",
                "event_type": "type",
            }[why]
            assert not row[column].strip(), (n, why)


def test_demo_readme_states_the_generated_numbers() -> None:
    """The README is what people (and mart tests) read: it must not drift from the data."""
    readme = (DEMO / "README.md").read_text(encoding="utf-8")
    summary = json.loads((DEMO / "truth" / "summary.json").read_text(encoding="utf-8"))
    incident = summary["incident"]
    assert f"**{incident['incident_mentions']} incident mentions**" in readme
    assert "**{}, {}, {}**".format(*incident["negatives_per_window_hour"]) in readme
    assert "10:00–13:00 Moscow = 07:00–10:00 UTC" in readme
    for b in summary["broken_rows"]:
        assert f"| {b['line']} | {b['record']} |" in readme, b
    for name, info in summary["files"].items():
        assert f"| {info['records']:,} | {info['bytes']:,} |" in readme, name
    all_rates = summary["crm"]["realised_all"]["all"]
    for pair in (
        "site_visit->lead",
        "lead->order_paid",
        "order_paid->support_ticket",
        "support_ticket->renewal",
    ):
        cell = f"{all_rates[pair + ':converted']}/{all_rates[pair + ':entered']}"
        assert cell in readme, pair
