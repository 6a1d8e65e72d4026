-- What the brand says where: for every brand × stage × channel with CRM touches or
-- mentions, the main touchpoint and message, the stage's goal, the metrics and a
-- recommendation picked by the channel_recommendations rules. The metrics are typed
-- columns (one per metric); the text people read (stage, channel, touchpoint, goal,
-- recommendation) is in the brand's display language, the codes in their own columns.

with

segment_settings as (

    select * from {{ ref('int_segment_settings') }}

),

customer_segments as (

    select * from {{ ref('int_customer_segments') }}

),

-- the map's segment (config journey_map.segment_by): 'all' when not split, 'unknown'
-- for a customer or mention without a value (mentions have no customer segment)
touches as (

    select
        touches.*,
        case segment_settings.segment_by
            when 'none' then 'all'
            when 'customer_segment' then coalesce(customer_segments.customer_segment, 'unknown')
            when 'region' then coalesce(customer_segments.region, 'unknown')
            when 'product' then coalesce(customer_segments.product, 'unknown')
        end as segment

    from {{ ref('int_customer_touches') }} as touches
    cross join segment_settings
    left join customer_segments
        on touches.brand = customer_segments.brand
        and touches.customer_key = customer_segments.customer_key

),

mentions as (

    select
        mentions.*,
        case segment_settings.segment_by
            when 'none' then 'all'
            when 'region' then coalesce(mentions.region, 'unknown')
            when 'product' then coalesce(mentions.product, 'unknown')
            else 'unknown'
        end as segment

    from {{ ref('mentions') }} as mentions
    cross join segment_settings
    -- stories, not copies: a repost counts once, on its original; about the brand only
    where not mentions.is_repost and mentions.is_relevant is not false

),

stages as (

    select * from {{ ref('int_stages_sequenced') }}

),

stage_goals as (

    select * from {{ ref('stage_goals') }}

),

rules as (

    select * from {{ ref('channel_recommendations') }}

),

brands as (

    select * from {{ ref('stg_config__brands') }}

),

labels as (

    select * from {{ ref('int_labels_localized') }}

),

-- a mention's touchpoint is the site it was posted on (its link's host), else its
-- channel: where the brand meets the customer, not the config's source name
touchpoint_events as (

    select brand, segment, stage, channel, touchpoint from touches
    union all
    select
        brand,
        segment,
        stage,
        channel,
        coalesce(nullif(regexp_extract(url, '^[A-Za-z]+://(?:www\.)?([^/:?#]+)', 1), ''), channel)
            as touchpoint
    from mentions

),

top_touchpoints as (

    select
        brand,
        segment,
        stage,
        channel,
        touchpoint

    from touchpoint_events
    group by brand, segment, stage, channel, touchpoint
    qualify row_number() over (
        partition by brand, segment, stage, channel order by count(*) desc, touchpoint
    ) = 1

),

top_messages as (

    select
        brand,
        segment,
        stage,
        channel,
        coalesce(message, campaign) as message

    from touches
    where coalesce(message, campaign) is not null
    group by brand, segment, stage, channel, coalesce(message, campaign)
    qualify row_number() over (
        partition by brand, segment, stage, channel order by count(*) desc, coalesce(message, campaign)
    ) = 1

),

-- the campaigns run here, most touches first
campaign_counts as (

    select
        brand,
        segment,
        stage,
        channel,
        campaign,
        count(*) as n_touches,
        row_number() over (
            partition by brand, segment, stage, channel order by count(*) desc, campaign
        ) as campaign_rank

    from touches
    where campaign is not null
    group by brand, segment, stage, channel, campaign

),

top_campaigns as (

    select
        brand,
        segment,
        stage,
        channel,
        string_agg(campaign || ' (' || n_touches || ')', ', ' order by campaign_rank) as campaigns

    from campaign_counts
    where campaign_rank <= 3
    group by brand, segment, stage, channel

),

crm_stats as (

    select
        brand,
        segment,
        stage,
        channel,
        count(*) as touches,
        count(distinct customer_key) as customers,
        count(distinct customer_key) filter (where is_followed_by_next_stage) as converted_customers

    from touches
    group by all

),

mention_stats as (

    select
        brand,
        segment,
        stage,
        channel,
        count(*) as mentions,
        count(*) filter (where sentiment = 'positive') as positive_mentions,
        count(*) filter (where sentiment = 'negative') as negative_mentions,
        -- audience and interactions where sources or exports give them (null: none known)
        cast(sum(reach) as bigint) as reach,
        cast(sum(engagement) as bigint) as engagement

    from mentions
    group by all

),

cells as (

    select brand, segment, stage, channel from crm_stats
    union
    select brand, segment, stage, channel from mention_stats

),

