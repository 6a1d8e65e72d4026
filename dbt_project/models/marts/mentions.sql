-- One row per story: reposts of the same story are folded into the earliest record
-- (reposts / citations / reposted_by_sources say how far it travelled).
--
-- Incremental by difference: the expensive part (scoring) is already incremental in
-- int_mentions_enriched; here only rows whose values changed are rewritten
-- (delete+insert on mention_id), and the post-hook drops rows that stopped being an
-- original (a late-arriving earlier copy of the same story). A rebuild from scratch
-- gives the same rows.
{{
    config(
        materialized='incremental',
        unique_key='mention_id',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        post_hook="delete from {{ this }} where mention_id not in (select mention_id from {{ ref('int_mentions_scored') }} where not is_repost)",
    )
}}

{%- set columns = [
    'mention_id',
    'source',
    'source_type',
    'native_id',
    'brand',
    'channel',
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
    'reposts',
    'citations',
    'reposted_by_sources',
    'matched_keywords',
    'sentiment_terms',
] %}

with

scored as (

    select * from {{ ref('int_mentions_scored') }}
    where not is_repost

),

final as (

    select
        {{ columns | join(',\n        ') }}

    from scored

)

{% if is_incremental() %}

select * from final
except
select {{ columns | join(', ') }} from {{ this }}

{% else %}

select * from final
order by published_at, mention_id

{% endif %}
