-- person_departure: per person, the month they left the rolls: the earlier of death and move-out.
-- Policy: living and present in a month = no departure, or the month is not after the
-- departure month (the event month itself is paid correctly). A person with a row here
-- is not living and present at as_of.
with events as (
    select * from int.person_event
),

people_with_two_events as (
    -- the few who both died and moved out; everyone else's one event is their departure
    select person_id
    from events
    group by person_id
    having count(*) > 1
),

first_of_two as (
    select
        person_id,
        min(event_month) as departure_month,
        -- the first event; on the same day a death before a move-out ('death' < 'moved_out'), so
        -- every column comes from one event whatever the order DuckDB reads the rows in
        arg_min(event_kind, (event_month, event_date, event_kind)) as departure_kind,
        arg_min(event_label, (event_month, event_date, event_kind)) as departure_label,
        arg_min(event_date, (event_month, event_date, event_kind)) as departure_date,
        arg_min(link_confidence, (event_month, event_date, event_kind)) as link_confidence,
        arg_min(evidence, (event_month, event_date, event_kind)) as evidence
    from events
    semi join people_with_two_events
        on events.person_id = people_with_two_events.person_id
    group by person_id
)

select
    person_id,
    event_month as departure_month,
    event_kind as departure_kind,
    event_label as departure_label,
    event_date as departure_date,
    link_confidence,
    evidence
from events
anti join people_with_two_events
    on events.person_id = people_with_two_events.person_id
union all
select * from first_of_two
