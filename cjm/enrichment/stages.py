"""Which stage cues (rows of `seeds/stage_cues.csv`) speak for which configured stage.

The cue seed is written for one journey, awareness → consideration → purchase → usage →
loyalty (plus churn, a journey stage of its own). A user who configures their own journey
(`lead → application → approved → card_activated → repeat_purchase`) must not get every
mention in the first stage because no cue carries their stage names, so each configured
stage is given one or more *cue sets* (the values of the seed's `stage` column):

1. an explicit `stages.stage_cues` entry in the config (`approved: [approval]`);
2. else a cue set of the same name, if the seed has one (standard names, or cues an
   analyst wrote for a custom stage name);
3. else, by position: the five standard cue sets not claimed by 1-2 go to the nearest
   remaining configured stage (first ↔ awareness … last ↔ loyalty; with fewer stages,
   neighbours share a stage; on a tie awareness/consideration go to the earlier stage,
   purchase and later to the later one). With more than five stages some are left
   without cues, and the config is refused rather than leaving them silently empty.

A cue set may be *part of* a standard one (the seed's `part_of` column: `application`
and `approval` are part of `purchase`): whoever gets the standard set also gets those
finer sets, unless a configured stage claimed them itself. So the default journey keeps
every purchase cue, and a bank can give "заявка на рассмотрении" and "одобрили" stages of
their own.

`churn` is never handed out by position: its cues keep `journey_stage = 'churn'` and
land in the stage that claimed the churn set, else in the last configured stage.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cjm.core.config import Config

STANDARD_SETS = ("awareness", "consideration", "purchase", "usage", "loyalty")
CHURN = "churn"


@dataclass(frozen=True)
class StageCueMap:
    """The resolved mapping: configured stage → cue sets, and how each was chosen."""

    order: tuple[str, ...]
    sets: dict[str, tuple[str, ...]]
    how: dict[str, str]  # explicit | name | position
    errors: tuple[str, ...]  # one line per problem, each starting with its YAML path

    def stage_of_set(self) -> dict[str, str]:
        """Cue set → the configured stage its cues vote for (the earliest, if shared)."""
        out: dict[str, str] = {}
        for stage in self.order:
            for name in self.sets.get(stage, ()):
                out.setdefault(name, stage)
        return out

    @property
    def churn_stage(self) -> str | None:
        """Where churn cues land: the stage that took the churn set, else the last one."""
        return self.stage_of_set().get(CHURN) or (self.order[-1] if self.order else None)

    @property
    def first_stage(self) -> str | None:
        """Where a mention without any cue lands: the stage of the awareness cues (the
        journey's entry), else the first configured stage."""
        return self.stage_of_set().get("awareness") or (self.order[0] if self.order else None)

    def describe(self) -> str:
        """One line for `cjm check-config`: `lead ← awareness+consideration (position), …`."""
        parts = []
        for stage in self.order:
            sets = "+".join(self.sets.get(stage, ())) or "nothing"
            parts.append(f"{stage} ← {sets} ({self.how.get(stage, '-')})")
        return ", ".join(parts)

    def as_config(self) -> dict[str, list[str]]:
        """The mapping as plain data, for the rules hash (a change re-scores mentions)."""
        return {stage: list(self.sets.get(stage, ())) for stage in self.order}


def catalogue(rows: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Cue sets of a stage_cues table: name → the standard set it is part of (or itself)."""
    out: dict[str, str] = {}
    for row in rows:
        name = str(row.get("stage") or "").strip()
        if not name:
            continue
        parent = str(row.get("part_of") or "").strip() or name
        out.setdefault(name, parent)
    return out


def seed_catalogue(seeds_dir: Path | str | None = None) -> dict[str, str]:
    """The cue sets of the seed CSV the scorer and dbt read (for `cjm check-config`)."""
    from cjm.enrichment.rules import SEEDS_DIR

    path = Path(seeds_dir or SEEDS_DIR) / "stage_cues.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        return catalogue(csv.DictReader(fh))


def resolve(
    order: Sequence[str],
    explicit: Mapping[str, Sequence[str]] | None,
    sets: Mapping[str, str],
) -> StageCueMap:
    """Give every configured stage its cue sets (rules in the module docstring)."""
    explicit = explicit or {}
    errors: list[str] = []
    bad: set[str] = set()  # stages whose explicit entry named an unknown cue set
    direct: dict[str, list[str]] = {}
    how: dict[str, str] = {}
    for stage in order:
        if stage in explicit:
            chosen = []
            for i, name in enumerate(explicit[stage]):
                if name in sets:
                    chosen.append(name)
                else:
                    bad.add(stage)
                    errors.append(
                        f"stages.stage_cues.{stage}[{i}]: no cue set {name!r} in "
                        f"seeds/stage_cues.csv (known: {', '.join(sorted(sets))})"
                    )
            direct[stage] = chosen
            how[stage] = "explicit"
        elif stage in sets:
            direct[stage] = [stage]
            how[stage] = "name"
    claimed = {name for chosen in direct.values() for name in chosen}
    open_stages = [i for i, stage in enumerate(order) if stage not in direct]
    last = max(len(order) - 1, 1)
    for k, name in enumerate(STANDARD_SETS):
        if name in claimed or name not in sets or not open_stages:
            continue
        # distance between relative positions k/4 and i/last, in integers (no float ties)
        later_on_tie = k >= 2

        def distance(i: int, k: int = k, later: bool = later_on_tie) -> tuple[int, int]:
            return (abs(k * last - 4 * i), -i if later else i)

        stage = order[min(open_stages, key=distance)]
        direct.setdefault(stage, []).append(name)
        how[stage] = "position"
    assigned = {name for chosen in direct.values() for name in chosen}
    final: dict[str, tuple[str, ...]] = {}
    for stage in order:
        chosen = list(direct.get(stage, ()))
        for name, parent in sets.items():
            if parent != name and parent in chosen and name not in assigned:
                chosen.append(name)
        final[stage] = tuple(chosen)
    for i, stage in enumerate(order):
        if final[stage] or stage in bad:
            continue
        where = f"stages.stage_cues.{stage}" if stage in explicit else f"stages.order[{i}]"
        errors.append(
            f"{where}: stage {stage!r} has no stage cues; map it to cue sets in "
            f"stages.stage_cues (e.g. {stage}: [purchase]; known: {', '.join(sorted(sets))}) "
            f"or add cues for {stage!r} to dbt_project/seeds/stage_cues.csv"
        )
    return StageCueMap(tuple(order), final, how, tuple(errors))


def config_errors(config: Config) -> list[str]:
    """What the config asks of the rule seeds that they cannot give: a configured stage
    without stage cues (its mentions would silently go elsewhere) or an unknown topic
    pack. One line per problem, each starting with its YAML path."""
    from cjm.enrichment.rules import GENERAL_PACK, SEEDS_DIR

    stages = config.stages
    errors = list(resolve(stages.order, stages.stage_cues, seed_catalogue()).errors)
    with (SEEDS_DIR / "topic_keywords.csv").open(encoding="utf-8", newline="") as fh:
        known = {(row.get("pack") or "").strip() or GENERAL_PACK for row in csv.DictReader(fh)}
    picks = [("enrichment.topic_packs", config.enrichment.topic_packs or [])]
    picks += [
        (f"enrichment.topic_packs_by_brand.{brand}", packs)
        for brand, packs in config.enrichment.topic_packs_by_brand.items()
    ]
    for where, packs in picks:
        for i, pack in enumerate(packs):
            if pack not in known:
                errors.append(
                    f"{where}[{i}]: no topic pack {pack!r} in seeds/topic_keywords.csv "
                    f"(known: {', '.join(sorted(known))})"
                )
    return errors
