"""The CJM report, the XLSX export and `cjm show` on a real demo warehouse.

`cjm demo` builds the warehouse once for the module (a real refresh: live-format
sources on 127.0.0.1, Great Expectations, DuckDB, dbt, publish, report). The pages are
opened in real headless Chromium (Debian's package; `make test` installs it through
scripts/install-chromium.sh): its DOM after the scripts ran, its console, a screenshot
saved under tests/artifacts/ (git-ignored; the path is printed).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from openpyxl import load_workbook

from cjm.refresh.settings import load
from cjm.report import brand_page_name
from cjm.report.marts import _stage_conversion, shown

REPO = Path(__file__).resolve().parents[1]
DEMO_CONFIG = REPO / "config" / "demo.yml"
CJM = Path(sys.executable).with_name("cjm")
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "tests" / "artifacts"

# The seed article's template headers, written out here (not read from the code).
COMM_HEADERS_RU = [
    "Этап",
    "Канал",
    "Точка контакта",
    "Сообщение",
    "Цель",
    "Метрики",
    "Рекомендации",
]
COMM_HEADERS_EN = [
    "Stage",
    "Channel",
    "Touchpoint",
    "Message",
    "Goal",
    "Metrics",
    "Recommendations",
]
CJM_HEADERS_RU = ["Этап", "Действия клиента", "Эмоции", "Точки контакта", "Барьеры",
                  "Возможности", "Метрики"]  # fmt: skip
# negative share → fill: ≥ 0.4 red, ≥ 0.2 amber, below green, no mentions grey
FILLS = {"negative": "F4C7C3", "mixed": "FCE8B2", "positive": "C8E6C9", "none": "EEEEEE"}


def band(share: float | None) -> str:
    if share is None or pd.isna(share):
        return "none"
    return "negative" if share >= 0.4 else "mixed" if share >= 0.2 else "positive"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    wh = tmp_path_factory.mktemp("report_demo") / "warehouse.duckdb"
    done = subprocess.run(
        [str(CJM), "demo", "--warehouse", str(wh)], cwd=REPO, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return {"warehouse": wh, "stdout": done.stdout, "config": load(DEMO_CONFIG)}


def _stages(wh: Path) -> list[tuple[str, str]]:
    with duckdb.connect(str(wh), read_only=True) as con:
        return con.execute(
            "select stage, coalesce(stage_label, stage) from marts.cjm "
            "where brand = 'Finly' order by stage_order"
        ).fetchall()


def test_demo_ends_by_printing_the_report_path(demo: dict) -> None:
    wh: Path = demo["warehouse"]
    last = demo["stdout"].strip().splitlines()[-1]
    index = wh.parent / "report" / "index.html"
    assert last == f"[demo] report: {index}"
    assert index.exists() and (wh.parent / "report" / "finly.html").exists()
    assert re.search(r"^\[report\] .*index\.html$", demo["stdout"], re.M)


def _chromium(url: str, *extra: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM.exists(), f"{CHROMIUM} missing: run scripts/install-chromium.sh (make test)"
    return subprocess.run(
        [
            str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--hide-scrollbars", f"--user-data-dir={tmp}",
            "--enable-logging=stderr", "--v=0",
            # every host name fails to resolve: anything the page fetched would be an error
            "--host-resolver-rules=MAP * ~NOTFOUND",
            *extra, url,
        ],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def _console(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


@pytest.fixture(scope="module")
def rendered(demo: dict, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The Russian page (the demo brand's language) as Chromium drew it."""
    page = demo["warehouse"].parent / "report" / brand_page_name("Finly")
    tmp = tmp_path_factory.mktemp("chromium")
    dom = _chromium(page.as_uri(), "--dump-dom", "--virtual-time-budget=10000", tmp=tmp / "a")
    assert dom.returncode == 0, dom.stderr[-2000:]
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report_finly.png"
    shot.unlink(missing_ok=True)
    pic = _chromium(
        page.as_uri(), f"--screenshot={shot}", "--window-size=1600,2400",
        "--virtual-time-budget=10000", tmp=tmp / "b",
    )  # fmt: skip
    assert pic.returncode == 0 and shot.exists(), pic.stderr[-2000:]
    print(f"\nreport screenshot: {shot}")
    return {"dom": dom.stdout, "console": _console(dom.stderr) + _console(pic.stderr),
            "html": page.read_text(encoding="utf-8"), "shot": shot}  # fmt: skip


