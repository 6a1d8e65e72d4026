{#
    Every non-null value of the column matches the regular expression `pattern` (whole
    value): cue-set and pack names are identifiers the config refers to.
#}
{% test matches_pattern(model, column_name, pattern) %}

select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
    and nullif(trim({{ column_name }}), '') is not null
    and not regexp_full_match({{ column_name }}, '{{ pattern }}')

{% endtest %}
