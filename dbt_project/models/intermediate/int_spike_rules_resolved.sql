-- One row per configured brand, plus brand '*' (the defaults, for brands outside the
-- config): the spike rule from `alerts.spike` with the brand's overrides applied.
-- The loader writes the resolved rules as JSON (setting spike_rules); a warehouse
-- synced by an older loader (or never synced) falls back to the scalar spike_* settings
-- and the seed spike_rule_defaults (generated from the config model).

with

settings as (

    select * from {{ ref('stg_config__settings') }}

),

resolved_settings as (

    select * from {{ ref('int_settings_resolved') }}

),

from_json as (

    select unnest(
        from_json(
            setting_value,
            '[{"brand": "VARCHAR", "bucket": "VARCHAR", "window_days": "INTEGER",
               "min_count": "INTEGER", "z": "DOUBLE", "sustained_z": "DOUBLE", "min_share": "DOUBLE",
               "seasonal_weight": "DOUBLE", "cooldown_hours": "INTEGER",
               "min_history_days": "INTEGER"}]'
        ),
        recursive := true
    )

    from settings
    where setting_key = 'spike_rules'

),

fallback as (

    select
        '*' as brand,
        spike_bucket as bucket,
        spike_window_days as window_days,
        spike_min_count as min_count,
        spike_z as z,
        spike_defaults.sustained_z,
        spike_defaults.min_share,
        spike_defaults.seasonal_weight,
        spike_defaults.cooldown_hours,
        spike_defaults.min_history_days

    from resolved_settings
    cross join {{ ref('spike_rule_defaults') }} as spike_defaults
    where not exists (select 1 from from_json)

),

unioned as (

    select brand, bucket, window_days, min_count, z, sustained_z, min_share, seasonal_weight, cooldown_hours, min_history_days
    from from_json
    union all
    select brand, bucket, window_days, min_count, z, sustained_z, min_share, seasonal_weight, cooldown_hours, min_history_days
    from fallback

),

final as (

    select
        brand,
        -- one time axis for every brand: the bucket is global
        (select spike_bucket from resolved_settings) as spike_bucket,
        window_days,
        min_count,
        z,
        sustained_z,
        min_share,
        seasonal_weight,
        cooldown_hours,
        min_history_days

    from unioned

)

select * from final
