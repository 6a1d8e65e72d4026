-- The most frequent journeys as stage × channel paths: one step per stage the customer
-- entered (observed or inferred), in stage order, named stage·channel of the entry
-- (e.g. awareness·vk → consideration·site → purchase·app). A customer converted when
-- they entered the conversion stage (setting conversion_stage). Per brand the
-- analysis.max_paths most frequent paths are kept (ties by path); the rest are one
-- row, path 'other', so customers sum to the brand's customers.

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
        list(
            entries.stage || '·' || coalesce(entries.channel, '?')
            order by entries.stage_order, entries.stage
        ) as path_steps,
        list(
            {{ label_or_code('stage_labels.label', 'entries.stage') }} || ' · '
                || {{ label_or_code('channel_labels.label', "coalesce(entries.channel, '?')") }}
            order by entries.stage_order, entries.stage
        ) as step_labels,
        bool_or(entries.stage = settings.conversion_stage) as is_converted

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
    group by entries.brand, entries.customer_key

),

counted as (

    select
        brand,
        array_to_string(path_steps, ' → ') as path,
        any_value(path_steps) as path_steps,
        array_to_string(any_value(step_labels), ' → ') as path_label,
        count(*) as customers,
        count(*) filter (where is_converted) as converted_customers

    from journeys
    group by brand, array_to_string(path_steps, ' → ')

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
        case when ranked.path_rank <= analysis.max_paths then ranked.path_steps end as path_steps,
        case when ranked.path_rank <= analysis.max_paths then ranked.path_label end as path_label,
        cast(sum(ranked.customers) as bigint) as customers,
        cast(sum(ranked.converted_customers) as bigint) as converted_customers

    from ranked
    cross join analysis
    group by all

),

final as (

    select
        capped.brand,
        capped.path_rank,
        capped.path,
        capped.path_steps,
        coalesce(capped.path_label, {{ label_or_code('other_labels.label', "'other_paths'") }}) as path_label,
        len(capped.path_steps) as path_length,
        capped.customers,
        capped.converted_customers,
        capped.converted_customers / capped.customers as conversion_rate

    from capped
    left join labels as other_labels
        on capped.brand = other_labels.brand
        and other_labels.kind = 'phrase'
        and other_labels.code = 'other_paths'

)

select * from final
order by brand, path_rank nulls last
