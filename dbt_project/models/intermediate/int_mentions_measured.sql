-- What a mention's source says about its audience and its thread, read from the raw
-- attributes: reach (the contract field `reach`, else Telegram's `views`), engagement
-- (the contract field `engagement`, else the sum of the interaction counts a source
-- stored: reactions, likes, forwards, reposts, replies), the mention it answers
-- (`reply_to`: an id at the same source or a URL) and whether one of the brands'
-- configured accounts wrote it. Numbers a person typed into an export ("1 200",
-- "3,5") are read too; anything else is null, never a guess.

{%- set interactions = ['reactions', 'likes', 'forwards', 'reposts', 'replies'] %}

with

mentions as (

    select * from {{ ref('stg_raw__mentions') }}

),

accounts as (

    select * from {{ ref('stg_config__brand_accounts') }}

),

read as (

    select
        mentions.mention_id,
        mentions.source,
        lower(trim(mentions.author)) as author_key,
        coalesce({{ attribute_number('mentions.attributes', 'reach') }}, {{ attribute_number('mentions.attributes', 'views') }}) as reach,
        {{ attribute_number('mentions.attributes', 'engagement') }} as engagement_given,
        {%- for key in interactions %}
        {{ attribute_number('mentions.attributes', key) }} as {{ key }},
        {%- endfor %}
        nullif(trim(json_extract_string(mentions.attributes, '$.reply_to')), '') as reply_to

    from mentions

),

final as (

    select
        read.mention_id,
        cast(round(read.reach) as bigint) as reach,
        cast(round(coalesce(
            read.engagement_given,
            case
                -- null only when the source stored none of the counts
                when {% for key in interactions %}read.{{ key }} is not null{{ ' or ' if not loop.last }}{% endfor %}
                    then {% for key in interactions %}coalesce(read.{{ key }}, 0){{ ' + ' if not loop.last }}{% endfor %}
            end
        )) as bigint) as engagement,
        read.reply_to,
        accounts.brand as account_brand

    from read
    left join accounts
        on read.source = accounts.source
        and read.author_key = accounts.author_key

)

select * from final
