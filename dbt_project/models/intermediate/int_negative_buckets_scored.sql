-- The spike detector: every brand × source ('all' = the brand total) × bucket on a
-- gap-free spine from the brand's first to last bucket, with its expected negative
-- count, threshold, score, is_spike and the incident it belongs to. Deterministic: it
-- looks only at earlier buckets of the data, never at the clock.
--
-- expected  = greatest(
--                 seasonal: seasonal_weight × median(same hour of week, previous weeks)
--                         + (1 - seasonal_weight) × median(same hour of day, previous days),
--                 share:    negative odds of the trailing window × this bucket's
--                           non-negative mentions)
--   The seasonal median follows daily and weekly rhythm and ignores past spikes and
--   holiday dips (medians); the share term follows growth of total volume, so more
--   mentions at the same negative share raise the expectation instead of firing.
-- spread    = greatest(1.4826 × the same blend of the two MADs,
--                      sqrt(greatest(expected, mean of the same hour of day)), 1):
--   robust spread, floored by Poisson noise (of the mean: skewed counts have a median
--   below it) so an all-zero history does not make 1 a spike.
-- threshold = greatest(min_count, expected + z × spread), or, when the last three
--   buckets together exceed their summed expectation by z × sqrt(sum of spread²)
--   (a sustained rise), the count that passes that test, but at least
--   greatest(min_count, expected + spread)
-- is_spike  = enough history and negative_mentions >= threshold and
--             negative_share >= min_share
-- Incidents: spike buckets no more than cooldown_hours after the previous spike
-- bucket of the same series share the first one's incident_start.

with

counts as (

    select * from {{ ref('int_mention_counts_bucketed') }}

),

rules as (

    select * from {{ ref('int_spike_rules_resolved') }}

),

brand_rules as (

    select
        brands.brand,
        coalesce(own.spike_bucket, fallback.spike_bucket) as spike_bucket,
        coalesce(own.window_days, fallback.window_days) as window_days,
        coalesce(own.min_count, fallback.min_count) as min_count,
        coalesce(own.z, fallback.z) as z,
        coalesce(own.min_share, fallback.min_share) as min_share,
        coalesce(own.seasonal_weight, fallback.seasonal_weight) as seasonal_weight,
        coalesce(own.cooldown_hours, fallback.cooldown_hours) as cooldown_hours,
        coalesce(own.min_history_days, fallback.min_history_days) as min_history_days,
        case when coalesce(own.spike_bucket, fallback.spike_bucket) = 'day' then 1 else 24 end
            as buckets_per_day

    from (select distinct brand from counts) as brands
    left join rules as own
        on brands.brand = own.brand
    left join rules as fallback
        on fallback.brand = '*'

),

bounds as (

    select
        brand,
        min(bucket_at) as first_bucket_at,
        max(bucket_at) as last_bucket_at

    from counts
    group by brand

),

series as (

    select distinct brand, source
    from counts

),

spine as (

    select
        series.brand,
        series.source,
        unnest(
            generate_series(
                bounds.first_bucket_at,
                bounds.last_bucket_at,
                case when brand_rules.buckets_per_day = 1 then interval 1 day else interval 1 hour end
            )
        ) as bucket_at

    from series
    inner join bounds
        on series.brand = bounds.brand
    inner join brand_rules
        on series.brand = brand_rules.brand

),

filled as (

    select
        spine.brand,
        spine.source,
        spine.bucket_at,
        coalesce(counts.mentions, 0) as mentions,
        coalesce(counts.negative_mentions, 0) as negative_mentions,
        brand_rules.* exclude (brand),
        -- seasonal slots: hour of day and hour of week (day buckets: one daily slot and
        -- the day of week)
        case when brand_rules.buckets_per_day = 1 then 0 else hour(spine.bucket_at) end
            as day_slot,
        case
            when brand_rules.buckets_per_day = 1 then isodow(spine.bucket_at)
            else isodow(spine.bucket_at) * 24 + hour(spine.bucket_at)
        end as week_slot

    from spine
    inner join brand_rules
        on spine.brand = brand_rules.brand
    left join counts
        on spine.brand = counts.brand
        and spine.source = counts.source
        and spine.bucket_at = counts.bucket_at

),

