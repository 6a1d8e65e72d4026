with

scored as (

    select * from {{ ref('int_mentions_scored') }}

),

final as (

    select
        mention_id,
        source,
        source_type,
        native_id,
        brand,
        channel,
        url,
        author,
        title,
        text,
        published_at,
        language,
        sentiment,
        sentiment_score,
        stage,
        topics,
        emotion,
        author_role,
        nps_signal,
        matched_keywords,
        sentiment_terms

    from scored

)

select * from final
order by published_at, mention_id
