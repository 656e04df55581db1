-- export_paid: what a county pays, for the cross-county checks: each ledger line of the window,
-- one row per person it pays for (int.person_month_paid: 低保金 split into the covered members'
-- shares), with who that person is and what the county itself knows of their death or move-out.
-- Run against a county's run database (read-only); province/store.py adds the county, the
-- validated number, the name's pinyin and the export's id, and writes it to the shared store.
with shares as (
    select * from int.person_month_paid
),

persons as (
    select * from link.person
),

own_events as (
    -- the county's own death and move-out months: its own checks raise what is paid after them
    select
        person_id,
        min(event_month) filter (where event_kind = 'death') as death_month,
        min(event_month) filter (where event_kind = 'moved_out') as move_out_month
    from int.person_event
    group by person_id
),

roster_starts as (
    -- 保障开始年月 / 开始年月: when the case began, as its roster says
    select 'dibao' as programme, case_no, min(start_month) as start_month
    from stg.dibao
    where case_no is not null
    group by case_no
    union all
    select 'tekun' as programme, case_no, min(start_month) as start_month
    from stg.tekun
    where case_no is not null
    group by case_no
),

ledger_starts as (
    -- a case no roster lists (a subsidy's certificate): the first month the ledger pays it
    select programme, case_no, min(paid_month) as start_month
    from stg.payments
    where case_no is not null
    group by programme, case_no
)

select
    shares.person_id,
    persons.id_number,
    persons.name,
    persons.sex,
    persons.birth_date,
    persons.township,
    persons.village,
    persons.in_register,
    persons.person_status,
    persons.status_date,
    own_events.death_month,
    own_events.move_out_month,
    shares.paid_month,
    shares.programme,
    vocabulary_label('programme', shares.programme) as programme_label,
    shares.case_no,
    shares.amount,
    shares.line_amount,
    shares.covered_count,
    shares.link_confidence,
    coalesce(roster_starts.start_month, ledger_starts.start_month) as case_start_month,
    shares.ledger_row
from shares
inner join persons
    on shares.person_id = persons.person_id
left join own_events
    on shares.person_id = own_events.person_id
left join roster_starts
    on shares.programme = roster_starts.programme
    and shares.case_no = roster_starts.case_no
left join ledger_starts
    on shares.programme = ledger_starts.programme
    and shares.case_no = ledger_starts.case_no