windowed as (

    select
        *,
        median(negative_mentions) over same_hour_of_day as day_median,
        mad(negative_mentions) over same_hour_of_day as day_mad,
        avg(negative_mentions) over same_hour_of_day as day_mean,
        count(*) over same_hour_of_day as history_days,
        median(negative_mentions) over same_hour_of_week as week_median,
        sum(negative_mentions) over trailing_window as window_negative_mentions,
        sum(mentions) over trailing_window as window_mentions

    from filled
    window
        same_hour_of_day as (
            partition by brand, source, day_slot
            order by bucket_at
            rows between window_days preceding and 1 preceding
        ),
        same_hour_of_week as (
            partition by brand, source, week_slot
            order by bucket_at
            rows between greatest(window_days // 7, 1) preceding and 1 preceding
        ),
        trailing_window as (
            partition by brand, source
            order by bucket_at
            rows between window_days * buckets_per_day preceding and 1 preceding
        )

),

expected as (

    select
        *,
        coalesce(
            seasonal_weight * coalesce(week_median, day_median)
            + (1 - seasonal_weight) * day_median,
            0
        ) as seasonal_baseline,
        coalesce(
            window_negative_mentions
            / nullif(window_mentions - window_negative_mentions, 0)
            * (mentions - negative_mentions),
            0
        ) as share_baseline

    from windowed

),

scored as (

    select
        *,
        greatest(seasonal_baseline, share_baseline) as baseline,
        greatest(
            1.4826 * coalesce(day_mad, 0),
            sqrt(greatest(seasonal_baseline, share_baseline, coalesce(day_mean, 0))),
            1.0
        ) as spread

    from expected

),

sustained as (

    select
        *,
        greatest(min_count, baseline + z * spread) as single_threshold,
        -- the last three buckets together: a sustained rise that no single bucket
        -- shows clearly (signal × 3, noise × √3)
        sum(negative_mentions) over last_three as negative_mentions_3,
        sum(baseline) over last_three as baseline_3,
        sqrt(sum(spread * spread) over last_three) as spread_3,
        count(*) over last_three as buckets_3

    from scored
    window last_three as (
        partition by brand, source
        order by bucket_at
        rows between 2 preceding and current row
    )

),

flagged as (

    select
        *,
        -- the count that makes this bucket a spike: the single-bucket threshold, or
        -- less when the previous two buckets were already elevated
        case
            when buckets_3 = 3
                then least(
                    single_threshold,
                    greatest(
                        min_count,
                        baseline + spread,
                        baseline_3 + z * spread_3 - (negative_mentions_3 - negative_mentions)
                    )
                )
            else single_threshold
        end as threshold,
        (negative_mentions - baseline) / spread as score,
        negative_mentions / nullif(mentions, 0) as negative_share,
        history_days >= min_history_days as has_baseline

    from sustained

),

judged as (

    select
        *,
        has_baseline
        and negative_mentions >= threshold
        and negative_mentions >= min_share * mentions as is_spike

    from flagged

),

spikes as (

    select
        brand,
        source,
        bucket_at,
        lag(bucket_at) over (partition by brand, source order by bucket_at) as previous_spike_at,
        cooldown_hours

    from judged
    where is_spike

),

incident_starts as (

    select
        brand,
        source,
        bucket_at,
        max(
            case
                when previous_spike_at is null
                    or bucket_at - previous_spike_at > to_hours(cooldown_hours)
                    then bucket_at
            end
        ) over (
            partition by brand, source
            order by bucket_at
            rows between unbounded preceding and current row
        ) as incident_start_at

    from spikes

),

final as (

    select
        flagged.brand,
        flagged.source,
        flagged.bucket_at at time zone 'UTC' as bucket_start,
        flagged.mentions,
        flagged.negative_mentions,
        round(flagged.negative_share, 6) as negative_share,
        round(flagged.baseline, 6) as baseline,
        round(flagged.seasonal_baseline, 6) as seasonal_baseline,
        round(flagged.share_baseline, 6) as share_baseline,
        round(flagged.spread, 6) as spread,
        round(flagged.threshold, 6) as threshold,
        round(flagged.score, 6) as score,
        flagged.has_baseline,
        flagged.is_spike,
        incident_starts.incident_start_at at time zone 'UTC' as incident_start

    from judged as flagged
    left join incident_starts
        on flagged.brand = incident_starts.brand
        and flagged.source = incident_starts.source
        and flagged.bucket_at = incident_starts.bucket_at

)

select * from final
