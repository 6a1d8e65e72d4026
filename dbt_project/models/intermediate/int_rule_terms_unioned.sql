-- Every term of the text rules (sentiment lexicon, negators, sentiment modifiers, topic
-- keywords, emotion terms, NPS phrases, stage cues, author roles) in one shape, split into
-- normalised words. The scorer (cjm/enrichment/, via int_mentions_enriched) reads the seeds
-- itself; this table is the analysts' view of the rules and what the seed tests check
-- (tests/assert_rule_terms_are_well_formed.sql). A trailing `*` makes the last word a prefix.

with

sentiment_lexicon as (

    select
        'sentiment' as rule,
        cast(null as varchar) as label,
        weight,
        cast(null as integer) as priority,
        language,
        term

    from {{ ref('sentiment_lexicon') }}

),

negators as (

    select
        'negator' as rule,
        cast(null as varchar) as label,
        cast(null as integer) as weight,
        cast(null as integer) as priority,
        language,
        term

    from {{ ref('negators') }}

),

topic_keywords as (

    select
        'topic' as rule,
        topic as label,
        cast(null as integer) as weight,
        cast(null as integer) as priority,
        language,
        keyword as term

    from {{ ref('topic_keywords') }}

),

emotion_lexicon as (

    select
        'emotion' as rule,
        emotion as label,
        cast(null as integer) as weight,
        cast(null as integer) as priority,
        language,
        term

    from {{ ref('emotion_lexicon') }}

),

nps_phrases as (

    select
        'nps' as rule,
        signal as label,
        cast(null as integer) as weight,
        cast(null as integer) as priority,
        language,
        phrase as term

    from {{ ref('nps_phrases') }}

),

stage_cues as (

    select
        'stage' as rule,
        stage as label,
        cast(null as integer) as weight,
        priority,
        language,
        term

    from {{ ref('stage_cues') }}

),

sentiment_modifiers as (

    select
        'modifier' as rule,
        kind as label,
        cast(null as integer) as weight,
        cast(null as integer) as priority,
        language,
        term

    from {{ ref('sentiment_modifiers') }}

),

author_roles as (

    select
        'author_role' as rule,
        role as label,
        cast(null as integer) as weight,
        cast(null as integer) as priority,
        cast(null as varchar) as language,
        term

    from {{ ref('author_roles') }}

),

unioned as (

    select * from sentiment_lexicon
    union all
    select * from negators
    union all
    select * from topic_keywords
    union all
    select * from emotion_lexicon
    union all
    select * from nps_phrases
    union all
    select * from stage_cues
    union all
    select * from sentiment_modifiers
    union all
    select * from author_roles

),

parsed as (

    select
        rule,
        label,
        weight,
        priority,
        language,
        term,
        ends_with(trim(term), '*') as is_prefix,
        {{ tokenize("rtrim(trim(term), '*')") }} as words

    from unioned

),

final as (

    select
        rule,
        label,
        term,
        language,
        weight,
        priority,
        words,
        len(words) as n_words,
        words[1] as first_word,
        words[len(words)] as last_word,
        length(array_to_string(words, ' ')) as n_letters,
        is_prefix

    from parsed
    where len(words) > 0

)

select * from final
