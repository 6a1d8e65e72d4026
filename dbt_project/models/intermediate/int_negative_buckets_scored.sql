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
--   mentions at the same negative share raise the expectation instead of firing. (When
--   every mention is negative the share term is 0 and the seasonal median decides.)
-- Over-dispersion: real mention counts are bursty, their noise grows with the level
--   (negative-binomial-like: sd ∝ expected, not √expected). So the detector works on
--   the log lift  e = ln((negatives + 5) / (expected + 5))  and measures its spread
--   on the series itself: log_spread = √((1.4826 × MAD of e over the previous
--   window_days of buckets)² + max(expected, 1) / (expected + 5)²), the measured
--   spread plus the Poisson noise of a log count added as variances (var ln NB(mu, k)
--   ≈ 1/k + 1/mu). A bursty brand (a normal day already has 5× hours) needs a larger
--   lift than a steady one; the +5 keeps single mentions on tiny brands from counting
--   as huge lifts.
-- threshold = the negatives this bucket needs: the lower of
--               single:    (expected + 5) × exp(z × log_spread) − 5
--               sustained: what the last three buckets' sum still needs, (expected_3 +
--                          15) × exp(sustained_z × log_spread_3) − 15 − the other two
--                          buckets' negatives (the sum of log lift e3 and its spread as
--                          above; a rise that lasts shows in the sum before any single
--                          hour stands out), but at least this bucket's third of the
--                          sum's excess, so the hours after a spike cannot ride on it;
--             and at least min_count.
-- candidate = enough history (min_history_days), negatives >= threshold and share >=
--             min_share.
-- is_aftershock = a candidate that would open a new incident (the previous candidate
--             is more than cooldown_hours back) but is no larger than a candidate of
--             the previous 24 hours: the decaying tail of an incident is not news.
-- is_spike  = candidate and not is_aftershock.
-- score = e / log_spread (how many spreads the hour's log lift is); spread = the log
--   spread in counts, (expected + 5) × (exp(log_spread) − 1).
-- Incidents: spike buckets no more than cooldown_hours after the previous spike
-- bucket of the same series share the first one's incident_start.
--
-- Defaults (cjm.config.SpikeRule) are measured on human-labelled real volumes
-- (cjm.evaluation.spikes, NAB realTweets).

{#- the +5 of the log lift: see above -#}
{%- set log_offset = 5 %}
{#- hours after a candidate in which a smaller one is an after-shock -#}
{%- set aftershock_hours = 24 %}

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
        coalesce(own.sustained_z, fallback.sustained_z) as sustained_z,
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

lifted as (

    select
        *,
        greatest(seasonal_baseline, share_baseline) as baseline,
        -- the last three buckets summed (a lift that lasts shows in the sum first)
        sum(negative_mentions) over last_three as negative_mentions_3,
        sum(greatest(seasonal_baseline, share_baseline)) over last_three as baseline_3,
        count(*) over last_three as buckets_3

    from expected
    window last_three as (
        partition by brand, source
        order by bucket_at
        rows between 2 preceding and current row
    )

),

log_lifted as (

    select
        *,
        ln((negative_mentions + {{ log_offset }})
            / (baseline + {{ log_offset }})) as log_lift,
        ln((negative_mentions_3 + 3 * {{ log_offset }})
            / (baseline_3 + 3 * {{ log_offset }})) as log_lift_3

    from lifted

),

dispersed as (

    select
        *,
        -- the series' own spread of log lifts over the previous window_days (MAD:
        -- earlier spikes barely move it) and the Poisson noise of a log count, added
        -- as variances (var ln NB(mu, k) ≈ 1/k + 1/mu): a short or all-zero history
        -- must not make a few mentions a spike, nor may small counts be read as lifts
        sqrt(
            coalesce(power(1.4826 * mad(log_lift) over trailing_window, 2), 0)
            + greatest(baseline, 1) / power(baseline + {{ log_offset }}, 2)
        ) as log_spread,
        sqrt(
            coalesce(power(1.4826 * mad(log_lift_3) over trailing_window, 2), 0)
            + greatest(baseline_3, 1) / power(baseline_3 + 3 * {{ log_offset }}, 2)
        ) as log_spread_3

    from log_lifted
    window trailing_window as (
        partition by brand, source
        order by bucket_at
        rows between window_days * buckets_per_day preceding and 1 preceding
    )

),

flagged as (

    select
        *,
        -- the single-bucket test: negatives this bucket needs on its own
        (baseline + {{ log_offset }}) * exp(z * log_spread)
            - {{ log_offset }} as single_needed,
        -- the three-bucket test: negatives the last three buckets need together
        case
            when buckets_3 = 3
                then (baseline_3 + 3 * {{ log_offset }}) * exp(sustained_z * log_spread_3)
                    - 3 * {{ log_offset }}
        end as sum_needed,
        negative_mentions / nullif(mentions, 0) as negative_share,
        history_days >= min_history_days as has_baseline

    from dispersed

),

judged as (

    select
        *,
        -- the count that makes this bucket a spike: the single-bucket test, or less
        -- when the previous two buckets were already elevated: what the sum still
        -- needs, but at least this bucket's third of the sum's excess (so the hours
        -- after a spike do not ride on it)
        greatest(
            min_count,
            least(
                single_needed,
                coalesce(
                    greatest(
                        sum_needed - (negative_mentions_3 - negative_mentions),
                        baseline + (sum_needed - baseline_3) / 3
                    ),
                    single_needed
                )
            )
        ) as threshold,
        log_lift / log_spread as score,
        (baseline + {{ log_offset }}) * (exp(log_spread) - 1) as spread

    from flagged

),

candidates as (

    select
        *,
        coalesce(
            has_baseline
            and negative_mentions >= threshold
            and negative_mentions >= min_share * mentions,
            false
        ) as is_candidate

    from judged

),

aftershocks as (

    select
        *,
        -- the last candidate before this bucket, and the largest count among the
        -- candidates of the previous day
        max(case when is_candidate then bucket_at end) over before as previous_candidate_at,
        max(case when is_candidate then negative_mentions end) over previous_day
            as previous_day_peak

    from candidates
    window
        before as (
            partition by brand, source
            order by bucket_at
            rows between unbounded preceding and 1 preceding
        ),
        previous_day as (
            partition by brand, source
            order by bucket_at
            rows between {{ aftershock_hours }} // (24 // buckets_per_day) preceding and 1 preceding
        )

),

suppressed as (

    select
        *,
        -- An after-shock: a candidate that would open a new incident (the last one is
        -- more than cooldown_hours back) within a day of a larger one. The decaying
        -- tail of an incident is not news; a new high is.
        is_candidate
        and previous_candidate_at is not null
        and bucket_at - previous_candidate_at > to_hours(cooldown_hours)
        and coalesce(negative_mentions <= previous_day_peak, false) as is_aftershock

    from aftershocks

),

judged_final as (

    select
        *,
        is_candidate and not is_aftershock as is_spike

    from suppressed

),

spikes as (

    select
        brand,
        source,
        bucket_at,
        lag(bucket_at) over (partition by brand, source order by bucket_at) as previous_spike_at,
        cooldown_hours

    from judged_final
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
        flagged.is_aftershock,
        incident_starts.incident_start_at at time zone 'UTC' as incident_start

    from judged_final as flagged
    left join incident_starts
        on flagged.brand = incident_starts.brand
        and flagged.source = incident_starts.source
        and flagged.bucket_at = incident_starts.bucket_at

)

select * from final
