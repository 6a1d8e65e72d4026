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
