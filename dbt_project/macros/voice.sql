-- The customers' voice in marts.mentions, as the CJM, the keyword map and the journey
-- analyses read it: stories, not their copies (is_repost); about the brand
-- (relevance.min_score); not the brand speaking (author_role 'brand'). One definition,
-- so the barriers the CJM ranks and the barriers the drivers test are the same rows.
{% macro customers_voice() -%}
    author_role != 'brand'
        and not is_repost
        and is_relevant is not false
{%- endmacro %}
