with

source as (

    select * from {{ source('config', 'settings') }}

),

renamed as (

    select

        ---------- ids
        lower(trim(key)) as setting_key,

        ---------- strings
        trim(value) as setting_value

    from source

)

select * from renamed
