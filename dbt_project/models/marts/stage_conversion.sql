-- Weekly cohorts of customers entering a stage, and how many of them entered the
-- next stage within the conversion window. One row per channel of the entry, plus
-- channel = 'all'.

with

transitions as (

    select * from {{ ref('int_stage_transitions_measured') }}

),

by_channel as (

    select
        from_week_start_date as period_start,
        brand,
        from_channel as channel,
        from_stage,
        from_stage_order,
        to_stage,
        count(*) as customers_entered,
        count(*) filter (where is_converted) as customers_converted,
        median(hours_to_next_stage) filter (where is_converted) as median_hours_to_convert

    from transitions
    group by all

),

all_channels as (

    select
        from_week_start_date as period_start,
        brand,
        'all' as channel,
        from_stage,
        from_stage_order,
        to_stage,
        count(*) as customers_entered,
        count(*) filter (where is_converted) as customers_converted,
        median(hours_to_next_stage) filter (where is_converted) as median_hours_to_convert

    from transitions
    group by all

),

unioned as (

    select * from by_channel
    union all
    select * from all_channels

),

final as (

    select
        period_start,
        brand,
        channel,
        from_stage,
        to_stage,
        from_stage_order,
        customers_entered,
        customers_converted,
        round(customers_converted / customers_entered, 6) as conversion_rate,
        round(median_hours_to_convert, 6) as median_hours_to_convert

    from unioned

)

select * from final
order by period_start, brand, from_stage_order, channel
