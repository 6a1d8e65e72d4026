-- Each customer's journey per brand: their first entry into every configured stage
-- they reached. A stage the customer skipped (no event of its own, but an entry
-- into a later stage) is entered by inference — at the earliest later-stage entry,
-- from that event, flagged is_inferred: a purchase without a recorded
-- consideration still passed consideration. Incremental per customer.

with

settings as (

    select * from {{ ref('int_settings_resolved') }}

),

events as (

    {{ rows_of_changed_customers(ref('int_crm_events_mapped')) }}

),

stages as (

    select * from {{ ref('int_stages_sequenced') }}

),

customers as (

    select
        brand,
        customer_key,
        min(occurred_at) as first_event_at,
        max(occurred_at) as last_event_at,
        arg_min(channel, (occurred_at, event_id)) as first_channel,
        max(events_updated_at) as events_updated_at

    from events
    group by brand, customer_key

),

-- the first event into each stage (ties by event_id), by aggregation: cheaper than
-- ranking every event with a window
observed as (

    select
        events.brand,
        events.customer_key,
        events.mapped_stage as stage,
        any_value(stages.stage_order) as stage_order,
        false as is_inferred,
        arg_min(
            struct_pack(
                event_id := events.event_id,
                event_type := events.event_type,
                channel := events.channel,
                touchpoint := events.touchpoint,
                campaign := events.campaign
            ),
            (events.occurred_at, events.event_id)
        ) as entry,
        min(events.occurred_at) as entered_at,
        count(*) as n_entries,
        max(events.occurred_at) as last_entered_at

    from events
    inner join stages
        on events.mapped_stage = stages.stage
    group by events.brand, events.customer_key, events.mapped_stage

),

-- every earlier stage the customer has no event of: entered when (and where) they
-- first entered any later stage
inferred as (

    select
        observed.brand,
        observed.customer_key,
        stages.stage,
        stages.stage_order,
        true as is_inferred,
        observed.entry,
        observed.entered_at,
        0 as n_entries,
        cast(null as timestamptz) as last_entered_at

    from observed
    inner join stages
        on stages.stage_order < observed.stage_order
    anti join observed as own
        on observed.brand = own.brand
        and observed.customer_key = own.customer_key
        and stages.stage = own.stage
    qualify row_number() over (
        partition by observed.brand, observed.customer_key, stages.stage
        order by observed.entered_at, observed.stage_order, observed.entry.event_id
    ) = 1

),

entries as (

    select * from observed
    union all
    select * from inferred

),

-- when the customer first got past the stage: the earliest entry into a later stage
moved_on as (

    select
        *,
        min(entered_at) over (
            partition by brand, customer_key
            order by stage_order
            rows between 1 following and unbounded following
        ) as moved_on_at,
        stage_order = max(stage_order) over (partition by brand, customer_key) as is_furthest_stage

    from entries

),

final as (

    select
        moved_on.brand,
        moved_on.customer_key,
        moved_on.stage,
        moved_on.stage_order,
        moved_on.is_inferred,
        moved_on.entry.event_id as entry_event_id,
        moved_on.entry.event_type as event_type,
        moved_on.entry.channel as channel,
        moved_on.entry.touchpoint as touchpoint,
        moved_on.entry.campaign as campaign,
        moved_on.entered_at,
        moved_on.n_entries,
        moved_on.last_entered_at,
        moved_on.moved_on_at,
        case
            when not moved_on.is_inferred and moved_on.moved_on_at >= moved_on.entered_at
                then {{ hours_between('moved_on.entered_at', 'moved_on.moved_on_at') }}
        end as hours_in_stage,
        coalesce(moved_on.last_entered_at > moved_on.moved_on_at, false) as is_reentered,
        moved_on.is_furthest_stage,
        customers.first_channel,
        customers.first_event_at,
        customers.last_event_at,
        customers.events_updated_at,
        settings.journey_rules_hash

    from moved_on
    cross join settings
    inner join customers
        on moved_on.brand = customers.brand
        and moved_on.customer_key = customers.customer_key

)

select * from final
