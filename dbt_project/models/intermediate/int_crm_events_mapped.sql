-- CRM events with the stage their event_type marks entry into (null when the
-- event_type is not mapped or its stage is not configured), a resolved brand,
-- channel and touchpoint. Incremental: only events loaded since the watermark
-- (macros/incremental.sql) are mapped again.

with

settings as (

    select * from {{ ref('int_settings_resolved') }}

),

events as (

    select * from {{ ref('stg_raw__crm_events') }}
    where {{ loaded_since_watermark('updated_at') }}

),

event_stages as (

    select * from {{ ref('stg_config__event_stages') }}

),

stages as (

    select * from {{ ref('int_stages_sequenced') }}

),

channel_aliases as (

    select * from {{ ref('int_channel_aliases_resolved') }}

),

segment_settings as (

    select * from {{ ref('int_segment_settings') }}

),

brands as (

    select * from {{ ref('stg_config__brands') }}

),

-- a brandless record belongs to the only brand when just one is configured
default_brand as (

    select case when count(*) = 1 then min(brand) else 'unknown' end as brand
    from brands

),

mapped as (

    select
        events.event_id,
        events.customer_key,
        coalesce(events.brand, default_brand.brand) as brand,
        events.event_type,
        stages.stage as mapped_stage,
        -- the one channel vocabulary of mentions and CRM events (int_channel_aliases_resolved)
        coalesce(channel_aliases.channel, events.channel, 'unknown') as channel,
        coalesce(events.channel, 'unknown') as channel_raw,
        coalesce(events.touchpoint, events.event_type) as touchpoint,
        events.campaign,
        events.message,
        events.amount,
        events.occurred_at,
        -- the segments' CRM fields (config `segments.<dimension>.crm_attribute`)
        {%- for dimension in ['customer_segment', 'region', 'product'] %}
        nullif(trim(json_extract_string(
            events.attributes, '$."' || segment_settings.{{ dimension }}_crm_attribute || '"'
        )), '') as {{ dimension }},
        {%- endfor %}
        events.updated_at as events_updated_at,
        settings.journey_rules_hash

    from events
    cross join default_brand
    cross join settings
    cross join segment_settings
    left join channel_aliases
        on lower(trim(events.channel)) = channel_aliases.alias
    left join event_stages
        on events.event_type = event_stages.event_type
    left join stages
        on event_stages.stage = stages.stage

)

select * from mapped
