-- Share of voice: how much of its market's conversation each brand holds, and how much
-- of the market's negativity, per local day × market × brand × channel × source type.
-- Counts are stories (not reposts) about the brand (is_relevant) in the customers'
-- voice (not a brand's own account), as in the other story marts; shares are of all
-- the market's brands in the same day, channel and source type, so they add up to 1
-- across brands in one cell. Reach and engagement sum what sources and exports give
-- (null where none of the cell's mentions carries one).

with

mentions as (

    select * from {{ ref('mentions') }}
    where not is_repost  -- stories, not copies
        and is_relevant is not false  -- about the brand (relevance.min_score)
        and not is_brand_account  -- the market's voice, not the brands' own posts

),

labels as (

    select * from {{ ref('int_labels_localized') }}

),

counted as (

    select
        published_date,
        market,
        brand,
        brand_role,
        channel,
        source_type,
        count(*) as mentions,
        count(*) filter (where sentiment = 'positive') as positive_mentions,
        count(*) filter (where sentiment = 'negative') as negative_mentions,
        cast(sum(reach) as bigint) as reach,
        cast(sum(engagement) as bigint) as engagement

    from mentions
    group by all

),

shared as (

    select
        *,
        cast(sum(mentions) over cell as bigint) as market_mentions,
        cast(sum(negative_mentions) over cell as bigint) as market_negative_mentions

    from counted
    window cell as (partition by published_date, market, channel, source_type)

),

final as (

    select
        shared.published_date,
        shared.market,
        shared.brand,
        shared.brand_role,
        {{ label_or_code('role_labels.label', 'shared.brand_role') }} as brand_role_label,
        shared.channel,
        {{ label_or_code('channel_labels.label', 'shared.channel') }} as channel_label,
        shared.source_type,
        shared.mentions,
        shared.market_mentions,
        shared.mentions / shared.market_mentions as share_of_mentions,
        shared.positive_mentions,
        shared.negative_mentions,
        shared.market_negative_mentions,
        shared.negative_mentions / nullif(shared.market_negative_mentions, 0) as share_of_negatives,
        (shared.positive_mentions - shared.negative_mentions) / shared.mentions as net_sentiment,
        shared.reach,
        shared.engagement

    from shared
    left join labels as role_labels
        on shared.brand = role_labels.brand
        and role_labels.kind = 'brand_role'
        and shared.brand_role = role_labels.code
    left join labels as channel_labels
        on shared.brand = channel_labels.brand
        and channel_labels.kind = 'channel'
        and shared.channel = channel_labels.code

)

select * from final
order by published_date, market, channel, source_type, brand
