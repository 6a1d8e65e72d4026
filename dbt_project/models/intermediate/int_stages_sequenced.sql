-- The configured journey stages in order, each with the stage that follows it.

with

stages as (

    select * from {{ ref('stg_config__stages') }}

),

sequenced as (

    select
        stage,
        stage_label,
        stage_order,
        lead(stage) over (order by stage_order, stage) as next_stage,
        row_number() over (order by stage_order, stage) = 1 as is_first_stage

    from stages

)

select * from sequenced
