-- In marts.stage_conversion, for every period grain and channel basis, the
-- channel = 'all' row is the sum of the per-channel rows; no cohort converts more
-- customers than entered; entered = converted + dropped + in progress.

with

conversion as (

    select * from {{ ref('stage_conversion') }}

),

per_channel as (

    select
        period_grain,
        period_start,
        brand,
        channel_basis,
        from_stage,
        sum(customers_entered) as customers_entered,
        sum(customers_converted) as customers_converted

    from conversion
    where channel != 'all'
    group by all

),

all_channels as (

    select * from conversion
    where channel = 'all'

),

mismatched as (

    select
        coalesce(all_channels.period_grain, per_channel.period_grain) as period_grain,
        coalesce(all_channels.period_start, per_channel.period_start) as period_start,
        coalesce(all_channels.brand, per_channel.brand) as brand,
        coalesce(all_channels.from_stage, per_channel.from_stage) as from_stage

    from all_channels
    full outer join per_channel
        on all_channels.period_grain = per_channel.period_grain
        and all_channels.period_start = per_channel.period_start
        and all_channels.brand = per_channel.brand
        and all_channels.channel_basis = per_channel.channel_basis
        and all_channels.from_stage = per_channel.from_stage
    where
        all_channels.customers_entered is distinct from per_channel.customers_entered
        or all_channels.customers_converted is distinct from per_channel.customers_converted

),

overconverted as (

    select
        period_grain,
        period_start,
        brand,
        from_stage

    from conversion
    where
        customers_converted > customers_entered
        or customers_entered != customers_converted + customers_dropped + customers_in_progress

)

select * from mismatched
union all
select * from overconverted
