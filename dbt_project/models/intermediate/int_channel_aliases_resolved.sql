-- One channel vocabulary for every source: alias (lower-cased, trimmed) -> channel.
-- The defaults of seeds/channel_aliases.csv (site domains, spelling variants, utm
-- sources) with the config's `channels.aliases` on top: a configured alias overrides
-- its default. A channel that is no alias stays as it is.

with

defaults as (

    select
        lower(trim(alias)) as alias,
        trim(channel) as channel

    from {{ ref('channel_aliases') }}

),

configured as (

    select
        lower(trim(alias_entry.key)) as alias,
        trim(alias_entry.value) as channel

    from (
        select unnest(
            map_entries(cast(json(setting_value) as map(varchar, varchar)))
        ) as alias_entry
        from {{ ref('stg_config__settings') }}
        where setting_key = 'channel_aliases'
    )

),

resolved as (

    select alias, channel, 'config' as origin from configured
    union all
    select alias, channel, 'default' as origin from defaults
    where alias not in (select alias from configured)

)

select * from resolved
