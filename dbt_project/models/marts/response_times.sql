-- How fast the brand answers its customers in public: one row per customer mention
-- (a story about the brand, not a repost, not written by a brand account nor by the
-- media: the press is not a customer waiting for an answer) with the
-- brand's first reply to it and the hours it took; null when nobody answered. A reply
-- is a mention by one of the brand's accounts (config `brands[].accounts`, or an author
-- named like the brand) whose reply_to names the customer's mention: its URL (scheme,
-- www. and a trailing slash ignored), or its id at the same source. A reply dated
-- before the mention it answers (clock skew) is not a reply to it.

with

mentions as (

    select * from {{ ref('mentions') }}

),

labels as (

    select * from {{ ref('int_labels_localized') }}

),

customer_mentions as (

    select
        *,
        regexp_replace(rtrim(lower(url), '/'), '^https?://(www\.)?', '') as url_key

    from mentions
    where not is_repost
        and is_relevant is not false
        and not is_brand_account
        and author_role != 'media'

),

replies as (

    select
        mention_id as reply_mention_id,
        brand,
        source,
        author as reply_author,
        published_at as replied_at,
        reply_to,
        regexp_replace(rtrim(lower(reply_to), '/'), '^https?://(www\.)?', '') as reply_to_key

    from mentions
    -- every brand post that answers something: a templated reply is often a "repost"
    -- of the last one, and it need not pass as being about the brand
    where is_brand_account and reply_to is not null

),

-- two equality joins rather than one join on "url or id" (which cannot use a hash join)
matched as (

    select customer_mentions.mention_id, replies.*
    from customer_mentions
    inner join replies
        on customer_mentions.brand = replies.brand
        and customer_mentions.url_key = replies.reply_to_key
    where replies.replied_at >= customer_mentions.published_at

    union

    select customer_mentions.mention_id, replies.*
    from customer_mentions
    inner join replies
        on customer_mentions.brand = replies.brand
        and customer_mentions.source = replies.source
        and customer_mentions.native_id = replies.reply_to
    where replies.replied_at >= customer_mentions.published_at

),

first_replies as (

    select *
    from matched
    qualify row_number() over (
        partition by mention_id order by replied_at, reply_mention_id
    ) = 1

),

final as (

    select
        customer_mentions.mention_id,
        customer_mentions.brand,
        customer_mentions.source,
        customer_mentions.source_type,
        customer_mentions.channel,
        {{ label_or_code('channel_labels.label', 'customer_mentions.channel') }} as channel_label,
        customer_mentions.stage,
        customer_mentions.stage_label,
        customer_mentions.sentiment,
        customer_mentions.sentiment_label,
        customer_mentions.published_at,
        customer_mentions.published_date,
        first_replies.reply_mention_id is not null as is_answered,
        first_replies.reply_mention_id,
        first_replies.reply_author,
        first_replies.replied_at,
        epoch(first_replies.replied_at - customer_mentions.published_at) / 3600.0
            as response_hours

    from customer_mentions
    left join first_replies on customer_mentions.mention_id = first_replies.mention_id
    left join labels as channel_labels
        on customer_mentions.brand = channel_labels.brand
        and channel_labels.kind = 'channel'
        and customer_mentions.channel = channel_labels.code

)

select * from final
order by published_at, mention_id
