{#
    A stage_conversion mart holds one grain, so summed per brand and step over its
    periods and channels it counts every customer entry once: the totals of
    int_stage_transitions_measured (one row per customer × step). And no row
    converts more customers than entered; entered = converted + dropped + in
    progress. A mart whose grain is not built (not in period_grains) is empty and
    passes. One parent besides the mart, upstream of it: safe to run right after
    the mart's own build.
#}
{% test counts_every_step_entry_once(model) %}

with

transitions as (

    select
        brand,
        from_stage,
        count(*) as customers_entered,
        count(*) filter (where is_converted) as customers_converted

    from {{ ref('int_stage_transitions_measured') }}
    group by all

),

mart as (

    select * from {{ model }}

),

summed as (

    select
        brand,
        from_stage,
        sum(customers_entered) as customers_entered,
        sum(customers_converted) as customers_converted

    from mart
    group by all

),

mismatched as (

    select
        transitions.brand,
        transitions.from_stage,
        'totals differ from int_stage_transitions_measured' as problem

    from transitions
    left join summed
        on transitions.brand = summed.brand
        and transitions.from_stage = summed.from_stage
    where exists (select 1 from mart)
        and (
            summed.customers_entered is distinct from transitions.customers_entered
            or summed.customers_converted is distinct from transitions.customers_converted
        )

),

overconverted as (

    select
        brand,
        from_stage,
        'converted > entered or entered != converted + dropped + in progress' as problem

    from mart
    where
        customers_converted > customers_entered
        or customers_entered != customers_converted + customers_dropped + customers_in_progress

)

select * from mismatched
union all
select * from overconverted

{% endtest %}
