-- Negative mentions per brand and hour (or day, setting spike_bucket) on a gap-free
-- spine from the first to the last mention's bucket, compared with the buckets of
-- the previous `spike_window_days`:
-- threshold = greatest(spike_min_count, mean + spike_z × stddev).

with

mentions as (

    select * from {{ ref('int_mentions_scored') }}

),

settings as (

    select * from {{ ref('int_settings_resolved') }}

),

bucketed as (

    select
        mentions.brand,
        mentions.sentiment,
        -- naive UTC timestamps: bucket arithmetic independent of the session time zone
        case
            when settings.spike_bucket = 'day'
                then date_trunc('day', mentions.published_at at time zone 'UTC')
            else date_trunc('hour', mentions.published_at at time zone 'UTC')
        end as bucket_hour

    from mentions
    cross join settings

),

hourly as (

    select
        brand,
        bucket_hour,
        count(*) as mentions,
        count(*) filter (where sentiment = 'negative') as negative_mentions

    from bucketed
    group by brand, bucket_hour

),

bounds as (

    select
        brand,
        min(bucket_hour) as first_hour,
        max(bucket_hour) as last_hour

    from hourly
    group by brand

),

spine as (

    select
        bounds.brand,
        unnest(
            generate_series(
                bounds.first_hour,
                bounds.last_hour,
                case when settings.spike_bucket = 'day' then interval 1 day else interval 1 hour end
            )
        ) as bucket_hour

    from bounds
    cross join settings

),

filled as (

    select
        spine.brand,
        spine.bucket_hour,
        coalesce(hourly.mentions, 0) as mentions,
        coalesce(hourly.negative_mentions, 0) as negative_mentions

    from spine
    left join hourly
        on spine.brand = hourly.brand
        and spine.bucket_hour = hourly.bucket_hour

),

windowed as (

    select
        filled.brand,
        filled.bucket_hour,
        filled.mentions,
        filled.negative_mentions,
        settings.spike_min_count,
        settings.spike_z,
        avg(filled.negative_mentions) over trailing_window as baseline,
        stddev_samp(filled.negative_mentions) over trailing_window as baseline_stddev

    from filled
    cross join settings
    window trailing_window as (
        partition by filled.brand
        order by filled.bucket_hour
        rows between
            settings.spike_window_days * (case when settings.spike_bucket = 'day' then 1 else 24 end)
            preceding
            and 1 preceding
    )

),

final as (

    select
        brand,
        bucket_hour at time zone 'UTC' as bucket_start,
        mentions,
        negative_mentions,
        round(baseline, 6) as baseline,
        round(
            greatest(
                spike_min_count,
                coalesce(baseline, 0) + spike_z * coalesce(baseline_stddev, 0)
            ),
            6
        ) as threshold

    from windowed

),

flagged as (

    select
        *,
        negative_mentions >= threshold as is_spike

    from final

)

select * from flagged
order by brand, bucket_start
