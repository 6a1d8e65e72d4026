-- Every display label in each brand's display language: (brand, kind, code) → label.
-- Stages take the config's `stages.labels` when given (the analyst's own words win),
-- else the seed's label, else the code; other kinds the seed's label. Marts join here
-- and fall back to the code with spaces for a code without a row (a CRM event type
-- nobody labelled yet), so a reader never sees an underscore.

with

brands as (

    select * from {{ ref('stg_config__brands') }}

),

labels as (

    select * from {{ ref('display_labels') }}

),

stages as (

    select * from {{ ref('stg_config__stages') }}

),

seed_labels as (

    select
        brands.brand,
        labels.kind,
        labels.code,
        case brands.display_language when 'ru' then labels.label_ru else labels.label_en end as label

    from brands
    cross join labels

),

configured_stages as (

    select
        brands.brand,
        'stage' as kind,
        stages.stage as code,
        coalesce(
            -- the loader writes the code itself when no label is configured
            nullif(stages.stage_label, stages.stage),
            seed_labels.label,
            replace(stages.stage, '_', ' ')
        ) as label

    from brands
    cross join stages
    left join seed_labels
        on brands.brand = seed_labels.brand
        and seed_labels.kind = 'stage'
        and stages.stage = seed_labels.code

),

final as (

    select * from configured_stages
    union all
    select seed_labels.*
    from seed_labels
    anti join configured_stages
        on seed_labels.brand = configured_stages.brand
        and seed_labels.kind = configured_stages.kind
        and seed_labels.code = configured_stages.code

)

select * from final
