with

source as (

    select * from {{ source('raw', 'mentions') }}

),

renamed as (

    select

        ----------  ids
        mention_id,
        native_id,
        run_id,

        ---------- strings
        source,
        source_type,
        channel,
        brand,
        language,
        url,
        author,
        title,
        text,
        matched_keywords,
        attributes,

        ---------- timestamps
        published_at,
        fetched_at,
        loaded_at,
        updated_at

    from source

)

select * from renamed
