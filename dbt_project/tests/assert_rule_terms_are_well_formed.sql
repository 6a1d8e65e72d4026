-- The text rules follow the conventions in seeds/_seeds.yml: stems (`*`) keep at
-- least three letters, negators are single plain words, and no negator is also a
-- single-word sentiment term (it would both score and negate).

with

terms as (

    select * from {{ ref('int_rule_terms_unioned') }}

),

short_stems as (

    select
        rule,
        term,
        'a stem needs at least 3 letters before *' as problem

    from terms
    where is_prefix and n_words = 1 and length(first_word) < 3

),

bad_negators as (

    select
        rule,
        term,
        'a negator must be one word without *' as problem

    from terms
    where rule = 'negator' and (n_words != 1 or is_prefix)

),

scored_negators as (

    select
        lexicon.rule,
        lexicon.term,
        'a negator cannot be a sentiment term' as problem

    from terms as lexicon
    inner join terms as negators
        on lexicon.first_word = negators.first_word
    where
        lexicon.rule = 'sentiment'
        and lexicon.n_words = 1
        and negators.rule = 'negator'

),

unparsable as (

    select
        rule,
        term,
        'term has no words after normalisation' as problem

    from {{ ref('int_rule_terms_unioned') }}
    where n_words = 0

)

select * from short_stems
union all
select * from bad_negators
union all
select * from scored_negators
union all
select * from unparsable
