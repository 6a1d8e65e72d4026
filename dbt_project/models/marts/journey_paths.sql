-- The most frequent journeys as stage × channel paths: one step per stage the customer
-- entered (observed or inferred), in stage order, named stage·channel of the entry
-- (e.g. awareness·vk → consideration·site → purchase·app). A customer converted when
-- they entered the conversion stage (setting conversion_stage). Per brand the
-- analysis.max_paths most frequent paths are kept (ties by path); the rest are one
-- row, path 'other', so customers sum to the brand's customers. Labels are looked up
-- for the kept paths only (a million customers share a few hundred paths).

with

settings as (

    select * from {{ ref('int_settings_resolved') }}

),

analysis as (

    select * from {{ ref('int_analysis_settings_resolved') }}

),

entries as (

    select * from {{ ref('int_customer_stage_entries') }}

),

labels as (

    select * from {{ ref('int_labels_localized') }}

),

journeys as (

    select
        entries.brand,
        entries.customer_key,
        array_to_string(
            list(
                entries.stage || '·' || coalesce(entries.channel, '?')
                order by entries.stage_order, entries.stage
            ),
            ' → '
        ) as path,
        bool_or(entries.stage = settings.conversion_stage) as is_converted

    from entries
    cross join settings
    group by entries.brand, entries.customer_key

),

counted as (

    select
        brand,
        path,
        count(*) as customers,
        count(*) filter (where is_converted) as converted_customers

    from journeys
    group by brand, path

),

ranked as (

    select
        counted.*,
        row_number() over (partition by brand order by customers desc, path) as path_rank

    from counted

),

capped as (

    select
        ranked.brand,
        case when ranked.path_rank <= analysis.max_paths then ranked.path_rank end as path_rank,
        case when ranked.path_rank <= analysis.max_paths then ranked.path else 'other' end as path,
        cast(sum(ranked.customers) as bigint) as customers,
        cast(sum(ranked.converted_customers) as bigint) as converted_customers

    from ranked
    cross join analysis
    group by all

),

-- the kept paths' steps, each with its stage and channel label
steps as (

    select
        capped.brand,
        capped.path,
        step.position,
        step.step,
        {{ label_or_code('stage_labels.label', 'step.stage') }} || ' · '
            || {{ label_or_code('channel_labels.label', 'step.channel') }} as step_label

    from capped
    cross join lateral (
        select
            generate_subscripts(string_split(capped.path, ' → '), 1) as position,
            unnest(string_split(capped.path, ' → ')) as step,
            split_part(step, '·', 1) as stage,
            split_part(step, '·', 2) as channel
    ) as step
    left join labels as stage_labels
        on capped.brand = stage_labels.brand
        and stage_labels.kind = 'stage'
        and step.stage = stage_labels.code
    left join labels as channel_labels
        on capped.brand = channel_labels.brand
        and channel_labels.kind = 'channel'
        and step.channel = channel_labels.code
    where capped.path_rank is not null

),

labelled as (

    select
        brand,
        path,
        list(step order by position) as path_steps,
        string_agg(step_label, ' → ' order by position) as path_label

    from steps
    group by brand, path

),

final as (

    select
        capped.brand,
        capped.path_rank,
        capped.path,
        labelled.path_steps,
        coalesce(labelled.path_label, {{ label_or_code('other_labels.label', "'other_paths'") }}) as path_label,
        len(labelled.path_steps) as path_length,
        capped.customers,
        capped.converted_customers,
        capped.converted_customers / capped.customers as conversion_rate

    from capped
    left join labelled
        on capped.brand = labelled.brand
        and capped.path = labelled.path
    left join labels as other_labels
        on capped.brand = other_labels.brand
        and other_labels.kind = 'phrase'
        and other_labels.code = 'other_paths'

)

select * from final
order by brand, path_rank nulls last
