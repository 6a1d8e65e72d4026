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

{#- Audience, thread and who speaks (int_mentions_measured, stg_config__brand_markets):
    reach / engagement where the source or the export gives them, the mention a reply
    answers, whether a brand's own account wrote it, the brand's role and market. -#}
{%- set measure_columns = [
    'reach', 'engagement', 'reply_to', 'is_brand_account', 'brand_role', 'market',
] %}

with

scored as (

    select * from {{ ref('int_mentions_scored') }}

),

labels as (

    select * from {{ ref('int_labels_localized') }}

),

measured as (

    select * from {{ ref('int_mentions_measured') }}

),

markets as (

    select * from {{ ref('stg_config__brand_markets') }}

),

final as (

    select
        scored.{{ columns | join(',\n        scored.') }},
        -- the calendar day of the reporting time zone (published_at stays UTC)
        {{ local_date('scored.published_at') }} as published_date,
        {{ label_or_code('stage_labels.label', 'scored.stage') }} as stage_label,
        {{ label_or_code('sentiment_labels.label', 'scored.sentiment') }} as sentiment_label,
        measured.reach,
        measured.engagement,
        measured.reply_to,
        -- a configured account of this brand, or an author named like the brand
        coalesce(measured.account_brand = scored.brand, false)
            or coalesce(scored.author_role = 'brand', false) as is_brand_account,
        coalesce(markets.brand_role, 'own') as brand_role,
        coalesce(markets.market, 'default') as market

    from scored
    left join measured on scored.mention_id = measured.mention_id
    left join markets on scored.brand = markets.brand
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

{#- A table built before a column existed rewrites every row once (sync_all_columns
    adds the column; comparing against it first would fail). -#}
{%- set existing = adapter.get_columns_in_relation(this) | map(attribute='name') | list %}
select * from final
{%- if not (measure_columns | reject('in', existing) | list) %}
except
select {{ (columns + display_columns + measure_columns) | join(', ') }} from {{ this }}
{%- endif %}

{% else %}

select * from final
order by published_at, mention_id

{% endif %}
