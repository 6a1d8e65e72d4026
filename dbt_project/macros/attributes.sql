-- A number stored in a mention's attributes JSON under `key`, as exports type them:
-- spaces and no-break spaces between thousands dropped, a decimal comma read as a
-- point ("1 200" -> 1200, "3,5" -> 3.5); anything else (words, "1,2K") is null.
{% macro attribute_number(attributes_expr, key) -%}
    try_cast(
        replace(
            regexp_replace(json_extract_string({{ attributes_expr }}, '$.{{ key }}'), '[\s\x{00A0}]', '', 'g'),
            ',', '.'
        ) as double
    )
{%- endmacro %}
