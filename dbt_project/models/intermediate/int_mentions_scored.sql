-- One row per mention with everything the enrichment says about it (language,
-- sentiment, stage, topics and their tonality, emotion, NPS signal, author role) and
-- the story it belongs to: reposts of the same story (same link, or the same wording
-- of at least six words, see cjm/enrichment/text.py story_keys) point at the earliest
-- record (then the smallest id), which is kept in marts.mentions; the others are
-- flagged is_repost. All mentions stay here so volume marts can still count them.

with

mentions as (

    select * from {{ ref('stg_raw__mentions') }}

),

enriched as (

    select * from {{ ref('int_mentions_enriched') }}

),

segments as (

    select * from {{ ref('int_mention_segments') }}

),

channel_aliases as (

    select * from {{ ref('int_channel_aliases_resolved') }}

),

joined as (

    select
        mentions.mention_id,
        mentions.source,
        mentions.source_type,
        mentions.native_id,
        enriched.brand,
        -- the one channel vocabulary of mentions and CRM events (int_channel_aliases_resolved)
        coalesce(channel_aliases.channel, mentions.channel, 'unknown') as channel,
        coalesce(mentions.channel, 'unknown') as channel_raw,
        mentions.url,
        mentions.author,
        mentions.title,
        mentions.text,
        mentions.published_at,
        coalesce(enriched.language, mentions.language) as language,
        enriched.raw_score,
        enriched.sentiment_score,
        enriched.sentiment,
        enriched.sentiment_terms,
        enriched.is_ironic,
        enriched.journey_stage,
        enriched.stage,
        enriched.topics,
        enriched.topic_sentiments,
        enriched.barriers,
        enriched.emotion,
        enriched.nps_signal,
        enriched.author_role,
        mentions.matched_keywords,
        enriched.story_keys,
        enriched.relevance,
        enriched.is_relevant,
        enriched.relevance_evidence,
        enriched.rules_hash,
        segments.product,
        segments.region,
        segments.region_source

    from mentions
    inner join enriched on mentions.mention_id = enriched.mention_id
    left join segments on mentions.mention_id = segments.mention_id
    left join channel_aliases on lower(trim(mentions.channel)) = channel_aliases.alias

),

-- The story search reads only ids, times, keys, sources and authors: the wide columns
-- (texts, enrichment lists) join once at the end instead of riding through the windows
-- and self-joins below (at 10^6 mentions this model took 12.7 s, now 8.9 s).
narrow as (

    select
        mentions.mention_id,
        mentions.published_at,
        mentions.source,
        mentions.author,
        enriched.story_keys

    from mentions
    inner join enriched on mentions.mention_id = enriched.mention_id

),

keyed as (

    select
        mention_id,
        published_at,
        unnest(story_keys) as story_key

    from narrow

),

-- the earliest record under each key
key_owners as (

    select
        story_key,
        mention_id as owner_id,
        published_at as owner_published_at

    from keyed
    qualify row_number() over (partition by story_key order by published_at, mention_id) = 1

),

candidates as (

    select
        keyed.mention_id,
        key_owners.owner_id,
        key_owners.owner_published_at

    from keyed
    inner join key_owners on keyed.story_key = key_owners.story_key

    union all

    select
        mention_id,
        mention_id as owner_id,
        published_at as owner_published_at

    from narrow

),

parents as (

    select
        mention_id,
        owner_id as parent_id

    from candidates
    qualify row_number() over (
        partition by mention_id order by owner_published_at, owner_id
    ) = 1

),

-- two hops: a quote of a repost still reaches the original (a tweet sharing an
-- article's link, then a copy of that tweet's wording without the link)
stories as (

    select
        child.mention_id,
        grandparent.parent_id as story_id

    from parents as child
    inner join parents as grandparent on child.parent_id = grandparent.mention_id

),

narrow_story as (

    select
        narrow.mention_id,
        narrow.source,
        narrow.author,
        stories.story_id,
        stories.story_id != narrow.mention_id as is_repost

    from narrow
    inner join stories on narrow.mention_id = stories.mention_id

),

story_stats as (

    select
        story_id,
        count(*) filter (where is_repost) as reposts,
        list_sort(list(distinct source) filter (where is_repost)) as reposted_by_sources,
        count(distinct coalesce(author, source)) filter (where is_repost) as citations

    from narrow_story
    group by story_id

),

final as (

    select
        joined.*,
        narrow_story.story_id,
        narrow_story.is_repost,
        case when narrow_story.is_repost then 0 else story_stats.reposts end as reposts,
        case
            when narrow_story.is_repost then []::varchar[]
            else coalesce(story_stats.reposted_by_sources, []::varchar[])
        end as reposted_by_sources,
        case when narrow_story.is_repost then 0 else story_stats.citations end as citations

    from joined
    inner join narrow_story on joined.mention_id = narrow_story.mention_id
    inner join story_stats on narrow_story.story_id = story_stats.story_id

)

select * from final
