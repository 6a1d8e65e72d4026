{#
    One grain of int_conversion_cohorts_counted as a mart: the rows of one period
    grain and one channel basis, so that every count column sums without counting a
    customer twice. grain / basis: a literal ('week', 'first_touch'), or none for the
    configured default of marts.stage_conversion (int_settings_resolved).
#}
{% macro stage_conversion_mart(grain=none, basis=none) %}

with

cohorts as (

    select * from {{ ref('int_conversion_cohorts_counted') }}

),

settings as (

    select * from {{ ref('int_settings_resolved') }}

),

final as (

    select cohorts.*
    from cohorts
    cross join settings
    where cohorts.period_grain = {{ "'" ~ grain ~ "'" if grain else 'settings.stage_conversion_grain' }}
        and cohorts.channel_basis = {{ "'" ~ basis ~ "'" if basis else 'settings.stage_conversion_channel_basis' }}

)

select * from final
order by period_start, brand, from_stage_order, channel

{% endmacro %}