def test_page_is_self_contained(rendered: dict) -> None:
    page: str = rendered["html"]
    assert not re.search(r"<script[^>]+src=|<link\b|<img\b|@import", page)
    # plotly.js inlined once, however many charts
    assert page.count("* plotly.js v") == 1
    assert page.count("Plotly.newPlot(") == 4  # four charts share it


def test_no_console_errors(rendered: dict) -> None:
    assert rendered["console"] == []


def test_every_stage_is_a_column_with_its_label(demo: dict, rendered: dict) -> None:
    dom: str = rendered["dom"]
    stages = _stages(demo["warehouse"])
    assert [s for s, _ in stages] == demo["config"].stages.order
    for code, label in stages:
        assert re.search(
            rf'<th class="stage-col" data-stage="{code}">{re.escape(label)}</th>', dom
        ), code
    # one tonality-coloured cell per stage in each of the six rows
    for row in ("customer_actions", "emotions", "touchpoints", "barriers", "opportunities",
                "metrics"):  # fmt: skip
        cells = re.findall(rf'<tr data-row="{row}">(.*?)</tr>', dom, re.S)
        assert len(cells) == 1
        assert len(re.findall(r'<td class="tone-(negative|mixed|positive|none)"', cells[0])) == 5


def test_cells_are_coloured_by_negative_share(demo: dict, rendered: dict) -> None:
    with duckdb.connect(str(demo["warehouse"]), read_only=True) as con:
        shares = dict(
            con.execute("select stage, negative_share from marts.cjm where brand = 'Finly'")
            .fetchall()
        )  # fmt: skip
    by_stage = {stage: t for t, stage in re.findall(
        r'<td class="tone-(\w+)" data-stage="(\w+)"', rendered["dom"])}  # fmt: skip
    assert by_stage == {s: band(v) for s, v in shares.items()}
    assert len(set(by_stage.values())) >= 2  # the demo has both calm and angry stages


def test_labels_in_the_brands_language(rendered: dict) -> None:
    dom: str = rendered["dom"]
    assert '<html lang="ru">' in dom
    for heading in ("Карта пути клиента — Finly", "Воронка: конверсия и время перехода",
                    "Коммуникационная карта", "Действия клиента", "Барьеры"):  # fmt: skip
        assert heading in dom, heading
    for heading in ("Customer actions", "Communication map", "Funnel"):
        assert heading not in dom, heading


def test_charts_were_drawn(rendered: dict) -> None:
    dom: str = rendered["dom"]
    for chart in ("funnel", "timeline", "flow", "keywords"):
        m = re.search(rf'<div id="chart-{chart}" class="([^"]*)"', dom)
        assert m and "js-plotly-plot" in m.group(1), chart
    assert dom.count('class="main-svg"') >= 8  # plotly drew an svg pair per chart
    assert 'class="sankey"' in dom
    assert "funnellayer" in dom and "treemaplayer" in dom
    assert "Всплеск негатива" in dom  # the demo's planted spike is marked...
    # ...where it was planted (2026-10-14 10:00-13:00 Moscow time, 07:00-10:00 UTC)
    assert re.search(r"всплеск 14\.10\.2026 0[789]:00 — 14\.10\.2026 (0[89]|10):00 UTC", dom)


def test_screenshot_is_a_real_picture(rendered: dict) -> None:
    data = rendered["shot"].read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1600, 2400)
    assert len(data) > 100_000  # a drawn page, not a blank one


