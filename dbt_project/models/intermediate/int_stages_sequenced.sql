-- The configured journey stages in order, each with the stage that follows it and
-- the window (days) within which entering that next stage counts as converting:
-- setting `conversion_window_days.<stage>` when given, else `conversion_window_days`.

with

stages as (

    select * from {{ ref('stg_config__stages') }}

),

settings as (

    select * from {{ ref('stg_config__settings') }}

),

defaults as (

    select * from {{ ref('int_settings_resolved') }}

),

step_windows as (

    select
        substr(setting_key, length('conversion_window_days.') + 1) as stage,
        cast(cast(setting_value as double) as integer) as conversion_window_days

    from settings
    where starts_with(setting_key, 'conversion_window_days.')

),

sequenced as (

    select
        stages.stage,
        stages.stage_label,
        stages.stage_order,
        lead(stages.stage) over (order by stages.stage_order, stages.stage) as next_stage,
        row_number() over (order by stages.stage_order, stages.stage) = 1 as is_first_stage,
        coalesce(
            step_windows.conversion_window_days, defaults.conversion_window_days
        ) as conversion_window_days

    from stages
    cross join defaults
    left join step_windows
        on lower(stages.stage) = lower(step_windows.stage)

)

select * from sequenced
