-- Input of marts.conversion_drivers: for every step (from_stage → to_stage) and every
-- property value a customer can have when entering from_stage, how many of the step's
-- entrants have it and how many of those converted, beside the step's totals.
--
-- Properties (a customer may hold several values of one property):
-- * the columns of the from-stage entry listed in `entry_properties` below (entry
--   channel, campaign): add a column of int_customer_stage_entries there to test it;
-- * touchpoint_seen / channel_seen: a touchpoint or channel of any CRM touch at or
--   before the entry into from_stage (strictly before an inferred entry, which is
--   the later stage's event; never after: later touches would tell the outcome);
-- * the customer's segments listed in `customer_properties` (int_customer_segments:
--   customer_segment, region — what the customer is, not what they bought: the
--   product is read from orders, so it would tell the outcome of the steps before);
-- * barrier_exposure: the stage's negative mentions of a barrier topic in the
--   `analysis.barrier_exposure_days` whole UTC days before the entry day, above that
--   volume's median over the step's entrants (mentions do not link to customers, so
--   exposure is the barrier's volume the customer entered into).

{#- property name -> column of int_customer_stage_entries (the from-stage entry) -#}
{%- set entry_properties = {
    'entry_channel': 'channel',
    'campaign': 'campaign',
} %}

{#- property name -> column of int_customer_segments (the customer's latest value) -#}
{%- set customer_properties = {
    'customer_segment': 'customer_segment',
    'region': 'region',
} %}

with

analysis as (

    select * from {{ ref('int_analysis_settings_resolved') }}

),

transitions as (

    select * from {{ ref('int_stage_transitions_measured') }}

),

entries as (

    select * from {{ ref('int_customer_stage_entries') }}

),

touches as (

    select * from {{ ref('int_customer_touches') }}

),

segments as (

    select * from {{ ref('int_customer_segments') }}

),

-- the customers' voice, as the CJM counts it
labels as (

    select * from {{ ref('int_labels_localized') }}

),

mentions as (

    select * from {{ ref('mentions') }}
    where {{ customers_voice() }}

),

steps as (

    select
        transitions.brand,
        transitions.customer_key,
        transitions.from_stage,
        transitions.to_stage,
        transitions.from_entered_at,
        transitions.is_converted,
        transitions.is_from_inferred as is_inferred,
        entries.*  exclude (brand, customer_key, stage, stage_order, is_inferred, entered_at)

    from transitions
    inner join entries
        on transitions.brand = entries.brand
        and transitions.customer_key = entries.customer_key
        and transitions.from_stage = entries.stage

),

entry_values as (

    {%- for property, column in entry_properties.items() %}
    {%- if not loop.first %}
    union all
    {%- endif %}
    select
        brand, customer_key, from_stage,
        '{{ property }}' as property,
        cast({{ column }} as varchar) as property_value
    from steps
    where {{ column }} is not null
    {%- endfor %}

),

segment_values as (

    {%- for property, column in customer_properties.items() %}
    {%- if not loop.first %}
    union all
    {%- endif %}
    select
        steps.brand, steps.customer_key, steps.from_stage,
        '{{ property }}' as property,
        cast(segments.{{ column }} as varchar) as property_value
    from steps
    inner join segments
        on steps.brand = segments.brand
        and steps.customer_key = segments.customer_key
    where segments.{{ column }} is not null
    {%- endfor %}

),

seen_values as (

    select distinct
        steps.brand,
        steps.customer_key,
        steps.from_stage,
        unnest(['touchpoint_seen', 'channel_seen']) as property,
        unnest([touches.touchpoint, touches.channel]) as property_value

    from steps
    inner join touches
        on steps.brand = touches.brand
        and steps.customer_key = touches.customer_key
        -- an inferred entry is the later stage's event: only what came before it
        and (
            touches.occurred_at < steps.from_entered_at
            or (touches.occurred_at = steps.from_entered_at and not steps.is_inferred)
        )

),

negative_days as (

    select
        brand,
        stage,
        barrier,
        {{ utc_date('published_at') }} as day,
        count(*) as n_mentions

    from (
        select brand, stage, published_at, unnest(topics) as barrier
        from mentions
        where sentiment = 'negative' and stage is not null
    )
    group by all

),

entry_days as (

    select distinct brand, from_stage, {{ utc_date('from_entered_at') }} as entry_day
    from steps

),

-- each entry day's barrier volume over the days before it (0 when none)
entry_day_volumes as (

    select
        entry_days.brand,
        entry_days.from_stage,
        entry_days.entry_day,
        barriers.barrier,
        coalesce(sum(negative_days.n_mentions), 0) as barrier_volume

    from entry_days
    cross join analysis
    inner join (select distinct brand, stage, barrier from negative_days) as barriers
        on entry_days.brand = barriers.brand
        and entry_days.from_stage = barriers.stage
    left join negative_days
        on barriers.brand = negative_days.brand
        and barriers.stage = negative_days.stage
        and barriers.barrier = negative_days.barrier
        and negative_days.day >= entry_days.entry_day - analysis.barrier_exposure_days
        and negative_days.day < entry_days.entry_day
    group by all

),

customer_volumes as (

    select
        steps.brand,
        steps.customer_key,
        steps.from_stage,
        entry_day_volumes.barrier,
        entry_day_volumes.barrier_volume,
        median(entry_day_volumes.barrier_volume) over (
            partition by steps.brand, steps.from_stage, entry_day_volumes.barrier
        ) as median_volume

    from steps
    inner join entry_day_volumes
        on steps.brand = entry_day_volumes.brand
        and steps.from_stage = entry_day_volumes.from_stage
        and {{ utc_date('steps.from_entered_at') }} = entry_day_volumes.entry_day

),

barrier_values as (

    select
        brand,
        customer_key,
        from_stage,
        'barrier_exposure' as property,
        barrier as property_value

    from customer_volumes
    where barrier_volume > median_volume

),

memberships as (

    select * from entry_values
    union all
    select * from segment_values
    union all
    select * from seen_values where property_value is not null
    union all
    select * from barrier_values

),

step_totals as (

    select
        brand,
        from_stage,
        any_value(to_stage) as to_stage,
        count(*) as customers_entered,
        count(*) filter (where is_converted) as customers_converted

    from steps
    group by brand, from_stage

),

counted as (

    select
        memberships.brand,
        memberships.from_stage,
        memberships.property,
        memberships.property_value,
        count(*) as customers_with,
        count(*) filter (where steps.is_converted) as converted_with

    from memberships
    inner join steps
        on memberships.brand = steps.brand
        and memberships.customer_key = steps.customer_key
        and memberships.from_stage = steps.from_stage
    group by all

),

final as (

    select
        counted.brand,
        counted.from_stage,
        {{ label_or_code('from_labels.label', 'counted.from_stage') }} as from_stage_label,
        step_totals.to_stage,
        {{ label_or_code('to_labels.label', 'step_totals.to_stage') }} as to_stage_label,
        counted.property,
        {{ label_or_code('property_labels.label', 'counted.property') }} as property_label,
        counted.property_value,
        -- channels and barrier topics have labels; campaigns and touchpoints are names
        case
            when counted.property in ('entry_channel', 'channel_seen', 'barrier_exposure')
                then {{ label_or_code('value_labels.label', 'counted.property_value') }}
            else counted.property_value
        end as property_value_label,
        counted.customers_with,
        counted.converted_with,
        step_totals.customers_entered - counted.customers_with as customers_without,
        step_totals.customers_converted - counted.converted_with as converted_without,
        step_totals.customers_entered,
        step_totals.customers_converted

    from counted
    inner join step_totals
        on counted.brand = step_totals.brand
        and counted.from_stage = step_totals.from_stage
    left join labels as from_labels
        on counted.brand = from_labels.brand
        and from_labels.kind = 'stage'
        and counted.from_stage = from_labels.code
    left join labels as to_labels
        on counted.brand = to_labels.brand
        and to_labels.kind = 'stage'
        and step_totals.to_stage = to_labels.code
    left join labels as property_labels
        on counted.brand = property_labels.brand
        and property_labels.kind = 'driver_property'
        and counted.property = property_labels.code
    left join labels as value_labels
        on counted.brand = value_labels.brand
        and value_labels.kind = case counted.property when 'barrier_exposure' then 'topic' else 'channel' end
        and counted.property_value = value_labels.code

)

select * from final
