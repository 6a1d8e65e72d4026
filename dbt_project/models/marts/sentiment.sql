-- Daily sentiment counts by brand, source, stage and topic, with rolling 7-day
-- values (the day and the six before it) of the same series. Days are calendar days
-- of the reporting time zone (config reporting_timezone); stage and topic carry
-- their labels in the brand's display language. A mention with
-- several topics counts once under each; one without a topic counts under 'none'.
-- Incremental by day (macros/incremental.sql): a refresh rebuilds only the days
-- whose mentions changed, and the six days after each.

with

mentions as (

    select
        *,
        {{ local_date('published_at') }} as day

    from {{ ref('mentions') }}
    -- stories, not copies: a repost counts once, on its original; about the brand only
    where not is_repost and is_relevant is not false

),

labels as (

    select * from {{ ref('int_labels_localized') }}

),

-- what a day's rows are computed with besides its mentions: the time zone and the
-- labels (a changed label or display language rebuilds every day)
build_signature as (

    select hash(
        {{ reporting_timezone() }},
        coalesce(string_agg(brand || kind || code || label, '|' order by brand, kind, code), '')
    ) as signature
    from labels

),

day_fingerprints as (

    select
        day,
        xor(
            bit_xor(hash(mention_id, brand, source, stage, topics, sentiment, published_at)),
            any_value(build_signature.signature)
        ) as day_fingerprint

    from mentions
    cross join build_signature
    group by day

),

stored_fingerprints as (

    {{ stored_day_fingerprints() }}

),

changed_days as (

    select day_fingerprints.day
    from day_fingerprints
    left join stored_fingerprints
        on day_fingerprints.day = stored_fingerprints.day
    where day_fingerprints.day_fingerprint is distinct from stored_fingerprints.day_fingerprint

),

-- a changed day changes its own rolling values and those of the next six days
rebuilt_days as (

    select distinct cast(changed_days.day + cast(offsets.days_after as integer) as date) as day
    from changed_days
    cross join range(0, 7) as offsets(days_after)

),

-- and those need the counts of the six days before each
read_days as (

    select distinct cast(rebuilt_days.day - cast(offsets.days_before as integer) as date) as day
    from rebuilt_days
    cross join range(0, 7) as offsets(days_before)

),

by_topic as (

    select
        mentions.day,
        mentions.brand,
        mentions.source,
        mentions.stage,
        unnest(case when len(mentions.topics) = 0 then ['none'] else mentions.topics end) as topic,
        mentions.sentiment

    from mentions
    semi join read_days
        on mentions.day = read_days.day

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

rolling as (

    select
        *,
        sum(mentions) over last_7_days as mentions_7d,
        sum(positive) over last_7_days as positive_7d,
        sum(negative) over last_7_days as negative_7d

    from aggregated
    window last_7_days as (
        partition by brand, source, stage, topic
        order by day
        range between interval 6 days preceding and current row
    )

),

final as (

    select
        rolling.day,
        rolling.brand,
        rolling.source,
        rolling.stage,
        {{ label_or_code('stage_labels.label', 'rolling.stage') }} as stage_label,
        rolling.topic,
        {{ label_or_code('topic_labels.label', 'rolling.topic') }} as topic_label,
        rolling.mentions,
        rolling.positive,
        rolling.neutral,
        rolling.negative,
        round((rolling.positive - rolling.negative) / nullif(rolling.mentions, 0), 6) as net_sentiment,
        cast(rolling.mentions_7d as bigint) as mentions_7d,
        cast(rolling.negative_7d as bigint) as negative_7d,
        round((rolling.positive_7d - rolling.negative_7d) / rolling.mentions_7d, 6) as net_sentiment_7d,
        day_fingerprints.day_fingerprint

    from rolling
    semi join rebuilt_days
        on rolling.day = rebuilt_days.day
    inner join day_fingerprints
        on rolling.day = day_fingerprints.day
    left join labels as stage_labels
        on rolling.brand = stage_labels.brand
        and stage_labels.kind = 'stage'
        and rolling.stage = stage_labels.code
    left join labels as topic_labels
        on rolling.brand = topic_labels.brand
        and topic_labels.kind = 'topic'
        and rolling.topic = topic_labels.code

)

select * from final
order by day, brand, source, stage, topic
