-- One row: where each segment dimension is read from (config `segments`, written by
-- cjm/loader.py as JSON) and the dimension the communication map is split by
-- (`journey_map.segment_by`). Absent keys mean: not read from there (the text
-- gazetteer for regions defaults to on).

with

settings as (

    select * from {{ ref('stg_config__settings') }}

),

pivoted as (

    select
        max(case when setting_key = 'segments' then setting_value end) as segments,
        max(case when setting_key = 'journey_map_segment_by' then setting_value end) as segment_by

    from settings

),

resolved as (

    select
        nullif(json_extract_string(segments, '$.customer_segment.crm_attribute'), '')
            as customer_segment_crm_attribute,
        nullif(json_extract_string(segments, '$.customer_segment.mention_attribute'), '')
            as customer_segment_mention_attribute,
        nullif(json_extract_string(segments, '$.region.crm_attribute'), '') as region_crm_attribute,
        nullif(json_extract_string(segments, '$.region.mention_attribute'), '') as region_mention_attribute,
        coalesce(cast(json_extract(segments, '$.region.from_text') as boolean), true) as region_from_text,
        nullif(json_extract_string(segments, '$.product.crm_attribute'), '') as product_crm_attribute,
        nullif(json_extract_string(segments, '$.product.mention_attribute'), '') as product_mention_attribute,
        coalesce(nullif(segment_by, ''), 'none') as segment_by

    from pivoted

)

select * from resolved
