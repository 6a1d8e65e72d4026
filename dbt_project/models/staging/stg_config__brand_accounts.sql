with

source as (

    select * from {{ source('config', 'brand_accounts') }}

),

renamed as (

    select distinct

        ---------- ids
        brand,
        source,

        ---------- strings
        -- authors compare case-insensitively ("Finly Support" = "finly support")
        lower(trim(author)) as author_key

    from source

)

select * from renamed
