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
