-- Which channels of the one vocabulary (int_channel_aliases_resolved) are seen on
-- which side, per brand: mentions (stories about the brand) and CRM touches. A
-- channel seen on one side only is where the map cannot put mentions and customers
-- together: a missing alias (add it under `channels.aliases`) or a channel the brand
-- only listens to / only advertises in. Each refresh prints the one-sided channels.

with

mentions as (

    select * from {{ ref('mentions') }}
    where not is_repost and is_relevant is not false

),

events as (

    select * from {{ ref('int_crm_events_mapped') }}

),

labels as (

    select * from {{ ref('int_labels_localized') }}

),

mention_side as (

    select
        brand,
        channel,
        count(*) as mentions,
        list_sort(list(distinct channel_raw)) as mention_channels_raw

    from mentions
    group by brand, channel

),

crm_side as (

    select
        brand,
        channel,
        count(*) as crm_events,
        count(distinct customer_key) as distinct_customers,
        list_sort(list(distinct channel_raw)) as crm_channels_raw

    from events
    group by brand, channel

),

final as (

    select
        coalesce(mention_side.brand, crm_side.brand) as brand,
        coalesce(mention_side.channel, crm_side.channel) as channel,
        {{ label_or_code('channel_labels.label', 'coalesce(mention_side.channel, crm_side.channel)') }}
            as channel_label,
        case
            when mention_side.channel is not null and crm_side.channel is not null then 'both'
            when mention_side.channel is not null then 'mentions_only'
            else 'crm_only'
        end as coverage,
        coalesce(mention_side.mentions, 0) as mentions,
        coalesce(crm_side.crm_events, 0) as crm_events,
        coalesce(crm_side.distinct_customers, 0) as distinct_customers,
        coalesce(mention_side.mention_channels_raw, []::varchar[]) as mention_channels_raw,
        coalesce(crm_side.crm_channels_raw, []::varchar[]) as crm_channels_raw

    from mention_side
    full outer join crm_side
        on mention_side.brand = crm_side.brand
        and mention_side.channel = crm_side.channel
    left join labels as channel_labels
        on coalesce(mention_side.brand, crm_side.brand) = channel_labels.brand
        and channel_labels.kind = 'channel'
        and coalesce(mention_side.channel, crm_side.channel) = channel_labels.code

)

select * from final
order by brand, coverage, channel
