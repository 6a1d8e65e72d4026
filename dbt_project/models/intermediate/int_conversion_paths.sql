-- Attribution input: for every conversion (a customer's first entry into the
-- conversion stage, setting `conversion_stage`), the customer's CRM touches at or
-- before it and within the conversion window, each with its credit under five
-- models. For every conversion each model's credits sum to 1.

with

touches as (

    select * from {{ ref('int_customer_touches') }}

),

entries as (

    select * from {{ ref('int_customer_stage_entries') }}

),

settings as (

    select * from {{ ref('int_settings_resolved') }}

),

conversions as (

    select
        entries.brand,
        entries.customer_key,
        entries.entry_event_id as conversion_event_id,
        entries.entered_at as converted_at,
        settings.conversion_window_days,
        settings.attribution_half_life_days

    from entries
    inner join settings
        on entries.stage = settings.conversion_stage

),

paths as (

    select
        conversions.conversion_event_id,
        conversions.brand,
        conversions.customer_key,
        conversions.converted_at,
        touches.event_id,
        touches.stage,
        touches.channel,
        touches.touchpoint,
        touches.occurred_at,
        {{ hours_between('touches.occurred_at', 'conversions.converted_at') }} as hours_before_conversion,
        conversions.attribution_half_life_days

    from conversions
    inner join touches
        on conversions.brand = touches.brand
        and conversions.customer_key = touches.customer_key
        and touches.occurred_at <= conversions.converted_at
        and {{ hours_between('touches.occurred_at', 'conversions.converted_at') }}
            <= conversions.conversion_window_days * 24

),

numbered as (

    select
        *,
        row_number() over (
            partition by conversion_event_id order by occurred_at, event_id
        ) as touch_number,
        count(*) over (partition by conversion_event_id) as path_length,
        pow(0.5, hours_before_conversion / (attribution_half_life_days * 24)) as decay_weight

    from paths

),

credited as (

    select
        conversion_event_id,
        brand,
        customer_key,
        converted_at,
        event_id,
        stage,
        channel,
        touchpoint,
        occurred_at,
        touch_number,
        path_length,
        case when touch_number = 1 then 1.0 else 0.0 end as first_touch_credit,
        case when touch_number = path_length then 1.0 else 0.0 end as last_touch_credit,
        1.0 / path_length as linear_credit,
        decay_weight / sum(decay_weight) over (partition by conversion_event_id) as time_decay_credit,
        case
            when path_length = 1 then 1.0
            when path_length = 2 then 0.5
            when touch_number = 1 or touch_number = path_length then 0.4
            else 0.2 / (path_length - 2)
        end as position_based_credit

    from numbered

)

select * from credited
