with

source as (

    select * from {{ source('config', 'event_stages') }}

),

renamed as (

    select

        ---------- ids
        lower(trim(event_type)) as event_type,

        ---------- strings
        stage

    from source

)

select * from renamed
