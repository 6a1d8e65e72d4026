-- The keyword map: every topic customers talk about, per brand, by frequency and
-- tonality — how many mentions, how positive or negative, where in the journey,
-- and whether it is growing (last 7 days against the 7 before, at the brand's
-- newest mention). Customers' voice only: the brand's own posts are left out.
-- Days are those of the reporting time zone; topic, tonality and stage carry labels
-- in the brand's display language. Competitors (config `role: competitor`) get rows of
-- their own, and every row carries the brand's market and what the market's other
-- brands say on the same topic (competitor_mentions, competitor_barrier_mentions,
-- competitor_net_sentiment), so a brand's barriers read beside its competitors'.

with

mentions as (

    select * from {{ ref('mentions') }}
    where {{ customers_voice() }}

),

labels as (

    select * from {{ ref('int_labels_localized') }}

),

markets as (

    select * from {{ ref('stg_config__brand_markets') }}

),

brand_latest as (

    select
        brand,
        max({{ local_date('published_at') }}) as latest_day,
        count(*) as brand_mentions

    from mentions
    group by brand

),

by_topic as (

    select
        mentions.brand,
        unnest(mentions.topics) as topic,
        mentions.stage,
        mentions.sentiment,
        mentions.sentiment_score,
        mentions.barriers,
        {{ local_date('mentions.published_at') }} as day

    from mentions

),

stage_counts as (

    select
        brand,
        topic,
        stage,
        count(*) as n_mentions

    from by_topic
    group by brand, topic, stage
    qualify row_number() over (partition by brand, topic order by count(*) desc, stage) = 1

),

aggregated as (

    select
        by_topic.brand,
        by_topic.topic,
        count(*) as mentions,
        count(*) filter (where by_topic.sentiment = 'positive') as positive,
        count(*) filter (where by_topic.sentiment = 'neutral') as neutral,
        count(*) filter (where by_topic.sentiment = 'negative') as negative,
        avg(by_topic.sentiment_score) as mean_sentiment_score,
        -- the topic named as a problem (enrichment barriers: its own tonality negative)
        count(*) filter (where list_contains(by_topic.barriers, by_topic.topic)) as barrier_mentions,
        count(*) filter (where by_topic.day > brand_latest.latest_day - 7) as mentions_last_7d,
        count(*) filter (
            where by_topic.day <= brand_latest.latest_day - 7
            and by_topic.day > brand_latest.latest_day - 14
        ) as mentions_prior_7d,
        min(by_topic.day) as first_seen_date,
        max(by_topic.day) as last_seen_date

    from by_topic
    inner join brand_latest
        on by_topic.brand = brand_latest.brand
    group by by_topic.brand, by_topic.topic

),

in_market as (

    select
        aggregated.*,
        coalesce(markets.brand_role, 'own') as brand_role,
        coalesce(markets.market, 'default') as market,
        cast(sum(aggregated.mentions) over market_topic - aggregated.mentions as bigint)
            as competitor_mentions,
        cast(sum(aggregated.barrier_mentions) over market_topic - aggregated.barrier_mentions as bigint)
            as competitor_barrier_mentions,
        sum(aggregated.positive) over market_topic - aggregated.positive as competitor_positive,
        sum(aggregated.negative) over market_topic - aggregated.negative as competitor_negative

    from aggregated
    left join markets on aggregated.brand = markets.brand
    window market_topic as (
        partition by coalesce(markets.market, 'default'), aggregated.topic
    )

),

final as (

    select
        aggregated.brand,
        aggregated.brand_role,
        aggregated.market,
        aggregated.topic,
        {{ label_or_code('topic_labels.label', 'aggregated.topic') }} as topic_label,
        row_number() over (
            partition by aggregated.brand order by aggregated.mentions desc, aggregated.topic
        ) as frequency_rank,
        aggregated.mentions,
        round(aggregated.mentions / nullif(brand_latest.brand_mentions, 0), 6) as share_of_mentions,
        aggregated.positive,
        aggregated.neutral,
        aggregated.negative,
        round((aggregated.positive - aggregated.negative) / nullif(aggregated.mentions, 0), 6) as net_sentiment,
        round(aggregated.negative / nullif(aggregated.mentions, 0), 6) as negative_share,
        round(aggregated.mean_sentiment_score, 6) as mean_sentiment_score,
        case
            when (aggregated.positive - aggregated.negative) / nullif(aggregated.mentions, 0) >= 0.2 then 'positive'
            when (aggregated.positive - aggregated.negative) / nullif(aggregated.mentions, 0) <= -0.2 then 'negative'
            when aggregated.positive > 0 and aggregated.negative > 0
                and least(aggregated.positive, aggregated.negative) >= 0.25 * aggregated.mentions
                then 'mixed'
            else 'neutral'
        end as tonality,
        stage_counts.stage as top_stage,
        {{ label_or_code('stage_labels.label', 'stage_counts.stage') }} as top_stage_label,
        aggregated.mentions_last_7d,
        aggregated.mentions_prior_7d,
        aggregated.first_seen_date,
        aggregated.last_seen_date,
        aggregated.barrier_mentions,
        row_number() over (
            partition by aggregated.brand
            order by aggregated.barrier_mentions desc, aggregated.topic
        ) as barrier_rank,
        aggregated.competitor_mentions,
        aggregated.competitor_barrier_mentions,
        round(
            (aggregated.competitor_positive - aggregated.competitor_negative)
            / nullif(aggregated.competitor_mentions, 0), 6
        ) as competitor_net_sentiment

    from in_market as aggregated
    inner join brand_latest
        on aggregated.brand = brand_latest.brand
    inner join stage_counts
        on aggregated.brand = stage_counts.brand
        and aggregated.topic = stage_counts.topic
    left join labels as topic_labels
        on aggregated.brand = topic_labels.brand
        and topic_labels.kind = 'topic'
        and aggregated.topic = topic_labels.code
    left join labels as stage_labels
        on aggregated.brand = stage_labels.brand
        and stage_labels.kind = 'stage'
        and stage_counts.stage = stage_labels.code

)

select * from final
order by brand, frequency_rank
