{#
    Use a custom schema verbatim (`marts`, not `main_marts`): the schema names are
    part of the public contract that BI tools read. Nodes without one land in the
    target's schema.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
