-- The Customer Journey Map: one row for every configured brand × stage, in stage
-- order, even when the stage has no data yet. Mentions written by the brand itself
-- (author_role = 'brand') are left out: the map shows the customers' voice.
-- Customer actions are what customers do (top CRM event types) and what they talk
-- about at the stage (top topics of their mentions, any tone).
-- People read the text cells: every code in them is shown as its label in the brand's
-- display language (int_labels_localized); the codes stay in stage and *_codes.

with

brands as (

    select * from {{ ref('stg_config__brands') }}

),

stages as (

    select * from {{ ref('int_stages_sequenced') }}

),

touches as (

    select * from {{ ref('int_customer_touches') }}

),

transitions as (

    select * from {{ ref('int_stage_transitions_measured') }}

),

entries as (

    select * from {{ ref('int_customer_stage_entries') }}

),

mentions as (

    select * from {{ ref('mentions') }}
    where {{ customers_voice() }}

),

barrier_recommendations as (

    select * from {{ ref('barrier_recommendations') }}

),

labels as (

    select * from {{ ref('int_labels_localized') }}

),

grid as (

    select
        brands.brand,
        brands.display_language,
        stages.stage,
        {{ label_or_code('stage_labels.label', 'stages.stage') }} as stage_label,
        stages.stage_order,
        stages.next_stage

    from brands
    cross join stages
    left join labels as stage_labels
        on brands.brand = stage_labels.brand
        and stage_labels.kind = 'stage'
        and stages.stage = stage_labels.code

),

action_counts as (

    select
        brand,
        stage,
        event_type,
        count(*) as n_events,
        row_number() over (
            partition by brand, stage order by count(*) desc, event_type
        ) as action_rank

    from touches
    group by brand, stage, event_type

),

actions as (

    select
        action_counts.brand,
        action_counts.stage,
        string_agg(
            {{ label_or_code('labels.label', 'action_counts.event_type') }}
            || ' (' || action_counts.n_events || ')',
            ', ' order by action_counts.action_rank
        ) as crm_actions

    from action_counts
    left join labels
        on action_counts.brand = labels.brand
        and labels.kind = 'event_type'
        and action_counts.event_type = labels.code
    where action_counts.action_rank <= 5
    group by action_counts.brand, action_counts.stage

),

mention_topics as (

    select
        brand,
        stage,
        unnest(topics) as topic

    from mentions

),

topic_counts as (

    select
        brand,
        stage,
        topic,
        count(*) as n_mentions,
        row_number() over (
            partition by brand, stage order by count(*) desc, topic
        ) as topic_rank

    from mention_topics
    group by brand, stage, topic

),

topics as (

    select
        topic_counts.brand,
        topic_counts.stage,
        string_agg(
            {{ label_or_code('labels.label', 'topic_counts.topic') }}
            || ' (' || topic_counts.n_mentions || ')',
            ', ' order by topic_counts.topic_rank
        ) as mention_topics,
        list(topic_counts.topic order by topic_counts.topic_rank) as topic_codes

    from topic_counts
    left join labels
        on topic_counts.brand = labels.brand
        and labels.kind = 'topic'
        and topic_counts.topic = labels.code
    where topic_counts.topic_rank <= 5
    group by topic_counts.brand, topic_counts.stage

),

emotion_counts as (

    select
        brand,
        stage,
        emotion,
        count(*) as n_mentions,
        sum(count(*)) over (partition by brand, stage) as n_with_emotion,
        row_number() over (
            partition by brand, stage order by count(*) desc, emotion
        ) as emotion_rank

    from mentions
    where emotion is not null
    group by brand, stage, emotion

),

emotions as (

    select
        emotion_counts.brand,
        emotion_counts.stage,
        string_agg(
            {{ label_or_code('labels.label', 'emotion_counts.emotion') }} || ' '
            || cast(round(100.0 * emotion_counts.n_mentions / emotion_counts.n_with_emotion) as integer)
            || '%',
            ', ' order by emotion_counts.emotion_rank
        ) as emotions

    from emotion_counts
    left join labels
        on emotion_counts.brand = labels.brand
        and labels.kind = 'emotion'
        and emotion_counts.emotion = labels.code
    where emotion_counts.emotion_rank <= 3
    group by emotion_counts.brand, emotion_counts.stage

),

channel_events as (

    select brand, stage, channel from touches
    union all
    select brand, stage, channel from mentions

),

channel_counts as (

    select
        brand,
        stage,
        channel,
        count(*) as n_interactions,
        row_number() over (
            partition by brand, stage order by count(*) desc, channel
        ) as channel_rank

    from channel_events
    group by brand, stage, channel

),

channels as (

    select
        channel_counts.brand,
        channel_counts.stage,
        string_agg(
            {{ label_or_code('labels.label', 'channel_counts.channel') }}
            || ' (' || channel_counts.n_interactions || ')',
            ', ' order by channel_counts.channel_rank
        ) as touchpoints

    from channel_counts
    left join labels
        on channel_counts.brand = labels.brand
        and labels.kind = 'channel'
        and channel_counts.channel = labels.code
    where channel_counts.channel_rank <= 3
    group by channel_counts.brand, channel_counts.stage

),

negative_topics as (

    select
        brand,
        stage,
        unnest(topics) as topic

    from mentions
    where sentiment = 'negative'

),

