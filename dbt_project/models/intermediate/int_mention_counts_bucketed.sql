-- Mentions and negative mentions per brand × source × bucket (hour or day, setting
-- spike_bucket), plus source 'all' for the brand total. Only buckets that hold
-- mentions: int_negative_buckets_scored lays them on a gap-free spine. The spike
-- benchmark (cjm/bench/alerts.py) writes this table itself and runs the models
-- downstream of it, so the benchmark and the warehouse share one detector.

with

mentions as (

    select * from {{ ref('int_mentions_scored') }}
    -- about the brand only (relevance.min_score): an off-topic burst is no incident
    where is_relevant is not false

),

settings as (

    select * from {{ ref('int_settings_resolved') }}

),

bucketed as (

    select
        mentions.brand,
        mentions.source,
        mentions.sentiment = 'negative' as is_negative,
        -- naive UTC timestamps: bucket arithmetic independent of the session time zone
        date_trunc(
            case when settings.spike_bucket = 'day' then 'day' else 'hour' end,
            mentions.published_at at time zone 'UTC'
        ) as bucket_at

    from mentions
    cross join settings

),

per_source as (

    select
        brand,
        source,
        bucket_at,
        count(*) as mentions,
        count(*) filter (where is_negative) as negative_mentions

    from bucketed
    group by brand, source, bucket_at

),

brand_total as (

    select
        brand,
        'all' as source,
        bucket_at,
        sum(mentions) as mentions,
        sum(negative_mentions) as negative_mentions

    from per_source
    group by brand, bucket_at

),

unioned as (

    select * from brand_total
    union all
    select * from per_source

)

select
    brand,
    source,
    bucket_at,
    cast(mentions as bigint) as mentions,
    cast(negative_mentions as bigint) as negative_mentions

from unioned
