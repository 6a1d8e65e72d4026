-- Negative-mention spikes per brand and hour (or day): the brand totals of the
-- detector in int_negative_buckets_scored (see there for the model).
-- Per-source rows are in negative_spikes_by_source.

with

scored as (

    select * from {{ ref('int_negative_buckets_scored') }}

),

final as (

    select * exclude (source),
        -- the wall-clock time people read (config reporting_timezone); bucket_start
        -- stays the UTC instant
        {{ local_time('bucket_start') }} as bucket_start_local,
        {{ local_time('incident_start') }} as incident_start_local
    from scored
    where source = 'all'

)

select * from final
order by brand, bucket_start
