-- The response-time summary per local day × brand × channel of the customers'
-- mentions: how many there were, how many the brand answered, the unanswered share and
-- the median and 90th-percentile hours to the first reply (of the answered ones; null
-- on a day nobody was answered). Percentiles are of the day's cell only: they do not
-- add up, so a week's median is read from marts.response_times, not averaged here.

with

responses as (

    select * from {{ ref('response_times') }}

),

final as (

    select
        published_date,
        brand,
        channel,
        any_value(channel_label) as channel_label,
        count(*) as customer_mentions,
        count(*) filter (where is_answered) as answered_mentions,
        count(*) filter (where not is_answered) as unanswered_mentions,
        count(*) filter (where not is_answered) / count(*) as unanswered_share,
        quantile_cont(response_hours, 0.5) as median_response_hours,
        quantile_cont(response_hours, 0.9) as p90_response_hours

    from responses
    group by published_date, brand, channel

)

select * from final
order by published_date, brand, channel
