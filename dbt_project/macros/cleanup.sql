{#
    dbt-duckdb leaves the staging table of an incremental *Python* model behind
    (`int_mentions_enriched__dbt_tmp<timestamp>` in `main`, one per incremental run, some
    with every re-scored mention in it). Run at the end of every invocation
    (`on-run-end` in dbt_project.yml, so also after each Cosmos model task): drop every
    such table. They are never read after the run that made them.
#}
{% macro drop_leaked_temp_tables() %}
    {% if execute %}
        {% set leaked = run_query(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() and table_type = 'BASE TABLE' "
            "and table_name like '%\\_\\_dbt\\_tmp%' escape '\\'"
        ) %}
        {% for row in leaked.rows %}
            {% do run_query('drop table if exists "' ~ row[0] ~ '"."' ~ row[1] ~ '"') %}
        {% endfor %}
    {% endif %}
{% endmacro %}