measured as (

    select
        cells.brand,
        cells.segment,
        cells.stage,
        cells.channel,
        stages.stage_order,
        coalesce(crm_stats.touches, 0) as touches,
        coalesce(crm_stats.customers, 0) as customers,
        coalesce(mention_stats.mentions, 0) as mentions,
        coalesce(crm_stats.touches, 0) + coalesce(mention_stats.mentions, 0) as interactions,
        case
            when stages.next_stage is not null and crm_stats.customers > 0
                then round(crm_stats.converted_customers / nullif(crm_stats.customers, 0), 6)
        end as conversion_rate,
        round(
            (mention_stats.positive_mentions - mention_stats.negative_mentions)
            / nullif(mention_stats.mentions, 0),
            6
        ) as net_sentiment,
        round(mention_stats.negative_mentions / nullif(mention_stats.mentions, 0), 6) as negative_share,
        mention_stats.reach,
        mention_stats.engagement

    from cells
    inner join stages
        on cells.stage = stages.stage
    left join crm_stats
        on cells.brand = crm_stats.brand
        and cells.segment = crm_stats.segment
        and cells.stage = crm_stats.stage
        and cells.channel = crm_stats.channel
    left join mention_stats
        on cells.brand = mention_stats.brand
        and cells.segment = mention_stats.segment
        and cells.stage = mention_stats.stage
        and cells.channel = mention_stats.channel

),

rule_checks as (

    select
        measured.brand,
        measured.segment,
        measured.stage,
        measured.channel,
        rules.rule_id,
        rules.priority,
        rules.metric,
        rules.operator,
        rules.threshold,
        rules.recommendation_ru,
        rules.recommendation_en,
        case rules.metric
            when 'conversion_rate' then measured.conversion_rate
            when 'net_sentiment' then measured.net_sentiment
            when 'negative_share' then measured.negative_share
            when 'mentions' then measured.mentions
            when 'customers' then measured.customers
            when 'interactions' then measured.interactions
        end as metric_value

    from measured
    cross join rules

),

rule_matches as (

    select
        brand,
        segment,
        stage,
        channel,
        rule_id,
        recommendation_ru,
        recommendation_en

    from rule_checks
    where
        metric = 'always'
        or case operator
            when '<' then metric_value < threshold
            when '<=' then metric_value <= threshold
            when '>' then metric_value > threshold
            when '>=' then metric_value >= threshold
        end
    qualify row_number() over (
        partition by brand, segment, stage, channel order by priority, rule_id
    ) = 1

),

final as (

    select
        measured.brand,
        segment_settings.segment_by,
        measured.segment,
        measured.stage,
        {{ label_or_code('stage_labels.label', 'measured.stage') }} as stage_label,
        measured.channel,
        {{ label_or_code('channel_labels.label', 'measured.channel') }} as channel_label,
        measured.stage_order,
        top_touchpoints.touchpoint,
        {{ label_or_code('touchpoint_labels.label', 'top_touchpoints.touchpoint') }} as touchpoint_label,
        top_messages.message,
        top_campaigns.campaigns,
        case brands.display_language when 'ru' then stage_goals.goal_ru else stage_goals.goal_en end as goal,
        case brands.display_language
            when 'ru' then rule_matches.recommendation_ru
            else rule_matches.recommendation_en
        end as recommendation,
        rule_matches.rule_id as recommendation_rule_id,
        measured.conversion_rate,
        measured.net_sentiment,
        measured.negative_share,
        measured.mentions,
        measured.customers,
        measured.touches,
        measured.interactions,
        measured.reach,
        measured.engagement

    from measured
    cross join segment_settings
    inner join brands
        on measured.brand = brands.brand
    left join labels as stage_labels
        on measured.brand = stage_labels.brand
        and stage_labels.kind = 'stage'
        and measured.stage = stage_labels.code
    left join labels as channel_labels
        on measured.brand = channel_labels.brand
        and channel_labels.kind = 'channel'
        and measured.channel = channel_labels.code
    left join top_touchpoints
        on measured.brand = top_touchpoints.brand
        and measured.segment = top_touchpoints.segment
        and measured.stage = top_touchpoints.stage
        and measured.channel = top_touchpoints.channel
    left join labels as touchpoint_labels
        on measured.brand = touchpoint_labels.brand
        and touchpoint_labels.kind = 'channel'
        and top_touchpoints.touchpoint = touchpoint_labels.code
    left join top_messages
        on measured.brand = top_messages.brand
        and measured.segment = top_messages.segment
        and measured.stage = top_messages.stage
        and measured.channel = top_messages.channel
    left join top_campaigns
        on measured.brand = top_campaigns.brand
        and measured.segment = top_campaigns.segment
        and measured.stage = top_campaigns.stage
        and measured.channel = top_campaigns.channel
    left join stage_goals
        on measured.stage = stage_goals.stage
    left join rule_matches
        on measured.brand = rule_matches.brand
        and measured.segment = rule_matches.segment
        and measured.stage = rule_matches.stage
        and measured.channel = rule_matches.channel

)

select * from final
order by brand, segment, stage_order, channel
