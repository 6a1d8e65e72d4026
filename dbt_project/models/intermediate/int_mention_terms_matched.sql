-- Where the text rules occur in each mention: one row per (mention, rule term,
-- position). Overlapping matches of the same rule keep the longest one
-- ("не рекомендую" beats "рекомендую"); a match right after a negator is flagged
-- negated and its sentiment weight flips sign.

with

mentions as (

    select * from {{ ref('stg_raw__mentions') }}

),

terms as (

    select * from {{ ref('int_rule_terms_unioned') }}
    where rule != 'negator'

),

negators as (

    select distinct first_word as negator_word
    from {{ ref('int_rule_terms_unioned') }}
    where rule = 'negator' and n_words = 1

),

tokenised as (

    select
        mention_id,
        {{ tokenize("concat_ws(' ', title, text)") }} as mention_words

    from mentions

),

tokens as (

    select
        mention_id,
        mention_words,
        unnest(range(1, len(mention_words) + 1)) as word_position,
        unnest(mention_words) as word

    from tokenised

),

-- the first word equals the term's first word: multi-word terms and exact single words
exact_candidates as (

    select
        tokens.mention_id,
        tokens.mention_words,
        tokens.word_position,
        terms.rule,
        terms.label,
        terms.term,
        terms.weight,
        terms.priority,
        terms.words as term_words,
        terms.n_words,
        terms.n_letters,
        terms.is_prefix

    from tokens
    inner join terms
        on tokens.word = terms.first_word
    where not (terms.n_words = 1 and terms.is_prefix)

),

-- single-word stems (at least three letters, see the seed tests)
prefix_candidates as (

    select
        tokens.mention_id,
        tokens.mention_words,
        tokens.word_position,
        terms.rule,
        terms.label,
        terms.term,
        terms.weight,
        terms.priority,
        terms.words as term_words,
        terms.n_words,
        terms.n_letters,
        terms.is_prefix

    from tokens
    inner join terms
        on left(tokens.word, 3) = left(terms.first_word, 3)
        and starts_with(tokens.word, terms.first_word)
    where terms.n_words = 1 and terms.is_prefix

),

candidates as (

    select * from exact_candidates
    union all
    select * from prefix_candidates

),

-- multi-word terms: the middle words must be equal, the last one equal or (starred) a prefix
matched as (

    select
        mention_id,
        mention_words,
        rule,
        label,
        term,
        weight,
        priority,
        n_words,
        n_letters,
        is_prefix,
        word_position as start_position,
        word_position + n_words - 1 as end_position

    from candidates
    where
        n_words = 1
        or (
            list_slice(mention_words, word_position, word_position + n_words - 2)
                = list_slice(term_words, 1, n_words - 1)
            and case
                when is_prefix
                    then starts_with(mention_words[word_position + n_words - 1], term_words[n_words])
                else mention_words[word_position + n_words - 1] = term_words[n_words]
            end
        )

),

-- drop a match inside a longer match of the same rule (for topics: of the same topic;
-- for stage cues the longer cue wins across stages: "открыл счет" beats "счет")
dominated as (

    select distinct
        shorter.mention_id,
        shorter.rule,
        shorter.label,
        shorter.term,
        shorter.start_position

    from matched as shorter
    inner join matched as longer
        on shorter.mention_id = longer.mention_id
        and shorter.rule = longer.rule
        and (shorter.rule != 'topic' or shorter.label = longer.label)
        and longer.start_position <= shorter.start_position
        and longer.end_position >= shorter.end_position
        and (
            longer.n_words > shorter.n_words
            or (longer.n_words = shorter.n_words and longer.n_letters > shorter.n_letters)
            or (
                longer.n_words = shorter.n_words
                and longer.n_letters = shorter.n_letters
                and shorter.is_prefix
                and not longer.is_prefix
            )
        )

),

kept as (

    select matched.*
    from matched
    anti join dominated
        on matched.mention_id = dominated.mention_id
        and matched.rule = dominated.rule
        and matched.label is not distinct from dominated.label
        and matched.term = dominated.term
        and matched.start_position = dominated.start_position

),

final as (

    select
        kept.mention_id,
        kept.rule,
        kept.label,
        kept.term,
        kept.start_position,
        kept.end_position,
        negators.negator_word is not null as is_negated,
        kept.weight,
        case
            when negators.negator_word is not null then -kept.weight
            else kept.weight
        end as signed_weight,
        kept.priority

    from kept
    left join negators
        on kept.start_position > 1
        and kept.mention_words[kept.start_position - 1] = negators.negator_word

)

select * from final
