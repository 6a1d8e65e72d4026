{#
    Segment and channel matching (products, regions, channel aliases).

    A form is written as the seeds' terms are: normalised (lower case, ё → е), one or
    more words; a trailing `*` makes a word a prefix ("казан*" matches Казань, Казани,
    казанский). form_pattern turns one form into a regular expression;
    whole_word_hits finds the forms of an alternation in a text as whole words.

    Letters are the class [a-zа-я0-9] (texts and forms are normalised first), not a
    Unicode class: RE2 takes milliseconds to compile one, and a pattern that is not a
    constant is compiled once per row.
#}

{% macro word_char_class() -%}a-zа-я0-9{%- endmacro %}

{% macro form_pattern(expr) -%}
    regexp_replace(
        regexp_replace(regexp_escape({{ normalize_text('trim(' ~ expr ~ ')') }}), '\\\*', '[{{ word_char_class() }}]*', 'g'),
        '\\ ', '\\s+', 'g'
    )
{%- endmacro %}

{#- Every whole-word match of `alternation` (a '|' of form_pattern results, a SQL
    string literal so it is compiled once) in a normalised text, as the matched
    words. A word must not continue a letter, digit, `_`, `@` or `#` on either side. -#}
{% macro whole_word_hits(text_expr, alternation) -%}
    regexp_extract_all(
        {{ text_expr }},
        {{ "'(?:^|[^" ~ word_char_class() ~ "_@#])(" ~ (alternation | replace("'", "''")) ~ ")(?:$|[^" ~ word_char_class() ~ "_])'" }},
        1
    )
{%- endmacro %}

{#- The regions of the distinct region values written in `values_relation` (a CTE with a
    `region_value` column: a CRM field, an export column). A value written like a
    gazetteer form or a region's own name is read as that region ("Казань" ->
    Республика Татарстан); any other value stays as written. The few distinct values
    are matched once each, so mentions and customers read a written region alike. -#}
{% macro written_regions(values_relation) -%}
    select
        values_written.region_value,
        coalesce(min(region_names.region), values_written.region_value) as region

    from (
        select distinct region_value from {{ values_relation }} where region_value is not null
    ) as values_written
    left join (
        select distinct segment_value as region, pattern
        from {{ ref('int_segment_terms') }}
        where dimension = 'region'

        union all

        select distinct segment_value as region, regexp_escape({{ normalize_text('segment_value') }}) as pattern
        from {{ ref('int_segment_terms') }}
        where dimension = 'region'
    ) as region_names
        on regexp_full_match({{ normalize_text('values_written.region_value') }}, region_names.pattern)
    group by values_written.region_value
{%- endmacro %}
