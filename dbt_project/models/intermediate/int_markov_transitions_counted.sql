-- Input of the data-driven (Markov-chain) attribution: first-order transition
-- counts between journey states, per brand. A state is a touchpoint cell of
-- marts.touchpoints (stage × channel × touchpoint), plus (start), (conversion)
-- and (null). Paths: every conversion path of int_conversion_paths, ending in
-- (conversion); every customer who never converted, all their touches in time
-- order, ending in (null). Repeats of a state are kept (self-loops).

with

conversion_paths as (

    select * from {{ ref('int_conversion_paths') }}

),

touches as (

    select * from {{ ref('int_customer_touches') }}

),

converted_customers as (

    select distinct brand, customer_key from conversion_paths

),

converted_steps as (

    select
        brand,
        'conversion:' || conversion_event_id as path_id,
        touch_number,
        path_length,
        true as is_converted,
        stage || chr(31) || channel || chr(31) || touchpoint as state

    from conversion_paths

),

lost_steps as (

    select
        touches.brand,
        'customer:' || touches.customer_key as path_id,
        row_number() over customer_touches as touch_number,
        count(*) over (partition by touches.brand, touches.customer_key) as path_length,
        false as is_converted,
        touches.stage || chr(31) || touches.channel || chr(31) || touches.touchpoint as state

    from touches
    anti join converted_customers
        on touches.brand = converted_customers.brand
        and touches.customer_key = converted_customers.customer_key
    window customer_touches as (
        partition by touches.brand, touches.customer_key
        order by touches.occurred_at, touches.event_id
    )

),

steps as (

    select * from converted_steps
    union all
    select * from lost_steps

),

transitions as (

    select
        brand,
        lag(state, 1, '(start)') over (partition by brand, path_id order by touch_number) as from_state,
        state as to_state

    from steps

    union all

    select
        brand,
        state as from_state,
        case when is_converted then '(conversion)' else '(null)' end as to_state

    from steps
    where touch_number = path_length

),

counted as (

    select
        brand,
        from_state,
        to_state,
        count(*) as transitions

    from transitions
    group by all

)

select * from counted
order by brand, from_state, to_state
