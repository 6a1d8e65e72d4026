-- Stage-to-stage conversion by entry cohort, every built grain × both channel
-- bases in one long table: customers who first entered from_stage in a period (day,
-- week and month cohorts: setting period_grains), how many of them entered the next
-- stage within that step's window, how long it took (median and 90th percentile
-- hours) and how many dropped off. Not for BI: a customer is in it once per grain
-- and per basis, so its counts sum only within one (period_grain, channel_basis);
-- the marts stage_conversion* each hold one of them (macros/stage_conversion.sql).
--
-- The channel comes in two attributions of the channel property (channel_basis):
-- 'stage_entry', the channel of the event that entered from_stage (last touch at
-- the step), and 'first_touch', the channel of the customer's first event with the
-- brand (acquisition channel). There is no 'all' channel row: the overall funnel is
-- the sum over channels.
--
-- A cohort's outcome is final once its window has closed at the brand's data
-- cut-off (its newest CRM event): until then a not-yet-converted customer is
-- in progress, not dropped.

with

transitions as (

    select * from {{ ref('int_stage_transitions_measured') }}

),

settings as (

    select * from {{ ref('int_settings_resolved') }}

),

labels as (

    select * from {{ ref('int_labels_localized') }}

),

cutoffs as (

    select
        brand,
        max(occurred_at) as data_cutoff_at

    from {{ ref('int_crm_events_mapped') }}
    group by brand

),

grains as (

    select unnest(period_grains) as period_grain
    from settings

),

cohorts as (

    select
        grains.period_grain,
        case grains.period_grain
            -- cohorts of the reporting time zone's days, weeks and months
            when 'day' then {{ local_date('transitions.from_entered_at') }}
            when 'week' then {{ local_period_date('week', 'transitions.from_entered_at') }}
            when 'month' then {{ local_period_date('month', 'transitions.from_entered_at') }}
        end as period_start,
        transitions.*,
        transitions.window_closes_at <= cutoffs.data_cutoff_at as is_window_closed

    from transitions
    cross join grains
    inner join cutoffs
        on transitions.brand = cutoffs.brand

),

breakdowns as (

    select 'stage_entry' as channel_basis, from_channel as channel, * from cohorts
    union all
    select 'first_touch' as channel_basis, first_channel as channel, * from cohorts

),

aggregated as (

    select
        period_grain,
        period_start,
        brand,
        channel_basis,
        channel,
        from_stage,
        to_stage,
        from_stage_order,
        max(conversion_window_days) as conversion_window_days,
        count(*) as customers_entered,
        count(*) filter (where is_from_inferred) as customers_entered_inferred,
        count(*) filter (where is_converted) as customers_converted,
        count(*) filter (where is_converted and is_to_inferred) as customers_converted_inferred,
        count(*) filter (where not is_from_inferred) as customers_entered_observed,
        count(*) filter (
            where is_converted and not is_from_inferred and not is_to_inferred
        ) as customers_converted_observed,
        count(*) filter (where not is_converted and is_window_closed) as customers_dropped,
        count(*) filter (where not is_converted and not is_window_closed) as customers_in_progress,
        median(hours_to_next_stage) filter (where is_converted) as median_hours_to_convert,
        quantile_cont(hours_to_next_stage, 0.9) filter (where is_converted) as p90_hours_to_convert

    from breakdowns
    group by
        period_grain,
        period_start,
        brand,
        channel_basis,
        channel,
        from_stage,
        to_stage,
        from_stage_order

),

-- the stages in the brand's display language
labelled as (

    select
        aggregated.*,
        {{ label_or_code('from_labels.label', 'aggregated.from_stage') }} as from_stage_label,
        {{ label_or_code('to_labels.label', 'aggregated.to_stage') }} as to_stage_label

    from aggregated
    left join labels as from_labels
        on aggregated.brand = from_labels.brand
        and from_labels.kind = 'stage'
        and aggregated.from_stage = from_labels.code
    left join labels as to_labels
        on aggregated.brand = to_labels.brand
        and to_labels.kind = 'stage'
        and aggregated.to_stage = to_labels.code

),

final as (

    select
        period_grain,
        period_start,
        brand,
        channel_basis,
        channel,
        from_stage,
        from_stage_label,
        to_stage,
        to_stage_label,
        from_stage_order,
        conversion_window_days,
        customers_entered,
        customers_entered_inferred,
        customers_converted,
        customers_converted_inferred,
        customers_dropped,
        customers_in_progress,
        round(customers_converted / customers_entered, 6) as conversion_rate,
        round(customers_dropped / customers_entered, 6) as drop_off_rate,
        round(median_hours_to_convert, 6) as median_hours_to_convert,
        round(p90_hours_to_convert, 6) as p90_hours_to_convert,
        customers_entered_observed,
        customers_converted_observed

    from labelled

)

select * from final
order by period_grain, period_start, brand, channel_basis, from_stage_order, channel
