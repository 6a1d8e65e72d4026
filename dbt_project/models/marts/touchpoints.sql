-- Where customers meet the brand at each stage: CRM touchpoints (customers touched,
-- how many of them went on to the next stage within the step's window, attribution
-- credit of conversions under six models) and mentions (touchpoint = the site the
-- mention was posted on, its link's host, else its channel: as in communication_map). Attribution definitions: int_conversion_paths (heuristic models)
-- and int_touch_credits_markov (data-driven); every model's credits of a brand sum
-- to its conversions. The customer counts are distinct per cell (a customer touched
-- in three cells is in each): named distinct_*, they do not sum; the credits,
-- touches and mentions do.

with

touches as (

    select * from {{ ref('int_customer_touches') }}

),

paths as (

    select * from {{ ref('int_conversion_paths') }}

),

markov as (

    select * from {{ ref('int_touch_credits_markov') }}

),

labels as (

    select * from {{ ref('int_labels_localized') }}

),

mentions as (

    select * from {{ ref('mentions') }}
    -- stories, not copies: a repost counts once, on its original; about the brand only
    where not is_repost and is_relevant is not false

),

stages as (

    select * from {{ ref('int_stages_sequenced') }}

),

crm_cells as (

    select
        brand,
        stage,
        channel,
        touchpoint,
        count(*) as touches,
        count(distinct customer_key) as distinct_customers,
        count(distinct customer_key) filter (where is_followed_by_next_stage) as distinct_customers_converted

    from touches
    group by all

),

credits as (

    select
        brand,
        stage,
        channel,
        touchpoint,
        sum(first_touch_credit) as first_touch,
        sum(last_touch_credit) as last_touch,
        sum(linear_credit) as linear,
        sum(time_decay_credit) as time_decay,
        sum(position_based_credit) as position_based

    from paths
    group by all

),

mention_cells as (

    select
        brand,
        stage,
        channel,
        coalesce(nullif(regexp_extract(url, '^[A-Za-z]+://(?:www\.)?([^/:?#]+)', 1), ''), channel)
            as touchpoint,
        count(*) as mentions

    from mentions
    group by all

),

cells as (

    select brand, stage, channel, touchpoint from crm_cells
    union
    select brand, stage, channel, touchpoint from mention_cells

),

final as (

    select
        cells.brand,
        cells.stage,
        {{ label_or_code('stage_labels.label', 'cells.stage') }} as stage_label,
        cells.channel,
        {{ label_or_code('channel_labels.label', 'cells.channel') }} as channel_label,
        cells.touchpoint,
        stages.stage_order,
        coalesce(mention_cells.mentions, 0) as mentions,
        coalesce(crm_cells.touches, 0) as touches,
        coalesce(crm_cells.distinct_customers, 0) as distinct_customers,
        case
            when stages.next_stage is not null then coalesce(crm_cells.distinct_customers_converted, 0)
        end as distinct_customers_converted,
        case
            when stages.next_stage is not null and crm_cells.distinct_customers > 0
                then round(
                    crm_cells.distinct_customers_converted / nullif(crm_cells.distinct_customers, 0), 6
                )
        end as conversion_rate,
        round(coalesce(credits.first_touch, 0), 6) as first_touch,
        round(coalesce(credits.last_touch, 0), 6) as last_touch,
        round(coalesce(credits.linear, 0), 6) as linear,
        round(coalesce(credits.time_decay, 0), 6) as time_decay,
        round(coalesce(credits.position_based, 0), 6) as position_based,
        round(coalesce(markov.markov_credit, 0), 6) as markov,
        round(coalesce(markov.removal_effect, 0), 6) as markov_removal_effect

    from cells
    inner join stages
        on cells.stage = stages.stage
    left join labels as stage_labels
        on cells.brand = stage_labels.brand
        and stage_labels.kind = 'stage'
        and cells.stage = stage_labels.code
    left join labels as channel_labels
        on cells.brand = channel_labels.brand
        and channel_labels.kind = 'channel'
        and cells.channel = channel_labels.code
    left join crm_cells
        on cells.brand = crm_cells.brand
        and cells.stage = crm_cells.stage
        and cells.channel = crm_cells.channel
        and cells.touchpoint = crm_cells.touchpoint
    left join mention_cells
        on cells.brand = mention_cells.brand
        and cells.stage = mention_cells.stage
        and cells.channel = mention_cells.channel
        and cells.touchpoint = mention_cells.touchpoint
    left join credits
        on cells.brand = credits.brand
        and cells.stage = credits.stage
        and cells.channel = credits.channel
        and cells.touchpoint = credits.touchpoint
    left join markov
        on cells.brand = markov.brand
        and cells.stage = markov.stage
        and cells.channel = markov.channel
        and cells.touchpoint = markov.touchpoint

)

select * from final
order by brand, stage_order, channel, touchpoint
