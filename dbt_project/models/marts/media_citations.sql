-- Citation in key media: per local day × brand × configured key medium (config
-- `key_media`), how many of the medium's mentions carried a story about the brand
-- (citations: every copy counts, the medium's own article and its repost of another's
-- story alike), how many distinct stories that was, how many of them the medium told
-- first, and the citation index = citations × the medium's weight, which adds up across
-- media and days into one "how much did the media that matter carry us" figure. A
-- mention is the medium's by its source, its author (outlet) or its URL's host (a
-- subdomain of a configured domain counts); one matching two media counts for both.

with

mentions as (

    select
        *,
        regexp_extract(lower(url), '^[a-z][a-z0-9+.-]*://([^/:?#]+)', 1) as host

    from {{ ref('mentions') }}
    where is_relevant is not false  -- about the brand; reposts count: they are citations
        and not is_brand_account

),

media as (

    select * from {{ ref('stg_config__key_media') }}

),

carried as (

    select
        mentions.published_date,
        mentions.brand,
        media.medium,
        media.weight,
        mentions.mention_id,
        mentions.story_id,
        mentions.is_repost

    from mentions
    inner join media
        on list_contains(media.sources, mentions.source)
        or list_contains(media.outlet_keys, lower(trim(mentions.author)))
        -- the host is a configured domain or under one (news.rbc.ru is under rbc.ru)
        or len(list_filter(
            media.domains, d -> mentions.host = d or ends_with(mentions.host, '.' || d)
        )) > 0

),

final as (

    select
        published_date,
        brand,
        medium,
        any_value(weight) as weight,
        count(*) as citations,
        count(distinct story_id) as stories,
        count(distinct story_id) filter (where not is_repost) as stories_first_told,
        count(*) * any_value(weight) as citation_index

    from carried
    group by published_date, brand, medium

)

select * from final
order by published_date, brand, medium
