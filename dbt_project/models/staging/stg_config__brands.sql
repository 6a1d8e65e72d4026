with

source as (

    select * from {{ source('config', 'brands') }}

),

relevance as (

    select * from {{ source('config', 'brand_relevance') }}

),

display as (

    select * from {{ source('config', 'brand_display') }}

),

renamed as (

    select

        ---------- ids
        source.brand,

        ---------- strings
        coalesce(source.keywords, []::varchar[]) as keywords,
        coalesce(source.exclude, []::varchar[]) as exclude_keywords,
        coalesce(source.languages, []::varchar[]) as languages,
        coalesce(relevance.context, []::varchar[]) as context,
        coalesce(relevance.off_topic, []::varchar[]) as off_topic,
        -- the loader writes cjm.config.Brand.display_language; a brand without a row
        -- (a warehouse loaded by an older release) reads English
        coalesce(display.language, 'en') as display_language,

        ---------- numerics
        -- the default of cjm.config.Relevance.min_score (enrichment.relevance.DEFAULT_MIN_SCORE)
        coalesce(relevance.min_score, 0.3) as min_relevance

    from source
    left join relevance on source.brand = relevance.brand
    left join display on source.brand = display.brand

)

select * from renamed
