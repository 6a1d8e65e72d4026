-- marts.cjm has a row for every configured brand × stage, even without data.

with

brands as (

    select * from {{ ref('stg_config__brands') }}

),

stages as (

    select * from {{ ref('stg_config__stages') }}

),

cjm as (

    select * from {{ ref('cjm') }}

),

expected as (

    select
        brands.brand,
        stages.stage

    from brands
    cross join stages

)

select expected.*
from expected
anti join cjm
    on expected.brand = cjm.brand
    and expected.stage = cjm.stage
