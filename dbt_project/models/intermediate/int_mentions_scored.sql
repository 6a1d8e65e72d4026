-- One row per mention with everything the rules say about it: sentiment, stage,
-- topics, emotion, NPS signal and who wrote it.

with

mentions as (

    select * from {{ ref('stg_raw__mentions') }}

),

brands as (

    select * from {{ ref('stg_config__brands') }}

),

stages as (

    select * from {{ ref('int_stages_sequenced') }}

),

matches as (

    select * from {{ ref('int_mention_terms_matched') }}

),

-- a brandless record belongs to the only brand when just one is configured
default_brand as (

    select case when count(*) = 1 then min(brand) else 'unknown' end as brand
    from brands

),

default_stage as (

    select coalesce(
        max(case when stage = 'awareness' then stage end),
        max(case when is_first_stage then stage end)
    ) as stage
    from stages

),

prepared as (

    select
        mentions.*,
        coalesce(mentions.brand, default_brand.brand) as resolved_brand,
        {{ padded_words('mentions.author') }} as padded_author

    from mentions
    cross join default_brand

),

sentiment as (

    select
        mention_id,
        sum(signed_weight) as raw_score,
        list(
            term || case when is_negated then ' (negated)' else '' end
            order by start_position, term
        ) as sentiment_terms

    from matches
    where rule = 'sentiment'
    group by mention_id

),

topics as (

    select
        mention_id,
        list(distinct label order by label) as topics

    from matches
    where rule = 'topic'
    group by mention_id

),

emotion_counts as (

    select
        mention_id,
        label as emotion,
        count(*) as n_matches,
        min(start_position) as first_position

    from matches
    where rule = 'emotion' and not is_negated
    group by mention_id, label

),

emotions as (

    select
        mention_id,
        emotion

    from emotion_counts
    qualify row_number() over (
        partition by mention_id
        order by n_matches desc, first_position, emotion
    ) = 1

),

nps as (

    select
        mention_id,
        label as nps_signal

    from matches
    where rule = 'nps' and not is_negated
    qualify row_number() over (
        partition by mention_id
        order by
            case label
                when 'churn' then 1
                when 'detractor' then 2
                when 'promoter' then 3
                else 4
            end,
            start_position
    ) = 1

),

cued_stages as (

    select
        matches.mention_id,
        matches.label as stage

    from matches
    inner join stages
        on matches.label = stages.stage
    where matches.rule = 'stage'
    qualify row_number() over (
        partition by matches.mention_id
        order by matches.priority desc, stages.stage_order, matches.start_position
    ) = 1

),

-- the brand's name and keywords, as whole words ("@acmebank" → " acmebank ")
brand_terms as (

    select
        brand,
        unnest(list_append(keywords, brand)) as keyword

    from brands

),

brand_keywords as (

    select distinct
        brand,
        {{ padded_words('keyword') }} as padded_keyword

    from brand_terms
    where len({{ tokenize('keyword') }}) > 0

),

brand_authored as (

    select distinct prepared.mention_id

    from prepared
    inner join brand_keywords
        on (prepared.brand is null or prepared.brand = brand_keywords.brand)
        and contains(prepared.padded_author, brand_keywords.padded_keyword)

),

scored as (

    select
        prepared.mention_id,
        prepared.source,
        prepared.source_type,
        prepared.native_id,
        prepared.resolved_brand as brand,
        coalesce(prepared.channel, 'unknown') as channel,
        prepared.url,
        prepared.author,
        prepared.title,
        prepared.text,
        prepared.published_at,
        prepared.language,
        coalesce(sentiment.raw_score, 0) as raw_score,
        round(
            coalesce(sentiment.raw_score, 0)
            / sqrt(pow(coalesce(sentiment.raw_score, 0), 2) + 15),
            4
        ) as sentiment_score,
        coalesce(sentiment.sentiment_terms, []::varchar[]) as sentiment_terms,
        coalesce(cued_stages.stage, default_stage.stage) as stage,
        coalesce(topics.topics, []::varchar[]) as topics,
        emotions.emotion,
        nps.nps_signal,
        case
            when prepared.source_type = 'rss' then 'media'
            when brand_authored.mention_id is not null then 'brand'
            else 'client'
        end as author_role,
        prepared.matched_keywords

    from prepared
    cross join default_stage
    left join sentiment on prepared.mention_id = sentiment.mention_id
    left join topics on prepared.mention_id = topics.mention_id
    left join emotions on prepared.mention_id = emotions.mention_id
    left join nps on prepared.mention_id = nps.mention_id
    left join cued_stages on prepared.mention_id = cued_stages.mention_id
    left join brand_authored on prepared.mention_id = brand_authored.mention_id

),

labelled as (

    select
        *,
        case
            when sentiment_score > 0.05 then 'positive'
            when sentiment_score < -0.05 then 'negative'
            else 'neutral'
        end as sentiment

    from scored

)

select * from labelled
