with

brands as (

    select * from {{ ref('stg_config__brands') }}

),

markets as (

    select * from {{ source('config', 'brand_markets') }}

),

renamed as (

    select

        ---------- ids
        brands.brand,

        ---------- strings
        -- a warehouse loaded by an older release has no row: its brands are own brands
        -- of one market (the defaults of cjm.config.Brand role / market)
        coalesce(markets.role, 'own') as brand_role,
        coalesce(markets.market, 'default') as market

    from brands
    left join markets on brands.brand = markets.brand

)

select * from renamed
