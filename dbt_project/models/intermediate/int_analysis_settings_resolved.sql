-- One row: the thresholds of the driver, barrier-impact and path marts (config
-- stages.analysis, written by the loader as analysis.<key>), typed. The fallbacks
-- are those of cjm.core.config.JourneyAnalysis, for a warehouse synced before the keys
-- existed; a value that is not a number fails the build loudly.

with

settings as (

    select * from {{ ref('stg_config__settings') }}
    where starts_with(setting_key, 'analysis.')

),

pivoted as (

    select
        max(setting_value) filter (where setting_key = 'analysis.min_group_customers') as min_group_customers,
        max(setting_value) filter (where setting_key = 'analysis.min_expected_count') as min_expected_count,
        max(setting_value) filter (where setting_key = 'analysis.fdr_alpha') as fdr_alpha,
        max(setting_value) filter (where setting_key = 'analysis.barrier_exposure_days') as barrier_exposure_days,
        max(setting_value) filter (where setting_key = 'analysis.barrier_window_weeks') as barrier_window_weeks,
        max(setting_value) filter (where setting_key = 'analysis.barrier_max_lag_weeks') as barrier_max_lag_weeks,
        max(setting_value) filter (where setting_key = 'analysis.barrier_min_weeks') as barrier_min_weeks,
        max(setting_value) filter (where setting_key = 'analysis.max_paths') as max_paths

    from settings

),

resolved as (

    select
        coalesce(cast(cast(min_group_customers as double) as integer), 30) as min_group_customers,
        coalesce(cast(min_expected_count as double), 5.0) as min_expected_count,
        coalesce(cast(fdr_alpha as double), 0.05) as fdr_alpha,
        coalesce(cast(cast(barrier_exposure_days as double) as integer), 7) as barrier_exposure_days,
        coalesce(cast(cast(barrier_window_weeks as double) as integer), 8) as barrier_window_weeks,
        coalesce(cast(cast(barrier_max_lag_weeks as double) as integer), 2) as barrier_max_lag_weeks,
        coalesce(cast(cast(barrier_min_weeks as double) as integer), 4) as barrier_min_weeks,
        coalesce(cast(cast(max_paths as double) as integer), 50) as max_paths

    from pivoted

)

select * from resolved
