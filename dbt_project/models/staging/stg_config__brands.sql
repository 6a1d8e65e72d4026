with

source as (

    select * from {{ source('config', 'brands') }}

),

renamed as (

    select

        ---------- ids
        brand,

        ---------- strings
        coalesce(keywords, []::varchar[]) as keywords,
        coalesce(exclude, []::varchar[]) as exclude_keywords,
        coalesce(languages, []::varchar[]) as languages

    from source

)

select * from renamed
