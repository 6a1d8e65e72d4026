-- The edges of a Sankey of how customers move between stages and channels: every
-- consecutive pair of steps of marts.journey_paths' paths (all customers, not only
-- the most frequent paths), with the customers who made that move and how many of
-- them converted (entered the conversion stage).

with

settings as (

    select * from {{ ref('int_settings_resolved') }}

),

entries as (

    select * from {{ ref('int_customer_stage_entries') }}

),

labels as (

    select * from {{ ref('int_labels_localized') }}

),

steps as (

    select
        entries.brand,
        entries.customer_key,
        entries.stage,
        coalesce(entries.channel, '?') as channel,
        entries.stage || '·' || coalesce(entries.channel, '?') as step,
        {{ label_or_code('stage_labels.label', 'entries.stage') }} || ' · '
            || {{ label_or_code('channel_labels.label', "coalesce(entries.channel, '?')") }} as step_label,
        lead(entries.stage) over journey as next_stage,
        lead(coalesce(entries.channel, '?')) over journey as next_channel,
        lead(entries.stage || '·' || coalesce(entries.channel, '?')) over journey as next_step,
        lead(
            {{ label_or_code('stage_labels.label', 'entries.stage') }} || ' · '
                || {{ label_or_code('channel_labels.label', "coalesce(entries.channel, '?')") }}
        ) over journey as next_step_label,
        bool_or(entries.stage = settings.conversion_stage) over (
            partition by entries.brand, entries.customer_key
        ) as is_converted

    from entries
    cross join settings
    left join labels as stage_labels
        on entries.brand = stage_labels.brand
        and stage_labels.kind = 'stage'
        and entries.stage = stage_labels.code
    left join labels as channel_labels
        on entries.brand = channel_labels.brand
        and channel_labels.kind = 'channel'
        and entries.channel = channel_labels.code
    window journey as (
        partition by entries.brand, entries.customer_key order by entries.stage_order, entries.stage
    )

),

final as (

    select
        brand,
        step as from_step,
        next_step as to_step,
        step_label as from_step_label,
        next_step_label as to_step_label,
        stage as from_stage,
        channel as from_channel,
        next_stage as to_stage,
        next_channel as to_channel,
        count(*) as customers,
        count(*) filter (where is_converted) as converted_customers

    from steps
    where next_step is not null
    group by all

)

select * from final
order by brand, from_step, to_step
