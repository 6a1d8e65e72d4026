{#
    Truncate a UTC timestamp (timestamptz) to a bucket, in UTC whatever the
    session time zone, and return a timestamptz.
#}
{% macro utc_trunc(part, expr) -%}
    (date_trunc('{{ part }}', ({{ expr }}) at time zone 'UTC') at time zone 'UTC')
{%- endmacro %}

{#- The UTC calendar date of a timestamptz. -#}
{% macro utc_date(expr) -%}
    cast(({{ expr }}) at time zone 'UTC' as date)
{%- endmacro %}

{#- Hours between two timestamptz values (b - a), as a double. -#}
{% macro hours_between(a, b) -%}
    ((epoch({{ b }}) - epoch({{ a }})) / 3600.0)
{%- endmacro %}

{#-
    The IANA zone people read days and hours in (config `reporting_timezone`, written
    by the loader into config.settings), as a quoted SQL literal. Read when the model
    is compiled, so the zone is a constant of the query; the config validated it, and a
    warehouse without the row (a bare test database) reads UTC.
-#}
{% macro reporting_timezone() -%}
    {%- set tz = namespace(name='UTC') -%}
    {%- if execute -%}
        {%- set settings = adapter.get_relation(database=target.database, schema='config', identifier='settings') -%}
        {%- if settings is not none -%}
            {%- set found = run_query("select value from config.settings where key = 'reporting_timezone'") -%}
            {%- if found.rows | length > 0 -%}
                {%- set tz.name = found.columns[0].values()[0] -%}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
    '{{ tz.name | replace("'", "") }}'
{%- endmacro %}

{#- The wall-clock time (timestamp without zone) of a timestamptz in the reporting zone. -#}
{% macro local_time(expr) -%}
    timezone({{ reporting_timezone() }}, {{ expr }})
{%- endmacro %}

{#- The calendar date of a timestamptz in the reporting zone. -#}
{% macro local_date(expr) -%}
    cast(timezone({{ reporting_timezone() }}, {{ expr }}) as date)
{%- endmacro %}

{#- The first day of the reporting-zone week or month a timestamptz falls in. -#}
{% macro local_period_date(part, expr) -%}
    cast(date_trunc('{{ part }}', timezone({{ reporting_timezone() }}, {{ expr }})) as date)
{%- endmacro %}
