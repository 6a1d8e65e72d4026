-- Daily sentiment counts by brand, source, stage and topic. A mention with several
-- topics counts once under each; one without a topic counts under 'none'.

with

mentions as (

    select * from {{ ref('int_mentions_scored') }}

),

by_topic as (

    select
        {{ utc_date('published_at') }} as day,
        brand,
        source,
        stage,
        unnest(case when len(topics) = 0 then ['none'] else topics end) as topic,
        sentiment

    from mentions

),

aggregated as (

    select
        day,
        brand,
        source,
        stage,
        topic,
        count(*) as mentions,
        count(*) filter (where sentiment = 'positive') as positive,
        count(*) filter (where sentiment = 'neutral') as neutral,
        count(*) filter (where sentiment = 'negative') as negative

    from by_topic
    group by all

),

final as (

    select
        *,
        round((positive - negative) / mentions, 6) as net_sentiment

    from aggregated

)

select * from final
order by day, brand, source, stage, topic