def test_english_page_on_request(demo: dict, tmp_path: Path) -> None:
    out = tmp_path / "en"
    done = subprocess.run(
        [str(CJM), "--config", str(DEMO_CONFIG), "--warehouse", str(demo["warehouse"]),
         "report", "--out", str(out), "--lang", "en", "--xlsx", str(out / "cjm.xlsx")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    page = (out / "finly.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in page and "Communication map" in page
    assert "Коммуникационная карта" not in page
    wb = load_workbook(out / "cjm.xlsx")
    assert [c.value for c in wb["Communications Finly"][1]] == COMM_HEADERS_EN


def test_index_sends_an_alert_link_to_the_brand_page(demo: dict, tmp_path: Path) -> None:
    index = demo["warehouse"].parent / "report" / "index.html"
    dom = _chromium(index.as_uri() + "?brand=Finly&date=2026-10-14", "--dump-dom",
                    "--virtual-time-budget=5000", tmp=tmp_path / "u")  # fmt: skip
    assert dom.returncode == 0
    assert "Карта пути клиента — Finly" in dom.stdout and 'id="cjm-board"' in dom.stdout


def _workbook(demo: dict, tmp_path: Path) -> Path:
    out = tmp_path / "cjm.xlsx"
    done = subprocess.run(
        [str(CJM), "--config", str(DEMO_CONFIG), "--warehouse", str(demo["warehouse"]),
         "export", "xlsx", "--out", str(out)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return out


def test_xlsx_template_layout(demo: dict, tmp_path: Path) -> None:
    wb = load_workbook(_workbook(demo, tmp_path))
    # one pair of sheets per brand, the demo's two competitors after Finly
    assert wb.sheetnames == [
        f"{kind} {brand}"
        for brand in ("Finly", "Ладья Банк", "Монетто")
        for kind in ("CJM", "Коммуникации")
    ]
    with duckdb.connect(str(demo["warehouse"]), read_only=True) as con:
        comm = con.execute(
            "select stage, channel_label, negative_share from marts.communication_map "
            "where brand = 'Finly' order by stage_order, channel"
        ).fetchall()
        cjm = con.execute(
            "select negative_share from marts.cjm where brand = 'Finly' order by stage_order"
        ).fetchall()
    labels = dict(_stages(demo["warehouse"]))
    for name, headers, expected in (
        ("CJM Finly", CJM_HEADERS_RU, [(None, None, s) for (s,) in cjm]),
        ("Коммуникации Finly", COMM_HEADERS_RU, comm),
    ):
        ws = wb[name]
        assert [c.value for c in ws[1]] == headers
        assert ws.max_row == len(expected) + 1
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref == f"A1:G{len(expected) + 1}"
        for i, (_stage, _channel, share) in enumerate(expected, start=2):
            for cell in ws[i]:
                assert cell.fill.fgColor.rgb[-6:] == FILLS[band(share)], (name, i)
        fills = {ws.cell(row=i, column=1).fill.fgColor.rgb for i in range(2, ws.max_row + 1)}
        assert len(fills) >= 2
    ws = wb["Коммуникации Finly"]
    for i, (stage, channel, _) in enumerate(comm, start=2):
        assert ws.cell(row=i, column=1).value == labels[stage]
        assert ws.cell(row=i, column=2).value == channel  # the label people read
    assert [wb["CJM Finly"].cell(row=i, column=1).value for i in range(2, 7)] == list(
        labels.values()
    )


def test_cjm_show_prints_every_stage(demo: dict) -> None:
    base = [str(CJM), "--config", str(DEMO_CONFIG), "show", "--warehouse",
            str(demo["warehouse"]), "--brand", "Finly"]  # fmt: skip
    table = subprocess.run(base, capture_output=True, text=True)
    assert table.returncode == 0, table.stderr
    assert "Карта пути клиента — Finly" in table.stdout and "Действия клиента" in table.stdout
    for _, label in _stages(demo["warehouse"]):
        assert label in table.stdout, label
    comm = subprocess.run([*base, "--map"], capture_output=True, text=True)
    assert comm.returncode == 0, comm.stderr
    assert "Коммуникационная карта — Finly" in comm.stdout and "Рекомендации" in comm.stdout
    with duckdb.connect(str(demo["warehouse"]), read_only=True) as con:
        channels = {
            r[0]
            for r in con.execute("select channel_label from marts.communication_map").fetchall()
        }
    assert all(c in comm.stdout for c in channels)
    nobody = subprocess.run([*base[:-1], "Nobody"], capture_output=True, text=True)
    assert nobody.returncode == 2 and "no brand 'Nobody'" in nobody.stderr


def test_shown_prefers_the_label_column() -> None:
    df = pd.DataFrame({"stage": ["a", "b", "c"], "stage_label": ["Альфа", None, ""]})
    assert list(shown(df, "stage")) == ["Альфа", "b", "c"]
    assert list(shown(df.drop(columns="stage_label"), "stage")) == ["a", "b", "c"]


def test_the_funnel_counts_each_customer_once_per_stage(demo: dict) -> None:
    """The funnel sums the one-grain mart over cohorts and channels: entered at each step
    equals the customers marts.cjm counts at that stage, converted the next stage's."""
    with duckdb.connect(str(demo["warehouse"]), read_only=True) as con:
        mart = con.execute("select * from marts.stage_conversion where brand = 'Finly'").df()
        truth = con.execute(
            "select stage, customers from marts.cjm where brand = 'Finly' order by stage_order"
        ).fetchall()
    assert mart["period_grain"].nunique() == 1 and mart["channel_basis"].nunique() == 1
    funnel = _stage_conversion(mart)
    assert list(zip(funnel["from_stage"], funnel["entered"], strict=True)) == truth[:-1]
    assert (funnel["converted"] <= funnel["entered"]).all() and funnel["converted"].sum() > 0


def test_report_settings(tmp_path: Path) -> None:
    from cjm.core.config import parse_config
    from cjm.refresh import tasks

    base = {
        "brands": [{"name": "Acme", "keywords": ["acme"]}],
        "sources": [
            {
                "name": "f",
                "type": "file",
                "entity": "mention",
                "path": "x.csv",
                "columns": {"native_id": "id", "text": "t", "published_at": "d"},
            }
        ],
    }
    wh = str(tmp_path / "wh" / "warehouse.duckdb")
    default = parse_config(base, base_dir=tmp_path)
    assert tasks.report_dir(default, wh) == (tmp_path / "wh" / "report").resolve()
    moved = parse_config({**base, "report": {"dir": "out/pages"}}, base_dir=tmp_path)
    assert tasks.report_dir(moved, wh) == tmp_path / "out" / "pages"
    off = parse_config({**base, "report": {"enabled": False}}, base_dir=tmp_path)
    assert tasks.report(off, wh) == {"skipped": "report.enabled is false"}


def test_rows_show_label_columns_when_the_marts_have_them() -> None:
    """The marts' `<code>_label` columns (when a mart carries them) are what people read;
    without them the codes, and the stage's label from marts.cjm."""
    from cjm.report.marts import BrandMarts
    from cjm.report.tables import comm_rows

    row = {"brand": "B", "stage": "usage", "channel": "vk", "stage_order": 1,
           "touchpoint": "t", "message": "m", "goal": "g", "recommendation": "r",
           "conversion_rate": 0.5, "net_sentiment": -0.1, "negative_share": 0.5,
           "mentions": 3, "customers": 2}  # fmt: skip
    empty = pd.DataFrame()
    m = BrandMarts("B", empty, pd.DataFrame([row]), empty, empty, empty, empty, empty,
                   stage_labels={"usage": "Использование"})  # fmt: skip
    (plain,) = comm_rows(m, "ru")
    assert (plain.cells["stage"], plain.cells["channel"], plain.tone) == (
        "Использование", "vk", "negative")  # fmt: skip
    assert "конверсия в следующий этап 50%" in plain.cells["metrics"]
    m.comm_map = pd.DataFrame([{**row, "stage_label": "Польза", "channel_label": "ВКонтакте"}])
    (labelled,) = comm_rows(m, "ru")
    assert (labelled.cells["stage"], labelled.cells["channel"]) == ("Польза", "ВКонтакте")


def test_a_map_split_by_segment_names_each_rows_segment() -> None:
    """With journey_map.segment_by the communication map holds one map per segment; the
    printed rows (board, XLSX, `cjm show`) carry the segment beside the stage."""
    from cjm.report.marts import BrandMarts
    from cjm.report.tables import comm_rows

    base = {"brand": "B", "stage": "usage", "channel": "vk", "stage_order": 1,
            "touchpoint": "t", "message": "m", "goal": "g", "recommendation": "r",
            "conversion_rate": 0.5, "net_sentiment": -0.1, "negative_share": 0.5,
            "mentions": 3, "customers": 2, "stage_label": "Использование"}  # fmt: skip
    empty = pd.DataFrame()
    one = pd.DataFrame([{**base, "segment_by": "none", "segment": "all"}])
    m = BrandMarts("B", empty, one, empty, empty, empty, empty, empty)
    assert [r.cells["stage"] for r in comm_rows(m, "ru")] == ["Использование"]
    m.comm_map = pd.DataFrame(
        [{**base, "segment_by": "region", "segment": s} for s in ("Москва", "unknown")]
    )
    assert [r.cells["stage"] for r in comm_rows(m, "ru")] == [
        "Использование · Москва",
        "Использование · сегмент не указан",
    ]
