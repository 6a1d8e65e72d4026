with

source as (

    select * from {{ source('config', 'stages') }}

),

renamed as (

    select

        ---------- ids
        stage,

        ---------- strings
        label as stage_label,

        ---------- numerics
        stage_order

    from source

)

select * from renamed
