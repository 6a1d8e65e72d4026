{#
    Text normalisation for the seed checks in SQL: the same rule as
    cjm/core/text.py (the one the scorer and brand matching use), proven equal on
    every seed term by tests/test_enrichment_dbt.py:

      1. lower-case;
      2. `ё` → `е`, typographic apostrophe `’` → `'`;
      3. tokens = maximal runs of letters/digits (Unicode, Cyrillic included),
         optionally joined by inner apostrophes (`don't` is one token).
#}

{% macro normalize_text(expr) -%}
    replace(replace(lower({{ expr }}), 'ё', 'е'), '’', '''')
{%- endmacro %}

{% macro token_pattern() -%}
    '[\p{L}\p{N}]+(?:''[\p{L}\p{N}]+)*'
{%- endmacro %}

{% macro tokenize(expr) -%}
    regexp_extract_all({{ normalize_text(expr) }}, {{ token_pattern() }})
{%- endmacro %}

{#- Tokens joined by single spaces and padded, for whole-word containment tests. -#}
{% macro padded_words(expr) -%}
    (' ' || array_to_string({{ tokenize(expr) }}, ' ') || ' ')
{%- endmacro %}

{#-
    What a reader sees for a code: its label (a column of int_labels_localized
    joined on kind and code), else the code with its underscores as spaces.
-#}
{% macro label_or_code(label_expr, code_expr) -%}
    coalesce({{ label_expr }}, replace({{ code_expr }}, '_', ' '))
{%- endmacro %}
