-- person_event: when each linked person died or moved out of the county, and how we know.
-- Policy: dead = register 死亡 or a linked cremation record, month = the earlier
-- of the two dates (cremation records are incomplete and the register is updated
-- late, so both are used); moved out = register 迁出, month = 变动日期.
with register_rows as (
    select
        rec.person_id,
        rec.confidence,
        rec.explanation,
        reg.source_row,
        reg.person_status,
        reg.change_date
    from stg.household_register as reg
    inner join link.person_record as rec
        on rec.source = 'household_register'
        and rec.source_row = reg.source_row
        and rec.role = 'subject'
    where rec.person_id is not null
        and reg.change_date is not null
),

register_events as (
    select
        person_id,
        case person_status when 'dead' then 'death' else 'moved_out' end as event_kind,
        change_date as event_date,
        format('户籍登记{}，变动日期 {}（户籍第 {} 行，{}）',
            vocabulary_label('person_status', person_status),
            change_date, source_row, explanation) as evidence,
        confidence
    from register_rows
    where person_status in ('dead', 'moved_out')
),

cremation_events as (
    select
        rec.person_id,
        'death' as event_kind,
        cre.death_date as event_date,
        format('火化记录 {} 死亡日期 {}（火化第 {} 行，{}）',
            cre.record_no, cre.death_date, cre.source_row, rec.explanation) as evidence,
        rec.confidence
    from stg.cremation as cre
    inner join link.person_record as rec
        on rec.source = 'cremation'
        and rec.source_row = cre.source_row
        and rec.role = 'subject'
    where rec.person_id is not null
        and cre.death_date is not null
),

all_events as (
    select * from register_events
    union all
    select * from cremation_events
),

repeated_events as (
    -- an event on two records (a death on the register and on a cremation record, a number
    -- registered twice): the only ones to combine; every other event is its one record
    select person_id, event_kind
    from all_events
    group by person_id, event_kind
    having count(*) > 1
),

first_events as (
    select person_id, event_kind, event_date, confidence as link_confidence, evidence
    from all_events
    anti join repeated_events
        on all_events.person_id = repeated_events.person_id
        and all_events.event_kind = repeated_events.event_kind
    union all
    select
        person_id,
        event_kind,
        min(event_date) as event_date,
        -- the evidence that sets the month is the link the finding rests on; two records of the
        -- same day (register and cremation) either set it: the surer link is the one to rest on
        arg_min(confidence, (event_date, -confidence)) as link_confidence,
        string_agg(evidence, '；' order by event_date, evidence) as evidence
    from all_events
    semi join repeated_events
        on all_events.person_id = repeated_events.person_id
        and all_events.event_kind = repeated_events.event_kind
    group by person_id, event_kind
)

select
    person_id,
    event_kind,
    label_of('event_kind', event_kind) as event_label,
    event_date,
    cast(date_trunc('month', event_date) as date) as event_month,
    link_confidence,
    evidence
from first_events
