"""Synthetic CRM journeys with known conversion rates and channel effects.

Shared by tests/test_planted_journeys.py (a few thousand customers, exact answers)
and cjm/bench/journeys.py (a million events). Seeded: the same arguments give the
same events. Each customer meets the brand through one channel (all their events
carry it), so first-touch and stage-entry breakdowns agree and every number the
marts report can be recomputed here from the frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from cjm.core.config import Config
from cjm.core.contracts import CRM_EVENT_SCHEMA

BRAND = "Acme"
START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
WINDOW_DAYS = 30
STAGES = ["awareness", "consideration", "purchase", "usage", "loyalty"]
EVENT_STAGES = {
    "site_visit": "awareness",
    "lead": "consideration",
    "order_paid": "purchase",
    "support_ticket": "usage",
    "renewal": "loyalty",
}
# channel: (share of customers, P(visit → lead), P(lead → order))
CHANNELS: dict[str, tuple[float, float, float]] = {
    "search": (0.35, 0.45, 0.60),
    "social": (0.25, 0.30, 0.40),
    "referral": (0.15, 0.65, 0.75),
    "email": (0.25, 0.50, 0.55),
}
P_SKIP_ORDER = 0.05  # visitors without a lead who order anyway (lead is inferred)
P_LATE_ORDER = 0.10  # orders placed 40-60 days after the lead: outside the window
P_TICKET = 0.5  # buyers who file a support ticket
P_EMAIL_OPEN = 0.3  # unmapped touches between the visit and the lead


@dataclass(frozen=True)
class Journeys:
    events: pd.DataFrame  # contract-shaped raw.crm_events rows (without loaded_at)
    customers: pd.DataFrame  # one row per customer: channel and stage times


def journey_config() -> Config:
    return Config.model_validate(
        {
            "brands": [{"name": BRAND, "keywords": ["acme"]}],
            "sources": [
                {
                    "name": "crm",
                    "type": "file",
                    "entity": "crm_event",
                    "path": "unused/*.csv",
                    "columns": {
                        "native_id": "id",
                        "customer_key": "customer",
                        "event_type": "type",
                        "occurred_at": "at",
                    },
                }
            ],
            "stages": {
                "order": STAGES,
                "event_stages": EVENT_STAGES,
                "conversion_window_days": WINDOW_DAYS,
                "period_grains": ["week", "month"],
            },
        }
    )


def generate(n_customers: int, days: int = 90, seed: int = 20261125) -> Journeys:
    rng = np.random.default_rng(seed)
    names = list(CHANNELS)
    shares = np.array([CHANNELS[c][0] for c in names])
    channel_ix = rng.choice(len(names), size=n_customers, p=shares / shares.sum())
    p_lead = np.array([CHANNELS[c][1] for c in names])[channel_ix]
    p_order = np.array([CHANNELS[c][2] for c in names])[channel_ix]
    hour = 3600.0
    visit = rng.uniform(0, days * 24 * hour, n_customers)
    has_lead = rng.random(n_customers) < p_lead
    lead = visit + rng.exponential(12 * hour, n_customers)
    has_order = np.where(has_lead, rng.random(n_customers) < p_order, False)
    skip = ~has_lead & (rng.random(n_customers) < P_SKIP_ORDER)
    is_late = has_order & (rng.random(n_customers) < P_LATE_ORDER)
    order = np.where(
        has_lead,
        lead + rng.exponential(36 * hour, n_customers),
        visit + rng.exponential(36 * hour, n_customers),
    )
    order = np.where(is_late, lead + rng.uniform(40, 60, n_customers) * 24 * hour, order)
    bought = has_order | skip
    has_ticket = bought & (rng.random(n_customers) < P_TICKET)
    ticket = order + rng.exponential(4 * 24 * hour, n_customers)
    has_open = rng.random(n_customers) < P_EMAIL_OPEN
    email_open = visit + rng.uniform(0, 1, n_customers) * (lead - visit)

    customer_keys = np.array([f"cust{i:07d}" for i in range(n_customers)])
    channels = np.array(names)[channel_ix]
    parts = []
    for event_type, mask, seconds in (
        ("site_visit", np.ones(n_customers, dtype=bool), visit),
        ("email_open", has_open, email_open),
        ("lead", has_lead, lead),
        ("order_paid", bought, order),
        ("support_ticket", has_ticket, ticket),
    ):
        parts.append(
            pd.DataFrame(
                {
                    "customer_key": customer_keys[mask],
                    "event_type": event_type,
                    "channel": channels[mask],
                    "seconds": np.floor(seconds[mask]),
                }
            )
        )
    events = pd.concat(parts, ignore_index=True)
    events = events.sort_values(["seconds", "customer_key", "event_type"], ignore_index=True)
    n = len(events)
    events["event_id"] = [f"ev{i:09d}" for i in range(n)]
    events["occurred_at"] = pd.Timestamp(START) + pd.to_timedelta(events["seconds"], unit="s")
    events = events.drop(columns="seconds")
    events["source"] = "crm"
    events["native_id"] = events["event_id"]
    events["brand"] = BRAND
    events["touchpoint"] = events["event_type"].map(
        {"site_visit": "landing_page", "lead": "form", "order_paid": "checkout"}
    )
    events["campaign"] = events["channel"] + "_campaign"
    events["message"] = None
    events["amount"] = np.where(events["event_type"] == "order_paid", 990.0, np.nan)
    events["run_id"] = "planted"
    customers = pd.DataFrame(
        {
            "customer_key": customer_keys,
            "channel": channels,
            "visit": visit,
            "has_lead": has_lead,
            "lead": lead,
            "bought": bought,
            "has_order_after_lead": has_order,
            "skip": skip,
            "order": order,
        }
    )
    return Journeys(events=events, customers=customers)


# The crm_event contract without attributes (the planted journeys carry none).
RAW_COLUMNS = [name for name in CRM_EVENT_SCHEMA.names if name != "attributes"]


def insert_events(con: Any, events: pd.DataFrame, loaded_at: datetime) -> None:
    """Insert contract rows into raw.crm_events as one load stamped `loaded_at`."""
    frame = events[RAW_COLUMNS].copy()
    frame["loaded_at"] = loaded_at
    frame["updated_at"] = loaded_at
    con.register("_planted", frame)
    con.execute(
        f"insert into raw.crm_events ({', '.join(RAW_COLUMNS)}, loaded_at, updated_at) "
        f"select {', '.join(RAW_COLUMNS)}, loaded_at, updated_at from _planted"
    )
    con.unregister("_planted")


def expected_funnel(customers: pd.DataFrame) -> pd.DataFrame:
    """Per channel: the exact awareness → consideration → purchase counts the marts must give.

    Definitions as in int_customer_stage_entries / int_stage_transitions_measured: a
    skipped lead (an order without one) is an inferred lead at the order, which
    counts as converted from the visit (within the window) and into the order.
    """
    window = WINDOW_DAYS * 24 * 3600.0
    c = customers
    lead_at = np.where(c["has_lead"], c["lead"], np.where(c["skip"], c["order"], np.nan))
    entered_lead = c["has_lead"] | c["skip"]
    visit_to_lead = entered_lead & (lead_at - c["visit"] <= window)
    lead_to_order = (c["has_order_after_lead"] & (c["order"] - c["lead"] <= window)) | c["skip"]
    frame = pd.DataFrame(
        {
            "channel": c["channel"],
            "visits": 1,
            "visit_to_lead": visit_to_lead.astype(int),
            "leads": entered_lead.astype(int),
            "leads_inferred": c["skip"].astype(int),
            "observed_leads": c["has_lead"].astype(int),
            "observed_lead_to_order": (
                c["has_order_after_lead"] & (c["order"] - c["lead"] <= window)
            ).astype(int),
            "lead_to_order": lead_to_order.astype(int),
            "conversions": c["bought"].astype(int),
        }
    )
    return frame.groupby("channel").sum()
