-- One row: the numeric and named settings the marts need, typed, with defaults for
-- keys the loader did not write. A value that is not a number fails the build
-- loudly rather than silently falling back to a default.

with

settings as (

    select * from {{ ref('stg_config__settings') }}

),

pivoted as (

    select
        max(case when setting_key = 'conversion_window_days' then setting_value end) as conversion_window_days,
        max(case when setting_key = 'conversion_stage' then setting_value end) as conversion_stage,
        max(case when setting_key = 'attribution_half_life_days' then setting_value end) as attribution_half_life_days,
        max(case when setting_key = 'spike_bucket' then setting_value end) as spike_bucket,
        max(case when setting_key = 'spike_window_days' then setting_value end) as spike_window_days,
        max(case when setting_key = 'spike_min_count' then setting_value end) as spike_min_count,
        max(case when setting_key = 'spike_z' then setting_value end) as spike_z

    from settings

),

resolved as (

    select
        coalesce(cast(cast(conversion_window_days as double) as integer), 90) as conversion_window_days,
        coalesce(nullif(conversion_stage, ''), 'purchase') as conversion_stage,
        coalesce(cast(attribution_half_life_days as double), 7.0) as attribution_half_life_days,
        coalesce(lower(nullif(spike_bucket, '')), 'hour') as spike_bucket,
        coalesce(cast(cast(spike_window_days as double) as integer), 28) as spike_window_days,
        coalesce(cast(cast(spike_min_count as double) as integer), 5) as spike_min_count,
        coalesce(cast(spike_z as double), 4.0) as spike_z

    from pivoted

)

select * from resolved