-- each barrier's impact in its latest week (marts.barrier_impact): how strongly its
-- share of the stage's mentions goes with the stage's drop-off
barrier_impacts as (

    select brand, stage, barrier, impact
    from {{ ref('barrier_impact') }}
    where is_latest_week

),

-- barriers ranked by impact; those without one (too few weeks) after them, by frequency
barrier_counts as (

    select
        negative_topics.brand,
        negative_topics.stage,
        negative_topics.topic,
        count(*) as n_mentions,
        row_number() over (
            partition by negative_topics.brand, negative_topics.stage
            order by any_value(barrier_impacts.impact) desc nulls last, count(*) desc, negative_topics.topic
        ) as barrier_rank

    from negative_topics
    left join barrier_impacts
        on negative_topics.brand = barrier_impacts.brand
        and negative_topics.stage = barrier_impacts.stage
        and negative_topics.topic = barrier_impacts.barrier
    group by negative_topics.brand, negative_topics.stage, negative_topics.topic

),

barriers as (

    select
        barrier_counts.brand,
        barrier_counts.stage,
        string_agg(
            {{ label_or_code('labels.label', 'barrier_counts.topic') }}
            || ' (' || barrier_counts.n_mentions || ')', ', '
            order by barrier_counts.barrier_rank
        ) as barriers,
        list(barrier_counts.topic order by barrier_counts.barrier_rank) as barrier_codes,
        string_agg(
            case brands.display_language
                when 'ru' then barrier_recommendations.opportunity_ru
                else barrier_recommendations.opportunity_en
            end,
            '; '
            order by barrier_counts.barrier_rank
        ) as opportunities

    from barrier_counts
    inner join brands
        on barrier_counts.brand = brands.brand
    left join labels
        on barrier_counts.brand = labels.brand
        and labels.kind = 'topic'
        and barrier_counts.topic = labels.code
    left join barrier_recommendations
        on barrier_counts.topic = barrier_recommendations.topic
    where barrier_counts.barrier_rank <= 3
    group by barrier_counts.brand, barrier_counts.stage

),

mention_stats as (

    select
        brand,
        stage,
        count(*) as mentions,
        count(*) filter (where sentiment = 'negative') as negative_mentions,
        count(*) filter (where nps_signal is not null) as nps_mentions,
        count(*) filter (where nps_signal = 'promoter') as promoters,
        count(*) filter (where nps_signal in ('detractor', 'churn')) as detractors,
        -- audience and interactions where sources or exports give them (null: none known)
        cast(sum(reach) as bigint) as reach,
        cast(sum(engagement) as bigint) as engagement

    from mentions
    group by all

),

customer_stats as (

    select
        brand,
        stage,
        count(*) as customers,
        count(*) filter (where is_inferred) as customers_inferred,
        median(hours_in_stage) as median_hours_in_stage

    from entries
    group by all

),

conversion_stats as (

    select
        brand,
        from_stage as stage,
        count(*) filter (where is_converted) / count(*) as conversion_to_next

    from transitions
    group by all

),

final as (

    select
        grid.brand,
        grid.stage,
        grid.stage_label,
        grid.stage_order,
        coalesce(customer_stats.customers, 0) as customers,
        coalesce(customer_stats.customers_inferred, 0) as customers_inferred,
        nullif(
            concat_ws(
                '; ',
                actions.crm_actions,
                {{ label_or_code('talk_about.label', "'talk about'") }} || ': ' || topics.mention_topics
            ),
            ''
        ) as customer_actions,
        actions.crm_actions,
        topics.mention_topics,
        coalesce(topics.topic_codes, []::varchar[]) as topic_codes,
        emotions.emotions,
        channels.touchpoints,
        barriers.barriers,
        coalesce(barriers.barrier_codes, []::varchar[]) as barrier_codes,
        barriers.opportunities,
        coalesce(mention_stats.mentions, 0) as mentions,
        round(mention_stats.negative_mentions / nullif(mention_stats.mentions, 0), 6) as negative_share,
        coalesce(mention_stats.nps_mentions, 0) as nps_mentions,
        round(
            (mention_stats.promoters - mention_stats.detractors)
            / nullif(mention_stats.nps_mentions, 0), 6
        ) as nps_proxy,
        round(conversion_stats.conversion_to_next, 6) as conversion_to_next,
        round(customer_stats.median_hours_in_stage, 6) as median_hours_in_stage,
        mention_stats.reach,
        mention_stats.engagement

    from grid
    left join labels as talk_about
        on grid.brand = talk_about.brand
        and talk_about.kind = 'phrase'
        and talk_about.code = 'talk_about'
    left join actions
        on grid.brand = actions.brand and grid.stage = actions.stage
    left join topics
        on grid.brand = topics.brand and grid.stage = topics.stage
    left join emotions
        on grid.brand = emotions.brand and grid.stage = emotions.stage
    left join channels
        on grid.brand = channels.brand and grid.stage = channels.stage
    left join barriers
        on grid.brand = barriers.brand and grid.stage = barriers.stage
    left join mention_stats
        on grid.brand = mention_stats.brand and grid.stage = mention_stats.stage
    left join customer_stats
        on grid.brand = customer_stats.brand and grid.stage = customer_stats.stage
    left join conversion_stats
        on grid.brand = conversion_stats.brand and grid.stage = conversion_stats.stage

)

select * from final
order by brand, stage_order
