-- Each customer's first entry into each configured stage (per brand): the earliest
-- event whose event_type maps to that stage, with that event's channel.

with

events as (

    select * from {{ ref('int_crm_events_mapped') }}
    where mapped_stage is not null

),

stages as (

    select * from {{ ref('int_stages_sequenced') }}

),

first_entries as (

    select
        brand,
        customer_key,
        mapped_stage as stage,
        event_id as entry_event_id,
        event_type,
        channel,
        touchpoint,
        campaign,
        occurred_at as entered_at

    from events
    qualify row_number() over (
        partition by brand, customer_key, mapped_stage
        order by occurred_at, event_id
    ) = 1

),

final as (

    select
        first_entries.brand,
        first_entries.customer_key,
        first_entries.stage,
        stages.stage_order,
        first_entries.entry_event_id,
        first_entries.event_type,
        first_entries.channel,
        first_entries.touchpoint,
        first_entries.campaign,
        first_entries.entered_at

    from first_entries
    inner join stages
        on first_entries.stage = stages.stage

)

select * from final
