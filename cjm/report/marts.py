"""Reading the marts the report, the XLSX export and `cjm show` are made of.

They read either the warehouse (`marts.*` schema) or the published BI copy (the same
tables in the file's own schema), so one page can be made from whichever a user has.
Everything is read in one read-only connection, closed before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

# Tonality bands of a negative share, highest first: (lower bound, name, fill colour).
# The board, the communication map and the XLSX fills share them.
TONES: tuple[tuple[float, str, str], ...] = (
    (0.4, "negative", "#f4c7c3"),
    (0.2, "mixed", "#fce8b2"),
    (0.0, "positive", "#c8e6c9"),
)
NO_TONE = ("none", "#eeeeee")  # no mentions: nothing to judge


def tone(negative_share: float | None) -> tuple[str, str]:
    """(band name, fill colour) of a negative share; NO_TONE when there is none."""
    if negative_share is None or pd.isna(negative_share):
        return NO_TONE
    for lower, name, colour in TONES:
        if negative_share >= lower:
            return name, colour
    return TONES[-1][1], TONES[-1][2]


def shown(df: pd.DataFrame, column: str) -> pd.Series:
    """What people read for a code column: its `<column>_label` where the mart has one
    (the label in the brand's language), the code itself where it has not or the label
    is empty. The one place the report decides between a code and its label."""
    label = f"{column}_label"
    if label in df.columns:
        return df[label].where(df[label].notna() & (df[label] != ""), df[column])
    return df[column]


class MartsMissing(RuntimeError):
    """The file has no marts (dbt never ran, or it is not a CJM warehouse)."""


@dataclass
class BrandMarts:
    """One brand's slice of every mart the report draws."""

    brand: str
    cjm: pd.DataFrame
    comm_map: pd.DataFrame
    funnel: pd.DataFrame
    sentiment: pd.DataFrame
    spikes: pd.DataFrame
    flow: pd.DataFrame
    keywords: pd.DataFrame
    stage_labels: dict[str, str] = field(default_factory=dict)


def _schema(con: duckdb.DuckDBPyConnection) -> str:
    """`src.marts` in a warehouse, `src.main` in the BI copy (its tables sit in the
    file's default schema, which BI tools see as `marts.*` after the file name)."""
    schemas = {
        r[0]
        for r in con.execute(
            "select distinct table_schema from information_schema.tables "
            "where table_catalog = 'src' and table_name = 'cjm'"
        ).fetchall()
    }
    for name in ("marts", "main"):
        if name in schemas:
            return f"src.{name}"
    raise MartsMissing("no marts.cjm table: run `cjm run` (or `cjm demo`) first")


def _stage_conversion(df: pd.DataFrame) -> pd.DataFrame:
    """Customers entered and converted per stage step, summed over cohorts and channels.

    `marts.stage_conversion` has one grain (the configured cohort grain and channel
    basis), so its counts add up: each customer's entry falls in one cohort and one
    channel. The time to convert is the cohort medians weighted by customers converted.
    """
    if df.empty:
        return pd.DataFrame(
            columns=[
                "from_stage",
                "to_stage",
                "from_stage_order",
                "entered",
                "converted",
                "conversion_rate",
                "hours_to_convert",
            ]
        )
    df = df.assign(
        weighted_hours=df["median_hours_to_convert"].fillna(0) * df["customers_converted"]
    )
    out = (
        df.groupby(["from_stage", "to_stage", "from_stage_order"], as_index=False)
        .agg(
            entered=("customers_entered", "sum"),
            converted=("customers_converted", "sum"),
            weighted_hours=("weighted_hours", "sum"),
        )
        .sort_values("from_stage_order")
    )
    out["conversion_rate"] = out["converted"] / out["entered"].where(out["entered"] > 0)
    out["hours_to_convert"] = out["weighted_hours"] / out["converted"].where(out["converted"] > 0)
    return out.drop(columns="weighted_hours").reset_index(drop=True)


def _naive_utc(ts: pd.Series) -> pd.Series:
    """Charts take wall-clock times; these are UTC (the connection's time zone)."""
    return ts.dt.tz_localize(None) if getattr(ts.dt, "tz", None) is not None else ts


def _incidents(spikes: pd.DataFrame) -> pd.DataFrame:
    """One row per spike incident: from its first spike bucket to the end of its last
    (the bucket length is the mart's step: an hour or a day), negative mentions."""
    hot = spikes[spikes["is_spike"].fillna(False)] if len(spikes) else spikes
    if hot.empty:
        return pd.DataFrame(columns=["start", "end", "negative_mentions"])
    steps = _naive_utc(spikes["bucket_start"]).drop_duplicates().sort_values().diff().dropna()
    bucket = steps.min() if len(steps) else pd.Timedelta(hours=1)
    key = hot["incident_start"].fillna(hot["bucket_start"])
    out = (
        hot.assign(incident=key, bucket_start=_naive_utc(hot["bucket_start"]))
        .groupby("incident", as_index=False)
        .agg(
            start=("bucket_start", "min"),
            end=("bucket_start", "max"),
            negative_mentions=("negative_mentions", "sum"),
        )
        .drop(columns="incident")
        .sort_values("start")
        .reset_index(drop=True)
    )
    out["end"] = out["end"] + bucket
    return out


def read_marts(path: Path, brand: str | None = None) -> list[BrandMarts]:
    """Every brand's marts (or only `brand`'s), brands in name order."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such warehouse")
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        quoted = str(path).replace("'", "''")
        con.execute(f"attach '{quoted}' as src (read_only)")
        s = _schema(con)

        def table(name: str, order: str = "") -> pd.DataFrame:
            sql = f"select * from {s}.{name}" + (f" order by {order}" if order else "")
            return con.execute(sql).df()

        cjm = table("cjm", "brand, stage_order")
        comm = table("communication_map", "brand, segment, stage_order, channel")
        conversion = table("stage_conversion")
        sentiment = con.execute(
            f"select brand, day, sum(positive) as positive, sum(neutral) as neutral, "
            f"sum(negative) as negative, sum(mentions) as mentions "
            f"from {s}.sentiment group by all order by brand, day"
        ).df()
        spikes = table("negative_spikes", "brand, bucket_start")
        flow = table("touchpoints", "brand, stage_order, channel")
        keywords = table("keyword_map", "brand, frequency_rank")
    finally:
        con.close()
    brands = sorted(set(cjm["brand"]))
    if not brands:
        raise MartsMissing(f"{path}: marts.cjm has no rows; did a refresh load any data?")
    if brand is not None:
        if brand not in brands:
            raise KeyError(f"{path}: no brand {brand!r} in marts.cjm (brands: {brands})")
        brands = [brand]
    out = []
    for b in brands:
        mine = cjm[cjm["brand"] == b].reset_index(drop=True)
        labels = dict(zip(mine["stage"], shown(mine, "stage"), strict=True))
        out.append(
            BrandMarts(
                brand=b,
                cjm=mine,
                comm_map=comm[comm["brand"] == b].reset_index(drop=True),
                funnel=_stage_conversion(conversion[conversion["brand"] == b]),
                sentiment=sentiment[sentiment["brand"] == b].reset_index(drop=True),
                spikes=_incidents(spikes[spikes["brand"] == b]),
                flow=flow[flow["brand"] == b].reset_index(drop=True),
                keywords=keywords[keywords["brand"] == b].reset_index(drop=True),
                stage_labels=labels,
            )
        )
    return out
