{#
    Incremental journey models (see README "Incremental models").

    Every incremental journey table carries two bookkeeping columns:
      * events_updated_at  — the newest loader `updated_at` among the raw rows a row
                             was computed from: the table's watermark is its max;
      * journey_rules_hash — int_settings_resolved.journey_rules_hash at build time.

    A run (re)builds the rows of whatever was loaded since the watermark minus
    `incremental_lookback_hours` (default 0: exactly the loads after the watermark). The watermark is the *load* time, not the event
    time, so a record that arrives late (an old occurred_at) is picked up whatever
    its age; the look-back is a margin for loads that committed out of order.
    When the rules change (config stages, event mapping, windows, settings, or
    var journey_logic_version after a logic change) the run rebuilds every
    customer and the post-hook drops the rows of the old rules, so incremental
    after full always equals one full build.
#}

{#- True on an incremental run into a table that has the bookkeeping columns. -#}
{% macro is_incremental_journey() %}
    {%- if not is_incremental() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
    {{ return('journey_rules_hash' in columns and 'events_updated_at' in columns) }}
{% endmacro %}

{#-
    Post-hook: after the new rows are in, drop every row built under other rules
    (or by an older table shape, whose rules hash is null). A run under new rules
    rebuilds every customer (loaded_since_watermark), so what this removes is only
    what the new rules no longer produce. (A post-hook because DuckDB cannot commit
    a delete and the ALTER of on_schema_change in one transaction.)
-#}
{% macro purge_if_journey_rules_changed() %}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where journey_rules_hash is distinct from (
            select journey_rules_hash from {{ ref('int_settings_resolved') }}
        )
    {%- endif -%}
{% endmacro %}

{#-
    A predicate on `updated_at_expr`: true for rows loaded after this table's
    watermark minus the look-back (always true on a full build or an empty table).
-#}
{% macro loaded_since_watermark(updated_at_expr) -%}
    {%- if is_incremental_journey() -%}
        ({{ updated_at_expr }} > coalesce(
            (select max(events_updated_at) from {{ this }})
                - to_microseconds(cast(
                    3600e6 * (select incremental_lookback_hours from {{ ref('int_settings_resolved') }})
                    as bigint
                )),
            '-infinity'::timestamptz
        )
        or exists (
            select 1 from {{ this }}
            where journey_rules_hash is distinct from (
                select journey_rules_hash from {{ ref('int_settings_resolved') }}
            )
        ))
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#-
    The rows of `relation` that belong to customers with anything loaded since the
    watermark: on an incremental run a customer's journey is rebuilt whole (and
    replaced whole: unique_key [brand, customer_key]); on a full build, every row.
-#}
{% macro rows_of_changed_customers(relation) -%}
    {%- if is_incremental_journey() -%}
        select changed_rows.*
        from {{ relation }} as changed_rows
        semi join (
            select distinct brand, customer_key
            from {{ relation }}
            where {{ loaded_since_watermark('events_updated_at') }}
        ) as changed_customers
            using (brand, customer_key)
    {%- else -%}
        select * from {{ relation }}
    {%- endif -%}
{%- endmacro %}

{#-
    Daily aggregates (marts.sentiment) are keyed by day and carry the day's
    fingerprint: bit_xor of a hash of every mention of that day as scored. A run
    rebuilds exactly the days whose fingerprint changed — new, late, updated or
    re-scored mentions (a lexicon change) — plus the six days after each, whose
    rolling 7-day values include it. Post-hook: drop days that no longer hold any
    mention (a corrected published_at moved the only mentions away).
-#}
{% macro purge_vanished_days(mentions_relation, day_expr) %}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where day not in (select distinct {{ day_expr }} from {{ mentions_relation }})
    {%- endif -%}
{% endmacro %}

{#- The stored fingerprint of each day, or none when the table predates the column. -#}
{% macro stored_day_fingerprints() -%}
    {%- set columns = [] -%}
    {%- if is_incremental() -%}
        {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
    {%- endif -%}
    {%- if 'day_fingerprint' in columns -%}
        select day, max(day_fingerprint) as day_fingerprint from {{ this }} group by day
    {%- else -%}
        select cast(null as date) as day, cast(null as ubigint) as day_fingerprint where false
    {%- endif -%}
{%- endmacro %}
