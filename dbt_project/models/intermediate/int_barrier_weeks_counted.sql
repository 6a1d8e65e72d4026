-- Input of marts.barrier_impact: per brand × stage × barrier × UTC week (Monday), the
-- stage's mentions (the customers' voice, as the CJM counts them), the barrier's
-- negative mentions among them, and the customers who entered the stage that week and
-- how many of them did not take the next step within its window. Every week from the
-- stage's first to its last (mention or entry) is present, zeros included, so a
-- trailing window counts weeks, not rows. Barriers: the topics of the stage's negative
-- mentions (as the CJM's barriers cell); stages without a next stage have no drop-off.

with

transitions as (

    select * from {{ ref('int_stage_transitions_measured') }}

),

labels as (

    select * from {{ ref('int_labels_localized') }}

),

mentions as (

    select * from {{ ref('mentions') }}
    where {{ customers_voice() }}
        and stage is not null

),

mention_weeks as (

    select
        brand,
        stage,
        cast({{ utc_trunc('week', 'published_at') }} as date) as week_start,
        count(*) as stage_mentions

    from mentions
    group by all

),

barrier_mentions as (

    select
        brand,
        stage,
        barrier,
        cast({{ utc_trunc('week', 'published_at') }} as date) as week_start,
        count(*) as barrier_mentions

    from (
        select brand, stage, published_at, unnest(topics) as barrier
        from mentions
        where sentiment = 'negative'
    )
    group by all

),

entry_weeks as (

    select
        brand,
        from_stage as stage,
        cast({{ utc_trunc('week', 'from_entered_at') }} as date) as week_start,
        count(*) as customers_entered,
        count(*) filter (where not is_converted) as customers_dropped

    from transitions
    group by all

),

stage_weeks as (

    select brand, stage, min(week_start) as first_week, max(week_start) as last_week
    from (
        select brand, stage, week_start from mention_weeks
        union all
        select brand, stage, week_start from entry_weeks
    )
    group by brand, stage

),

-- barriers of the stages customers can drop out of
barriers as (

    select distinct barrier_mentions.brand, barrier_mentions.stage, barrier_mentions.barrier
    from barrier_mentions
    semi join entry_weeks
        on barrier_mentions.brand = entry_weeks.brand
        and barrier_mentions.stage = entry_weeks.stage

),

grid as (

    select
        barriers.brand,
        barriers.stage,
        barriers.barrier,
        cast(unnest(generate_series(stage_weeks.first_week, stage_weeks.last_week, interval 7 day)) as date)
            as week_start

    from barriers
    inner join stage_weeks
        on barriers.brand = stage_weeks.brand
        and barriers.stage = stage_weeks.stage

),

final as (

    select
        grid.brand,
        grid.stage,
        {{ label_or_code('stage_labels.label', 'grid.stage') }} as stage_label,
        grid.barrier,
        {{ label_or_code('barrier_labels.label', 'grid.barrier') }} as barrier_label,
        grid.week_start,
        coalesce(mention_weeks.stage_mentions, 0) as stage_mentions,
        coalesce(barrier_mentions.barrier_mentions, 0) as barrier_mentions,
        coalesce(entry_weeks.customers_entered, 0) as customers_entered,
        coalesce(entry_weeks.customers_dropped, 0) as customers_dropped

    from grid
    left join mention_weeks
        on grid.brand = mention_weeks.brand
        and grid.stage = mention_weeks.stage
        and grid.week_start = mention_weeks.week_start
    left join barrier_mentions
        on grid.brand = barrier_mentions.brand
        and grid.stage = barrier_mentions.stage
        and grid.barrier = barrier_mentions.barrier
        and grid.week_start = barrier_mentions.week_start
    left join entry_weeks
        on grid.brand = entry_weeks.brand
        and grid.stage = entry_weeks.stage
        and grid.week_start = entry_weeks.week_start
    left join labels as stage_labels
        on grid.brand = stage_labels.brand
        and stage_labels.kind = 'stage'
        and grid.stage = stage_labels.code
    left join labels as barrier_labels
        on grid.brand = barrier_labels.brand
        and barrier_labels.kind = 'topic'
        and grid.barrier = barrier_labels.code

)

select * from final
