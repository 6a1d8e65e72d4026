"""Alerts on negative-mention spikes: incidents from marts.negative_spikes, sent once.

`run_alerts(config, warehouse)` is the whole step; the `cjm_alerts` DAG and
`cjm run` both call it. The detector itself is the dbt model
(int_negative_buckets_scored); `alerts.bench` measures it on generated streams.
"""

from cjm.alerts.run import AlertSummary, run_alerts

__all__ = ["AlertSummary", "run_alerts"]
