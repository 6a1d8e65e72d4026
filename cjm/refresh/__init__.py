"""The orchestration layer: the refresh steps (extract → validate → load → dbt →
publish → alerts) that the CLI and the Airflow DAGs call. It composes the capabilities;
none of them imports it."""
