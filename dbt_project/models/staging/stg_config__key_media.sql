with

source as (

    select * from {{ source('config', 'key_media') }}

),

renamed as (

    select

        ---------- ids
        medium,

        ---------- strings
        coalesce(sources, []::varchar[]) as sources,
        list_transform(coalesce(outlets, []::varchar[]), o -> lower(trim(o))) as outlet_keys,
        list_transform(coalesce(domains, []::varchar[]), d -> lower(trim(d))) as domains,

        ---------- numerics
        weight

    from source

)

select * from renamed
