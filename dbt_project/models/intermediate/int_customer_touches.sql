-- Every CRM event as a touch of the customer's journey: the stage it belongs to
-- (its mapped stage; for unmapped event types the latest stage the customer had
-- entered by then, else the first stage) and whether the customer entered the
-- next stage after it within that step's window. Incremental per customer.

with

settings as (

    select * from {{ ref('int_settings_resolved') }}

),

events as (

    {{ rows_of_changed_customers(ref('int_crm_events_mapped')) }}

),

entries as (

    select * from {{ ref('int_customer_stage_entries') }}

),

stages as (

    select * from {{ ref('int_stages_sequenced') }}

),

first_stage as (

    select stage from stages where is_first_stage

),

-- unmapped events: the stage most recently entered at or before the event
inherited as (

    select
        events.event_id,
        entries.stage

    from events
    inner join entries
        on events.brand = entries.brand
        and events.customer_key = entries.customer_key
        and entries.entered_at <= events.occurred_at
    where events.mapped_stage is null
    qualify row_number() over (
        partition by events.event_id
        order by entries.entered_at desc, entries.stage_order desc
    ) = 1

),

staged as (

    select
        events.*,
        coalesce(events.mapped_stage, inherited.stage, first_stage.stage) as stage,
        max(events.events_updated_at) over (
            partition by events.brand, events.customer_key
        ) as customer_updated_at

    from events
    cross join first_stage
    left join inherited
        on events.event_id = inherited.event_id

),

final as (

    select
        staged.event_id,
        staged.brand,
        staged.customer_key,
        staged.event_type,
        staged.stage,
        stages.stage_order,
        stages.next_stage,
        staged.mapped_stage is not null as is_stage_entry_event,
        staged.channel,
        staged.touchpoint,
        staged.campaign,
        staged.message,
        staged.amount,
        staged.occurred_at,
        next_entries.entered_at as next_stage_entered_at,
        coalesce(
            next_entries.entered_at >= staged.occurred_at
            and {{ hours_between('staged.occurred_at', 'next_entries.entered_at') }}
                <= stages.conversion_window_days * 24,
            false
        ) as is_followed_by_next_stage,
        staged.customer_updated_at as events_updated_at,
        settings.journey_rules_hash

    from staged
    cross join settings
    inner join stages
        on staged.stage = stages.stage
    left join entries as next_entries
        on staged.brand = next_entries.brand
        and staged.customer_key = next_entries.customer_key
        and stages.next_stage = next_entries.stage

)

select * from final
