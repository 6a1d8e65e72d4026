with

source as (

    select * from {{ source('raw', 'crm_events') }}

),

renamed as (

    select

        ----------  ids
        event_id,
        native_id,
        customer_key,
        run_id,

        ---------- strings
        source,
        brand,
        lower(trim(event_type)) as event_type,
        channel,
        touchpoint,
        campaign,
        message,
        attributes,

        ---------- numerics
        amount,

        ---------- timestamps
        occurred_at,
        loaded_at,
        updated_at

    from source

)

select * from renamed
