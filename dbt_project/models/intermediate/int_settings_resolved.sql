-- One row: the numeric and named settings the marts need, typed, with defaults for
-- keys the loader did not write (the spike rule's from the seed spike_rule_defaults,
-- generated from the config model, so no default is written twice). A value that is not a number fails the build
-- loudly rather than silently falling back to a default.

with

settings as (

    select * from {{ ref('stg_config__settings') }}

),

spike_defaults as (

    select * from {{ ref('spike_rule_defaults') }}

),

pivoted as (

    select
        max(case when setting_key = 'conversion_window_days' then setting_value end) as conversion_window_days,
        max(case when setting_key = 'conversion_stage' then setting_value end) as conversion_stage,
        max(case when setting_key = 'attribution_half_life_days' then setting_value end) as attribution_half_life_days,
        max(case when setting_key = 'spike_bucket' then setting_value end) as spike_bucket,
        max(case when setting_key = 'spike_window_days' then setting_value end) as spike_window_days,
        max(case when setting_key = 'spike_min_count' then setting_value end) as spike_min_count,
        max(case when setting_key = 'spike_z' then setting_value end) as spike_z,
        max(case when setting_key = 'period_grains' then setting_value end) as period_grains,
        max(case when setting_key = 'stage_conversion_grain' then setting_value end) as stage_conversion_grain,
        max(case when setting_key = 'stage_conversion_channel_basis' then setting_value end) as stage_conversion_channel_basis,
        max(case when setting_key = 'incremental_lookback_hours' then setting_value end) as incremental_lookback_hours,
        -- everything the journey models read from config (not the alert rules): when it
        -- changes, the incremental journey models rebuild every customer
        md5(
            coalesce(string_agg(setting_key || '=' || setting_value, ';' order by setting_key)
                filter (where setting_key not like 'spike%'), '')
            || '|' || (select coalesce(string_agg(stage || '=' || stage_order, ';' order by stage), '') from {{ ref('stg_config__stages') }})
            || '|' || (select coalesce(string_agg(event_type || '=' || stage, ';' order by event_type), '') from {{ ref('stg_config__event_stages') }})
            || '|' || (select coalesce(string_agg(brand, ';' order by brand), '') from {{ ref('stg_config__brands') }})
            -- the default channel vocabulary: a changed alias re-maps every CRM event
            || '|' || (select coalesce(string_agg(alias || '=' || channel, ';' order by alias), '') from {{ ref('channel_aliases') }})
            || '|logic={{ var("journey_logic_version") }}'
        ) as journey_rules_hash

    from settings

),

resolved as (

    select
        coalesce(cast(cast(conversion_window_days as double) as integer), 90) as conversion_window_days,
        coalesce(nullif(conversion_stage, ''), 'purchase') as conversion_stage,
        coalesce(cast(attribution_half_life_days as double), 7.0) as attribution_half_life_days,
        coalesce(lower(nullif(spike_bucket, '')), spike_defaults.bucket) as spike_bucket,
        coalesce(cast(cast(spike_window_days as double) as integer), spike_defaults.window_days) as spike_window_days,
        coalesce(cast(cast(spike_min_count as double) as integer), spike_defaults.min_count) as spike_min_count,
        coalesce(cast(spike_z as double), spike_defaults.z) as spike_z,
        coalesce(
            list_transform(string_split(nullif(period_grains, ''), ','), lambda grain: trim(lower(grain))),
            ['day', 'week', 'month']
        ) as period_grains,
        coalesce(lower(nullif(stage_conversion_grain, '')), 'week') as stage_conversion_grain,
        coalesce(lower(nullif(stage_conversion_channel_basis, '')), 'stage_entry') as stage_conversion_channel_basis,
        coalesce(cast(incremental_lookback_hours as double), 0.0) as incremental_lookback_hours,
        journey_rules_hash

    from pivoted
    cross join spike_defaults

)

select * from resolved
