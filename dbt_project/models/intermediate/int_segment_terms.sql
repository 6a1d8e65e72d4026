-- The words that name a product or a region in a text, one row per form with its
-- regular expression (macros/segments.sql): products from each brand's
-- `brands[].products` (brand set), regions from seeds/region_gazetteer.csv (brand
-- null: any brand). The grain of a region is the federal subject (Казань ->
-- Республика Татарстан; Москва and Санкт-Петербург are subjects of their own).

with

settings as (

    select * from {{ ref('stg_config__settings') }}

),

products as (

    select
        'product' as dimension,
        term.brand,
        trim(term.product) as segment_value,
        {{ normalize_text('trim(term.keyword)') }} as form

    from (
        select unnest(
            from_json(
                setting_value,
                '[{"brand": "VARCHAR", "product": "VARCHAR", "keyword": "VARCHAR"}]'
            )
        ) as term
        from settings
        where setting_key = 'products'
    )
    where trim(term.keyword) != ''

),

regions as (

    select
        'region' as dimension,
        null::varchar as brand,
        trim(region) as segment_value,
        {{ normalize_text('trim(form)') }} as form

    from {{ ref('region_gazetteer') }}

),

unioned as (

    select * from products
    union all
    select * from regions

),

final as (

    select
        dimension,
        brand,
        segment_value,
        form,
        {{ form_pattern('form') }} as pattern

    from unioned

)

select * from final
