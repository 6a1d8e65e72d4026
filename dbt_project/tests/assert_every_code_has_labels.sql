-- Every code the marts can show has a Russian and an English label (display_labels):
-- readers see words in their language, never an identifier such as `deposit_rates`.
-- The codes come from the rule seeds themselves, so a new topic, emotion, NPS signal,
-- author role or stage cue set without labels fails the build.

with

codes as (

    select distinct 'topic' as kind, topic as code from {{ ref('topic_keywords') }}
    union all
    select distinct 'emotion', emotion from {{ ref('emotion_lexicon') }}
    union all
    select distinct 'emotion', emotion from {{ ref('emoji_lexicon') }} where emotion is not null
    union all
    select distinct 'nps_signal', signal from {{ ref('nps_phrases') }}
    union all
    select distinct 'author_role', role from {{ ref('author_roles') }}
    union all
    select distinct 'stage', stage from {{ ref('stage_cues') }}
    union all
    select distinct 'metric', metric from {{ ref('channel_recommendations') }} where metric != 'always'

),

labels as (

    select * from {{ ref('display_labels') }}

)

select distinct
    codes.kind,
    codes.code

from codes
left join labels
    on codes.kind = labels.kind and codes.code = labels.code
where labels.code is null or labels.label_ru is null or labels.label_en is null
