-- How often customers speak negatively: negative mentions per local day × brand ×
-- stage × channel, and per 1,000 of the cell's mentions, so a busy channel and a quiet
-- one compare on one scale. Stories about the brand (not reposts, is_relevant) in the
-- customers' voice (no brand account), as in the other story marts.

with

mentions as (

    select * from {{ ref('mentions') }}
    where not is_repost
        and is_relevant is not false
        and not is_brand_account

),

labels as (

    select * from {{ ref('int_labels_localized') }}

),

counted as (

    select
        published_date,
        brand,
        brand_role,
        stage,
        any_value(stage_label) as stage_label,
        channel,
        count(*) as mentions,
        count(*) filter (where sentiment = 'negative') as negative_mentions

    from mentions
    group by published_date, brand, brand_role, stage, channel

),

final as (

    select
        counted.published_date,
        counted.brand,
        counted.brand_role,
        counted.stage,
        counted.stage_label,
        counted.channel,
        {{ label_or_code('channel_labels.label', 'counted.channel') }} as channel_label,
        counted.mentions,
        counted.negative_mentions,
        1000.0 * counted.negative_mentions / counted.mentions as negatives_per_1000

    from counted
    left join labels as channel_labels
        on counted.brand = channel_labels.brand
        and channel_labels.kind = 'channel'
        and counted.channel = channel_labels.code

)

select * from final
order by published_date, brand, stage, channel
