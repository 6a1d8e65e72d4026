"""Stage cues for the journey the user configured, and topics from the packs they picked.

A bank that configures `lead → application → approved → card_activated →
repeat_purchase` must get its mentions spread over those stages (not all in `lead`),
`cjm check-config` must refuse a stage no cue can reach, and topics come from domain
packs (general, banking, telecom, retail, airlines) chosen in the config. The texts below
are invented for these tests.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import duckdb
import pytest
import yaml

from cjm.core.config import parse_config
from cjm.enrichment import dbt_model
from cjm.enrichment.rules import RULE_SEEDS, SEEDS_DIR, RuleSet
from cjm.enrichment.scorer import BrandInfo, Enricher
from cjm.enrichment.stages import resolve, seed_catalogue

ROOT = Path(__file__).resolve().parents[1]
BANK_STAGES = ("lead", "application", "approved", "card_activated", "repeat_purchase")
BRAND = BrandInfo("Sever", ("север", "sever"), ("ru", "en"))

# invented bank mentions, each with the bank's stage it is about
BANK_SAMPLE: list[tuple[str, str]] = [
    ("Увидел рекламу кредитки Банка Север в метро", "lead"),
    ("Стоит ли брать кредитку в Банке Север? Кто пользовался?", "lead"),
    ("Банк Север запустил новую карту с кешбэком", "lead"),
    ("thinking about a Sever credit card, is it worth it?", "lead"),
    ("Подал заявку на кредитку в Банке Север", "application"),
    ("Заявку рассматривают уже третий день", "application"),
    ("Моя заявка в Банке Север до сих пор на рассмотрении", "application"),
    ("applied for a Sever card last week, application still pending", "application"),
    ("Одобрили кредитку за пять минут!", "approved"),
    ("Банк Север отказал в кредитке без объяснения", "approved"),
    ("got approved for the Sever card today", "approved"),
    ("Sever declined my application, no reason given", "approved"),
    ("Активировал карту в приложении, всё просто", "card_activated"),
    ("Карта пришла, сделал первую покупку", "card_activated"),
    ("Банкомат съел карту", "card_activated"),
    ("Приложение Банка Север опять не работает", "card_activated"),
    ("activated my Sever card and made the first purchase", "card_activated"),
    ("Оформил уже вторую карту в Банке Север", "repeat_purchase"),
    ("Пользуюсь Банком Север много лет, всем советую", "repeat_purchase"),
    ("ordered a second card from Sever, love it", "repeat_purchase"),
]


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return RuleSet.from_seed_dir()


def _bank(rules: RuleSet, **kwargs: object) -> Enricher:
    return Enricher(rules, [BRAND], BANK_STAGES, **kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------- custom journeys
def test_custom_stages_spread_over_the_configured_journey(rules: RuleSet) -> None:
    enricher = _bank(rules)
    found = [enricher.enrich(text, brand="Sever").stage for text, _ in BANK_SAMPLE]
    counts = Counter(found)
    # every configured stage gets mentions, and no stage holds most of them
    assert set(counts) == set(BANK_STAGES), counts
    assert max(counts.values()) <= len(BANK_SAMPLE) // 2, counts
    right = sum(got == want for got, (_, want) in zip(found, BANK_SAMPLE, strict=True))
    assert right >= 0.8 * len(BANK_SAMPLE), list(zip(found, BANK_SAMPLE, strict=True))


def test_positional_mapping_of_a_custom_journey() -> None:
    cue_map = resolve(BANK_STAGES, None, seed_catalogue())
    assert not cue_map.errors
    # `application` is a cue set of its own (name); the rest by position, finer sets
    # (approval, activation, repeat) follow the standard set they are part of
    assert cue_map.how["application"] == "name"
    assert cue_map.sets["lead"] == ("awareness", "consideration")
    assert set(cue_map.sets["approved"]) == {"purchase", "approval"}
    assert set(cue_map.sets["card_activated"]) == {"usage", "activation"}
    assert set(cue_map.sets["repeat_purchase"]) == {"loyalty", "repeat"}
    assert cue_map.churn_stage == "repeat_purchase"
    # fewer stages than cue sets: neighbours share, purchase leans to the later stage
    two = resolve(("prospect", "customer"), None, seed_catalogue())
    assert set(two.sets["prospect"]) == {"awareness", "consideration"}
    assert {"purchase", "usage", "loyalty"} <= set(two.sets["customer"])


def test_explicit_stage_cues_mapping(rules: RuleSet) -> None:
    stages = ("prospect", "applied", "decision", "active", "repeat_purchase")
    mapping = {
        "prospect": ["awareness", "consideration"],
        "applied": ["application"],
        "decision": ["approval", "purchase"],
        "active": ["activation", "usage"],
        "repeat_purchase": ["repeat", "loyalty"],
    }
    enricher = Enricher(rules, [BRAND], stages, stage_cues=mapping)
    assert enricher.cue_map.how == dict.fromkeys(stages, "explicit")
    expected = {
        "Заявку рассматривают уже третий день": "applied",
        "отказал в кредитке": "decision",
        "Банкомат съел карту": "active",
        "Оформил уже вторую карту": "repeat_purchase",
        "Стоит ли открывать вклад?": "prospect",
    }
    got = {text: enricher.enrich(text).stage for text in expected}
    assert got == expected
    # churn keeps its journey stage and lands in the last stage unless mapped
    churn = enricher.enrich("Закрываю счёт, ухожу в другой банк")
    assert (churn.journey_stage, churn.stage) == ("churn", "repeat_purchase")
    # the same cue set moved by the mapping moves the answer
    moved_sets = {"applied": ["consideration"], "decision": ["application", "approval", "purchase"]}
    moved = Enricher(rules, [BRAND], stages, stage_cues={**mapping, **moved_sets})
    assert moved.enrich("Заявку рассматривают уже третий день").stage == "decision"


def _config(tmp_path: Path, stages: dict[str, object], **extra: object) -> Path:
    path = tmp_path / "bank.yml"
    data = {
        "brands": [{"name": "Sever", "keywords": ["север", "sever"]}],
        "sources": [
            {
                "name": "export",
                "type": "file",
                "path": "mentions.csv",
                "entity": "mention",
                "columns": {"native_id": "id", "text": "text", "published_at": "ts"},
            }
        ],
        "stages": stages,
        **extra,
    }
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _check_config(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        # the real console script of the venv running the tests (.venv/bin/cjm)
        [str(Path(sys.executable).with_name("cjm")), "check-config", "--config", str(path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


def test_check_config_fails_on_a_stage_without_cues(tmp_path: Path) -> None:
    # six stages, none named like a cue set: five standard sets by position, one left over
    order = ["lead", "application_sent", "approved", "card_issued", "card_activated", "repeat"]
    order[-1] = "repeat_purchase"
    path = _config(tmp_path, {"order": order})
    result = _check_config(path)
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{path}: stages.order[2]: stage 'approved' has no stage cues")
    assert "stages.stage_cues" in lines[0] and "stage_cues.csv" in lines[0]
    # an explicit mapping fixes it, and check-config shows what each stage reads
    fixed = _config(tmp_path, {"order": order, "stage_cues": {"approved": ["approval"]}})
    result = _check_config(fixed)
    assert result.returncode == 0, result.stderr
    assert "approved ← approval (explicit)" in result.stdout


def test_check_config_names_an_unknown_cue_set_and_pack(tmp_path: Path) -> None:
    path = _config(
        tmp_path,
        {"order": list(BANK_STAGES), "stage_cues": {"approved": ["aproval"]}},
        enrichment={"topic_packs": ["general", "bankng"]},
    )
    result = _check_config(path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith(f"{path}: stages.stage_cues.approved[0]: no cue set 'aproval'")
    assert lines[1].startswith(f"{path}: enrichment.topic_packs[1]: no topic pack 'bankng'")


def test_stage_cues_keys_must_be_configured_stages(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"stages: stage_cues: stage\(s\) \['aproved'\]"):
        parse_config(
            yaml.safe_load(
                _config(
                    tmp_path, {"order": list(BANK_STAGES), "stage_cues": {"aproved": ["approval"]}}
                ).read_text(encoding="utf-8")
            )
        )


# ---------------------------------------------------------------- the trial's misreadings
@pytest.mark.parametrize(
    ("text", "topic", "stage", "sentiment"),
    [
        ("отказал в кредитке", "credit_decision", "approved", "negative"),
        ("заявку рассматривают уже третий день", "credit_decision", "application", "negative"),
        ("банкомат съел карту", "atms", "card_activated", "negative"),
        ("Ставка по вкладу 22% — это не развод?", "deposit_rates", None, "negative"),
    ],
)
def test_trial_misreadings(
    rules: RuleSet, text: str, topic: str, stage: str | None, sentiment: str
) -> None:
    result = _bank(rules).enrich(text, brand="Sever")
    assert topic in result.topics
    assert result.topics != ["trust"]
    if stage:
        assert result.stage == stage
    assert result.sentiment == sentiment
    # on the default journey the same cues mean purchase / usage
    default = Enricher(rules, [BRAND]).enrich(text, brand="Sever")
    assert default.stage in {"purchase", "usage", "consideration"}


def test_waiting_for_a_decision_is_a_barrier(rules: RuleSet) -> None:
    result = _bank(rules).enrich("заявку рассматривают уже третий день", brand="Sever")
    assert {"credit_decision", "response_speed"} <= set(result.barriers)


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("Отказали в ипотеке, кредитная история чистая", "credit_decision"),
        ("my loan application was denied", "credit_decision"),
        ("Перевыпуск карты занял месяц", "cards"),
        ("the replacement card never came", "cards"),
        ("Банкомат не выдал наличные", "atms"),
        ("the ATM swallowed my card", "atms"),
        ("Снизили ставку по вкладу", "deposit_rates"),
        ("savings rate dropped again", "deposit_rates"),
        ("Заблокировали счёт по 115-ФЗ", "account_blocks"),
        ("they froze my account for no reason", "account_blocks"),
        ("При выдаче кредита навязали страховку", "insurance_upsell"),
        ("forced insurance on my loan", "insurance_upsell"),
        ("Нет сети на даче", "connectivity"),
        ("Мобильный интернет еле грузит", "mobile_internet"),
        ("mobile data is throttled", "mobile_internet"),
        ("Сменили тариф без предупреждения", "tariffs_billing"),
        ("my monthly bill doubled", "tariffs_billing"),
        ("Перенос номера к другому оператору две недели", "number_porting"),
        ("they won't port my number", "number_porting"),
        ("Задержка доставки уже неделю", "delivery"),
        ("Не принимают возврат товара", "returns"),
        ("the return label doesn't work", "returns"),
        ("Курьерская служба потеряла заказ", "couriers"),
        ("the delivery driver left it at the door", "couriers"),
        ("В постамат не влезла посылка", "pickup_points"),
        ("the parcel locker was full", "pickup_points"),
        ("Не могу пройти онлайн регистрацию на рейс", "check_in"),
        ("boarding pass wouldn't load", "check_in"),
        ("Возврат билета обещают через месяц", "refunds"),
        ("Потеряли багаж при пересадке", "baggage"),
    ],
)
def test_domain_pack_topics(rules: RuleSet, text: str, topic: str) -> None:
    assert topic in Enricher(rules).enrich(text).topics


# ---------------------------------------------------------------- topic packs
def test_topic_pack_config_changes_the_topics(rules: RuleSet) -> None:
    text = "Банкомат съел карту, а рейс задержали"
    everything = Enricher(rules).enrich(text).topics
    assert {"atms", "cards", "punctuality"} <= set(everything)
    bank = Enricher(rules, topic_packs=["general", "banking"]).enrich(text).topics
    assert {"atms", "cards"} <= set(bank) and "punctuality" not in bank
    general = Enricher(rules, topic_packs=["general"]).enrich(text).topics
    assert not {"atms", "cards", "punctuality"} & set(general)
    # per brand: the airline keeps its delays, the bank does not
    per_brand = Enricher(
        rules,
        [BRAND, BrandInfo("Aero", ("aero",))],
        topic_packs_by_brand={"Sever": ["general", "banking"], "Aero": ["general", "airlines"]},
    )
    assert "punctuality" not in per_brand.enrich(text, brand="Sever").topics
    assert "punctuality" in per_brand.enrich(text, brand="Aero").topics
    assert "atms" not in per_brand.enrich(text, brand="Aero").topics


def test_every_topic_belongs_to_one_pack_and_has_a_label() -> None:
    with (SEEDS_DIR / "topic_keywords.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    packs = {row["pack"] for row in rows}
    assert {"general", "banking", "telecom", "retail", "airlines"} <= packs
    with (SEEDS_DIR / "display_labels.csv").open(encoding="utf-8", newline="") as fh:
        labels = {
            (row["code"], language): row[f"label_{language}"]
            for row in csv.DictReader(fh)
            if row["kind"] == "topic"
            for language in ("ru", "en")
        }
    for topic in {row["topic"] for row in rows}:
        for language in ("ru", "en"):
            assert labels.get((topic, language)), (topic, language)
    # labels are words people read, not identifiers
    assert labels[("atms", "ru")] == "Банкоматы"
    assert all("_" not in label for label in labels.values())


# ---------------------------------------------------------------- seeds stay in charge
def _copy_seeds(tmp_path: Path) -> Path:
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS_DIR, target)
    return target


def test_seed_edit_gives_a_custom_stage_its_own_cues(tmp_path: Path) -> None:
    text = "Наконец выпустили мне пластик"
    before = _bank(RuleSet.from_seed_dir()).enrich(text)
    seeds = _copy_seeds(tmp_path)
    with (seeds / "stage_cues.csv").open("a", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerow(
            ["card_activated", "ru", "выпустить", "60", ""]
        )
    edited = RuleSet.from_seed_dir(seeds)
    after = _bank(edited).enrich(text)
    assert before.stage != "card_activated"
    assert after.stage == "card_activated"
    assert _bank(edited).cue_map.how["card_activated"] == "name"
    assert edited.hash != RuleSet.from_seed_dir().hash


def test_seed_edit_adds_a_pack_topic(tmp_path: Path) -> None:
    text = "Кэшбэк за ЖКУ опять не начислили"
    seeds = _copy_seeds(tmp_path)
    with (seeds / "topic_keywords.csv").open("a", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerow(["utilities", "ru", "жку", "banking"])
    edited = RuleSet.from_seed_dir(seeds)
    assert "utilities" in Enricher(edited).enrich(text).topics
    assert "utilities" not in Enricher(edited, topic_packs=["general"]).enrich(text).topics


# ---------------------------------------------------------------- the dbt model's rules hash
def _build(settings: dict[str, str]) -> list[dict[str, object]]:
    con = duckdb.connect()
    for name in RULE_SEEDS:
        con.execute(
            f"create table {name} as select * from read_csv('{SEEDS_DIR / name}.csv', "
            "all_varchar = true, header = true)"
        )
    con.execute(
        "create table mentions as select 'm1' as mention_id, 'telegram' as source_type, "
        "'Sever' as brand, null::varchar as url, 'ivan' as author, null::varchar as title, "
        "'заявку рассматривают уже третий день' as text, null::varchar as language, "
        "timestamptz '2024-01-10 00:00:00+00' as updated_at"
    )
    con.execute(
        "create table brands as select 'Sever' as brand, ['север'] as keywords, ['ru'] as languages"
    )
    con.execute(
        "create table stages as select * from (values "
        + ", ".join(f"('{s}', {i + 1})" for i, s in enumerate(BANK_STAGES))
        + ") t(stage, stage_order)"
    )
    con.execute("create table settings (setting_key varchar, setting_value varchar)")
    for key, value in settings.items():
        con.execute("insert into settings values (?, ?)", [key, value])
    reader = dbt_model.build(
        session=con,
        mentions=con.table("mentions"),
        brands=con.table("brands"),
        stages=con.table("stages"),
        seeds={name: con.table(name) for name in RULE_SEEDS},
        this=None,
        is_incremental=False,
        settings=con.table("settings"),
    )
    # the model body streams its batches (a RecordBatchReader, as dbt-duckdb copies it)
    return reader.read_all().to_pylist()


def test_mapping_and_packs_are_in_the_rules_hash() -> None:
    plain = _build({})[0]
    swapped = '{"application": ["approval"], "approved": ["application", "purchase"]}'
    mapped = _build({"stage_cues": swapped})[0]
    packs = _build({"topic_packs": '{"*": ["general"]}'})[0]
    assert plain["stage"] == "application" and mapped["stage"] == "approved"
    assert "credit_decision" in plain["topics"] and "credit_decision" not in packs["topics"]
    assert len({plain["rules_hash"], mapped["rules_hash"], packs["rules_hash"]}) == 3
