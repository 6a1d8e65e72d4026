-- For every customer who entered a stage that has a next stage: when (and whether,
-- within the conversion window) they entered the next one.

with

entries as (

    select * from {{ ref('int_customer_stage_entries') }}

),

stages as (

    select * from {{ ref('int_stages_sequenced') }}

),

settings as (

    select * from {{ ref('int_settings_resolved') }}

),

paired as (

    select
        from_entries.brand,
        from_entries.customer_key,
        from_entries.stage as from_stage,
        from_entries.stage_order as from_stage_order,
        stages.next_stage as to_stage,
        from_entries.channel as from_channel,
        from_entries.entered_at as from_entered_at,
        to_entries.entered_at as to_entered_at,
        settings.conversion_window_days

    from entries as from_entries
    cross join settings
    inner join stages
        on from_entries.stage = stages.stage
    left join entries as to_entries
        on from_entries.brand = to_entries.brand
        and from_entries.customer_key = to_entries.customer_key
        and stages.next_stage = to_entries.stage
    where stages.next_stage is not null

),

measured as (

    select
        brand,
        customer_key,
        from_stage,
        from_stage_order,
        to_stage,
        from_channel,
        {{ utc_date(utc_trunc('week', 'from_entered_at')) }} as from_week_start_date,
        from_entered_at,
        to_entered_at,
        case
            when to_entered_at >= from_entered_at
                then {{ hours_between('from_entered_at', 'to_entered_at') }}
        end as hours_to_next_stage,
        coalesce(
            to_entered_at >= from_entered_at
            and {{ hours_between('from_entered_at', 'to_entered_at') }} <= conversion_window_days * 24,
            false
        ) as is_converted

    from paired

)

select * from measured
