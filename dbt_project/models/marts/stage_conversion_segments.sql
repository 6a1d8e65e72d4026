-- Stage conversion by the customer's segments: brand × step × customer_segment ×
-- region × product (each the customer's latest value of its configured CRM field,
-- int_customer_segments; null when not known). Every customer who entered a step is
-- in exactly one row, so the counts sum to the step's entries and conversions over
-- any filter; recompute rates from the sums.

with

transitions as (

    select * from {{ ref('int_stage_transitions_measured') }}

),

customers as (

    select * from {{ ref('int_customer_segments') }}

),

stages as (

    select * from {{ ref('int_stages_sequenced') }}

),

labels as (

    select * from {{ ref('int_labels_localized') }}

),

counted as (

    select
        transitions.brand,
        transitions.from_stage,
        transitions.to_stage,
        any_value(transitions.from_stage_order) as from_stage_order,
        customers.customer_segment,
        customers.region,
        customers.product,
        count(*) as customers_entered,
        count(*) filter (where transitions.is_converted) as customers_converted

    from transitions
    left join customers
        on transitions.brand = customers.brand
        and transitions.customer_key = customers.customer_key
    group by all

),

final as (

    select
        counted.brand,
        counted.from_stage,
        {{ label_or_code('from_labels.label', 'counted.from_stage') }} as from_stage_label,
        counted.to_stage,
        {{ label_or_code('to_labels.label', 'counted.to_stage') }} as to_stage_label,
        counted.from_stage_order,
        counted.customer_segment,
        counted.region,
        counted.product,
        counted.customers_entered,
        counted.customers_converted,
        round(counted.customers_converted / nullif(counted.customers_entered, 0), 6) as conversion_rate

    from counted
    left join labels as from_labels
        on counted.brand = from_labels.brand
        and from_labels.kind = 'stage'
        and counted.from_stage = from_labels.code
    left join labels as to_labels
        on counted.brand = to_labels.brand
        and to_labels.kind = 'stage'
        and counted.to_stage = to_labels.code

)

select * from final
order by brand, from_stage_order, customer_segment, region, product
