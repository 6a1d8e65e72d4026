-- Attribution input, one row per touch of every conversion path.
--
-- A conversion is a customer's first entry into the conversion stage (setting
-- `conversion_stage`; an inferred entry counts too). Its path is the customer's CRM
-- touches strictly BEFORE the conversion and within `conversion_window_days` of it
-- (the standard definition of ChannelAttribution and Google's models: the
-- conversion event is not a touch of its own path). A conversion without such a
-- touch gets a one-touch path: the conversion's own event (its channel and
-- touchpoint). Touches at the same instant are ordered by event_id.
--
-- Credits per model, summing to 1 per conversion: first touch, last touch, linear,
-- time decay (weight 0.5^(hours before / (24 × attribution_half_life_days)),
-- normalised) and position based (40/20/40; one touch 1.0; two touches 0.5/0.5).
-- The data-driven (Markov) model is int_touch_credits_markov. Incremental per
-- customer.

with

settings as (

    select * from {{ ref('int_settings_resolved') }}

),

touches as (

    {{ rows_of_changed_customers(ref('int_customer_touches')) }}

),

entries as (

    select * from {{ ref('int_customer_stage_entries') }}

),

conversions as (

    select
        entries.brand,
        entries.customer_key,
        entries.entry_event_id as conversion_event_id,
        entries.is_inferred as is_inferred_conversion,
        entries.entered_at as converted_at

    from entries
    inner join settings
        on entries.stage = settings.conversion_stage
    semi join touches
        on entries.brand = touches.brand
        and entries.customer_key = touches.customer_key

),

prior_touches as (

    select
        conversions.*,
        touches.event_id,
        touches.stage,
        touches.channel,
        touches.touchpoint,
        touches.occurred_at,
        touches.events_updated_at

    from conversions
    cross join settings
    inner join touches
        on conversions.brand = touches.brand
        and conversions.customer_key = touches.customer_key
        and touches.occurred_at < conversions.converted_at
        and {{ hours_between('touches.occurred_at', 'conversions.converted_at') }}
            <= settings.conversion_window_days * 24

),

-- no touch before the conversion: the conversion's own event is the path
own_touches as (

    select
        conversions.*,
        touches.event_id,
        touches.stage,
        touches.channel,
        touches.touchpoint,
        touches.occurred_at,
        touches.events_updated_at

    from conversions
    inner join touches
        on conversions.conversion_event_id = touches.event_id
    anti join prior_touches
        on conversions.conversion_event_id = prior_touches.conversion_event_id

),

paths as (

    select * from prior_touches
    union all
    select * from own_touches

),

numbered as (

    select
        paths.*,
        {{ hours_between('paths.occurred_at', 'paths.converted_at') }} as hours_before_conversion,
        row_number() over (
            partition by paths.conversion_event_id order by paths.occurred_at, paths.event_id
        ) as touch_number,
        count(*) over (partition by paths.conversion_event_id) as path_length,
        pow(
            0.5,
            {{ hours_between('paths.occurred_at', 'paths.converted_at') }}
                / (settings.attribution_half_life_days * 24)
        ) as decay_weight,
        settings.journey_rules_hash

    from paths
    cross join settings

),

credited as (

    select
        conversion_event_id,
        brand,
        customer_key,
        is_inferred_conversion,
        converted_at,
        event_id,
        stage,
        channel,
        touchpoint,
        occurred_at,
        hours_before_conversion,
        touch_number,
        path_length,
        case when touch_number = 1 then 1.0 else 0.0 end as first_touch_credit,
        case when touch_number = path_length then 1.0 else 0.0 end as last_touch_credit,
        1.0 / path_length as linear_credit,
        -- summed in path order and rounded: the same credits however the rows are
        -- stored (an incremental table must equal a full build bit for bit)
        round(
            decay_weight / sum(decay_weight) over (
                partition by conversion_event_id
                order by touch_number
                rows between unbounded preceding and unbounded following
            ),
            12
        ) as time_decay_credit,
        case
            when path_length = 1 then 1.0
            when path_length = 2 then 0.5
            when touch_number = 1 or touch_number = path_length then 0.4
            else 0.2 / (path_length - 2)
        end as position_based_credit,
        events_updated_at,
        journey_rules_hash

    from numbered

)

select * from credited
