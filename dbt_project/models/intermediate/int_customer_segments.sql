-- Each CRM customer's segments per brand: the latest non-empty value of each
-- configured CRM field (`segments.<dimension>.crm_attribute`) among their events, so
-- a customer sits in one segment of each dimension in every mart. A region written
-- like a gazetteer form or a region's name is read as that region (as for mentions,
-- int_mention_segments), so "Казань" and "Республика Татарстан" are one region.

with

events as (

    select * from {{ ref('int_crm_events_mapped') }}

),

latest as (

    select
        brand,
        customer_key,
        arg_max(customer_segment, occurred_at) filter (where customer_segment is not null)
            as customer_segment,
        arg_max(region, occurred_at) filter (where region is not null) as region_value,
        arg_max(product, occurred_at) filter (where product is not null) as product

    from events
    group by brand, customer_key

),

-- the distinct values written, read as their regions (macros/segments.sql)
region_values as (

    {{ written_regions('latest') }}

),

final as (

    select
        latest.brand,
        latest.customer_key,
        latest.customer_segment,
        region_values.region,
        latest.product

    from latest
    left join region_values on latest.region_value = region_values.region_value

)

select * from final
