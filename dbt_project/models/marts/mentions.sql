-- One row per mention (the contract's grain, so every record joins by mention_id and
-- hourly volumes stay whole). Reposts of the same story point at the earliest record
-- (story_id, is_repost); the original carries reposts / citations /
-- reposted_by_sources. Count stories with `where not is_repost` (the other marts do).
--
-- Incremental by difference: the expensive part (scoring) is already incremental in
-- int_mentions_enriched; here only rows whose values changed are rewritten
-- (delete+insert on mention_id; a late-arriving earlier copy of a story changes the
-- is_repost of the later ones, which rewrites them). A rebuild from scratch gives the
-- same rows.
{{
    config(
        materialized='incremental',
        unique_key='mention_id',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
    )
}}

{%- set columns = [
    'mention_id',
    'source',
    'source_type',
    'native_id',
    'brand',
    'channel',
    'channel_raw',
    'url',
    'author',
    'title',
    'text',
    'published_at',
    'language',
    'sentiment',
    'sentiment_score',
    'stage',
    'journey_stage',
    'topics',
    'topic_sentiments',
    'barriers',
    'emotion',
    'author_role',
    'nps_signal',
    'is_ironic',
    'story_id',
    'is_repost',
    'reposts',
    'citations',
    'reposted_by_sources',
    'matched_keywords',
    'sentiment_terms',
    'relevance',
    'is_relevant',
    'relevance_evidence',
    'product',
    'region',
    'region_source',
] %}

{#- What people read beside the codes (labels in the brand's display language, the
    local date); compared like the other columns, so a changed label rewrites its rows. -#}
{%- set display_columns = ['published_date', 'stage_label', 'sentiment_label'] %}

with

scored as (

    select * from {{ ref('int_mentions_scored') }}

),

labels as (

    select * from {{ ref('int_labels_localized') }}

),

final as (

    select
        scored.{{ columns | join(',\n        scored.') }},
        -- the calendar day of the reporting time zone (published_at stays UTC)
        {{ local_date('scored.published_at') }} as published_date,
        {{ label_or_code('stage_labels.label', 'scored.stage') }} as stage_label,
        {{ label_or_code('sentiment_labels.label', 'scored.sentiment') }} as sentiment_label

    from scored
    left join labels as stage_labels
        on scored.brand = stage_labels.brand
        and stage_labels.kind = 'stage'
        and scored.stage = stage_labels.code
    left join labels as sentiment_labels
        on scored.brand = sentiment_labels.brand
        and sentiment_labels.kind = 'sentiment'
        and scored.sentiment = sentiment_labels.code

)

{% if is_incremental() %}

select * from final
except
select {{ (columns + display_columns) | join(', ') }} from {{ this }}

{% else %}

select * from final
order by published_at, mention_id

{% endif %}
