-- Every attribution model (the five heuristic ones and markov) distributes exactly
-- one credit per conversion: per brand,
-- the credits in marts.touchpoints sum to the number of conversions (first entries
-- into the conversion stage). Rows are rounded to 6 decimals, hence the tolerance.

with

touchpoints as (

    select * from {{ ref('touchpoints') }}

),

entries as (

    select * from {{ ref('int_customer_stage_entries') }}

),

settings as (

    select * from {{ ref('int_settings_resolved') }}

),

conversions as (

    select
        entries.brand,
        count(*) as n_conversions

    from entries
    inner join settings
        on entries.stage = settings.conversion_stage
    group by entries.brand

),

credits as (

    select
        brand,
        sum(first_touch) as first_touch,
        sum(last_touch) as last_touch,
        sum(linear) as linear,
        sum(time_decay) as time_decay,
        sum(position_based) as position_based,
        sum(markov) as markov

    from touchpoints
    group by brand

),

compared as (

    select
        coalesce(credits.brand, conversions.brand) as brand,
        coalesce(conversions.n_conversions, 0) as n_conversions,
        coalesce(credits.first_touch, 0) as first_touch,
        coalesce(credits.last_touch, 0) as last_touch,
        coalesce(credits.linear, 0) as linear,
        coalesce(credits.time_decay, 0) as time_decay,
        coalesce(credits.position_based, 0) as position_based,
        coalesce(credits.markov, 0) as markov

    from credits
    full outer join conversions
        on credits.brand = conversions.brand

)

select * from compared
where
    abs(first_touch - n_conversions) > 0.001
    or abs(last_touch - n_conversions) > 0.001
    or abs(linear - n_conversions) > 0.001
    or abs(time_decay - n_conversions) > 0.001
    or abs(position_based - n_conversions) > 0.001
    or abs(markov - n_conversions) > 0.001
