-- Negative-mention spikes per brand × source × hour (or day): where a spike came
-- from, judged by the same detector per source. The brand total is marts.negative_spikes
-- (not repeated here as a source 'all', which would count every mention twice in a sum).

with

scored as (

    select * from {{ ref('int_negative_buckets_scored') }}

),

final as (

    select *,
        -- the wall-clock time people read (config reporting_timezone); bucket_start
        -- stays the UTC instant
        {{ local_time('bucket_start') }} as bucket_start_local
    from scored
    where source != 'all'

)

select * from final
order by brand, source, bucket_start
