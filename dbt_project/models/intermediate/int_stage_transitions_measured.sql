-- For every customer who entered a stage that has a next stage: when (and whether,
-- within that step's conversion window) they entered the next one. Entries may be
-- inferred (skipped stages): a customer who skipped the next stage converted into
-- it when they entered a later stage. Times are measured only from observed
-- entries. Incremental per customer; nothing here depends on the clock or on the
-- newest data, so unchanged customers never need rebuilding.

with

settings as (

    select * from {{ ref('int_settings_resolved') }}

),

entries as (

    {{ rows_of_changed_customers(ref('int_customer_stage_entries')) }}

),

stages as (

    select * from {{ ref('int_stages_sequenced') }}

),

paired as (

    select
        from_entries.brand,
        from_entries.customer_key,
        from_entries.stage as from_stage,
        from_entries.stage_order as from_stage_order,
        stages.next_stage as to_stage,
        stages.conversion_window_days,
        from_entries.channel as from_channel,
        from_entries.first_channel,
        from_entries.is_inferred as is_from_inferred,
        to_entries.is_inferred as is_to_inferred,
        from_entries.entered_at as from_entered_at,
        to_entries.entered_at as to_entered_at,
        from_entries.events_updated_at

    from entries as from_entries
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
        paired.brand,
        paired.customer_key,
        paired.from_stage,
        paired.from_stage_order,
        paired.to_stage,
        paired.conversion_window_days,
        paired.from_channel,
        paired.first_channel,
        paired.is_from_inferred,
        coalesce(paired.is_to_inferred, false) as is_to_inferred,
        paired.from_entered_at,
        paired.to_entered_at,
        paired.from_entered_at + to_days(paired.conversion_window_days) as window_closes_at,
        case
            when not paired.is_from_inferred and paired.to_entered_at >= paired.from_entered_at
                then {{ hours_between('paired.from_entered_at', 'paired.to_entered_at') }}
        end as hours_to_next_stage,
        coalesce(
            paired.to_entered_at >= paired.from_entered_at
            and {{ hours_between('paired.from_entered_at', 'paired.to_entered_at') }}
                <= paired.conversion_window_days * 24,
            false
        ) as is_converted,
        paired.events_updated_at,
        settings.journey_rules_hash

    from paired
    cross join settings

)

select * from measured
