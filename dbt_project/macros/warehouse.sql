{#
    DuckDB's memory limit for this dbt invocation (config `warehouse.memory_limit`, written
    to config.settings by each refresh's load step). DuckDB's default is 80 % of the RAM,
    so without it the build's peak grows with the data (5.4 GiB at 10^6 mentions); with
    it DuckDB spills to `<warehouse>.tmp/`. Run first in every invocation (`on-run-start`
    in dbt_project.yml, so also in each Cosmos model task). A warehouse no refresh has
    loaded yet has no such row: DuckDB's default then stays.
#}
{% macro apply_warehouse_settings() %}
    {% if execute %}
        {% set found = none %}
        {% if adapter.get_relation(target.database, 'config', 'settings') %}
            {% set found = run_query(
                "select value from config.settings where key = 'warehouse.memory_limit'"
            ) %}
        {% endif %}
        {% if found and found.rows %}
            {% do run_query("set memory_limit = '" ~ found.rows[0][0] | replace("'", "") ~ "'") %}
        {% endif %}
    {% endif %}
{% endmacro %}
