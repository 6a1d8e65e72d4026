-- Each mention's product and region. From the source's metadata first (the mention
-- attribute named in `segments.<dimension>.mention_attribute`, e.g. a listening
-- export's Регион column), else from the text: the product of the mention's brand
-- (`brands[].products`) or the region (seeds/region_gazetteer.csv) whose forms occur
-- most often as whole words in title + text (ties: the first by name); null when none.
-- A metadata value that is a gazetteer form or a region's name is read as that region
-- ("Казань" -> Республика Татарстан), so both sides speak of the same regions.
-- One regular expression per dimension scans the texts (a constant, built from
-- int_segment_terms when the model runs, so it is compiled once); the words it finds
-- are then matched against the single forms without regular expressions.

{%- set alternations = {} %}
{%- if execute %}
    {%- set terms_relation = load_relation(ref('int_segment_terms')) %}
    {%- set settings_relation = load_relation(ref('int_segment_settings')) %}
    {%- if terms_relation is not none and settings_relation is not none %}
        {%- set found = run_query(
            "select dimension, string_agg(pattern, '|' order by length(form) desc, form) "
            ~ "from " ~ terms_relation ~ " where dimension = 'product' or "
            ~ "(select region_from_text from " ~ settings_relation ~ ") group by dimension order by dimension"
        ) %}
        {%- for row in found.rows %}
            {%- do alternations.update({row[0]: row[1]}) %}
        {%- endfor %}
    {%- endif %}
{%- endif %}

with

mentions as (

    select
        stg.mention_id,
        enriched.brand,
        stg.attributes,
        {{ normalize_text("coalesce(stg.title, '') || ' ' || coalesce(stg.text, '')") }} as body

    from {{ ref('stg_raw__mentions') }} as stg
    inner join {{ ref('int_mentions_enriched') }} as enriched
        on stg.mention_id = enriched.mention_id

),

segment_settings as (

    select * from {{ ref('int_segment_settings') }}

),

terms as (

    select
        *,
        string_split(form, ' ') as form_words

    from {{ ref('int_segment_terms') }}
    where dimension = 'product' or (select region_from_text from segment_settings)

),

hit_lists as (

    {%- for dimension, alternation in alternations.items() %}
    select
        mention_id,
        brand,
        '{{ dimension }}' as dimension,
        {{ whole_word_hits('body', alternation) }} as hits

    from mentions
    {% if not loop.last %}union all{% endif %}
    {%- else %}
    select mention_id, brand, null::varchar as dimension, []::varchar[] as hits
    from mentions
    where false
    {%- endfor %}

),

hits as (

    select
        mention_id,
        brand,
        dimension,
        unnest(hits) as word,
        generate_subscripts(hits, 1) as hit_no

    from hit_lists
    where len(hits) > 0

),

-- which form each distinct word found is: a form word ending in * is a prefix
word_forms as (

    select
        found.dimension,
        found.word,
        terms.brand,
        terms.segment_value

    from (
        select distinct
            dimension,
            word,
            string_split(regexp_replace(word, '\s+', ' ', 'g'), ' ') as words
        from hits
    ) as found
    inner join terms
        on found.dimension = terms.dimension
        and len(found.words) = len(terms.form_words)
        and list_bool_and(list_transform(
            range(1, len(terms.form_words) + 1),
            i -> case
                when ends_with(terms.form_words[i], '*')
                    then starts_with(found.words[i], rtrim(terms.form_words[i], '*'))
                else found.words[i] = terms.form_words[i]
            end
        ))

),

text_counts as (

    select
        hits.mention_id,
        hits.dimension,
        word_forms.segment_value,
        count(distinct hits.hit_no) as n_hits

    from hits
    inner join word_forms
        on hits.dimension = word_forms.dimension
        and hits.word = word_forms.word
        and (word_forms.brand is null or word_forms.brand = hits.brand)
    group by all

),

from_text as (

    select
        mention_id,
        dimension,
        segment_value

    from text_counts
    qualify row_number() over (
        partition by mention_id, dimension order by n_hits desc, segment_value
    ) = 1

),

from_metadata as (

    select
        mentions.mention_id,
        nullif(trim(json_extract_string(
            mentions.attributes, '$."' || segment_settings.region_mention_attribute || '"'
        )), '') as region_value,
        nullif(trim(json_extract_string(
            mentions.attributes, '$."' || segment_settings.product_mention_attribute || '"'
        )), '') as product_value

    from mentions
    cross join segment_settings

),

-- a metadata region named like the gazetteer: its region (macros/segments.sql)
region_values as (

    {{ written_regions('from_metadata') }}

),

metadata_regions as (

    select
        from_metadata.mention_id,
        region_values.region

    from from_metadata
    inner join region_values on from_metadata.region_value = region_values.region_value

),

final as (

    select
        mentions.mention_id,
        coalesce(from_metadata.product_value, text_products.segment_value) as product,
        coalesce(metadata_regions.region, text_regions.segment_value) as region,
        case
            when metadata_regions.region is not null then 'metadata'
            when text_regions.segment_value is not null then 'text'
        end as region_source

    from mentions
    left join from_metadata
        on mentions.mention_id = from_metadata.mention_id
    left join metadata_regions
        on mentions.mention_id = metadata_regions.mention_id
    left join from_text as text_products
        on mentions.mention_id = text_products.mention_id
        and text_products.dimension = 'product'
    left join from_text as text_regions
        on mentions.mention_id = text_regions.mention_id
        and text_regions.dimension = 'region'

)

select * from final
