-- Every topic of topic_keywords has a label in Russian and in English (topic_labels):
-- readers see words in their language, never an identifier such as `deposit_rates`.

with

topics as (

    select distinct topic from {{ ref('topic_keywords') }}

),

languages as (

    select unnest(['ru', 'en']) as language

),

labels as (

    select * from {{ ref('topic_labels') }}

)

select
    topics.topic,
    languages.language

from topics
cross join languages
left join labels
    on topics.topic = labels.topic and languages.language = labels.language
where labels.label is null
