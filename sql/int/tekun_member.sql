-- tekun_member: each tekun support period — one person on one 供养证号 — with the months it supports.
-- Policy: supported 开始年月 .. 终止年月 (or as_of while 在供); active when it covers as_of.
-- A support listed twice (a corrected copy beside the old row: a fixed name, amount or start
-- month) is one period, never two: from its rows' earliest start to their latest end. Its other
-- columns (月供养金, 供养方式) come from one row: the one reaching latest, starting latest, with the
-- larger amount, then by mode, then the smaller row number, so the read order never decides.
-- Rows of no linked person stay apart unless they carry the same number.
with roster as (
    select
        tekun.source_row as roster_row,
        tekun.case_no,
        tekun.support_mode,
        tekun.monthly_amount,
        tekun.start_month,
        tekun.case_status,
        tekun.stop_month,
        case tekun.case_status when 'stopped' then tekun.stop_month else $as_of_month end as end_month,
        rec.person_id,
        rec.confidence,
        rec.explanation,
        coalesce(rec.person_id, tekun.id_number, format('row {}', tekun.source_row)) as member_key
    from stg.tekun as tekun
    left join link.person_record as rec
        on rec.source = 'tekun'
        and rec.source_row = tekun.source_row
        and rec.role = 'subject'
),

period_facts as (
    -- what the rows of one support period say together
    select
        case_no,
        member_key,
        min(start_month) as start_month,
        max(end_month) as end_month,
        case when bool_and(case_status = 'stopped') then 'stopped' else 'active' end as case_status,
        case when bool_and(case_status = 'stopped') then max(stop_month) end as stop_month,
        min(confidence) as confidence,
        list(roster_row order by roster_row) as roster_rows
    from roster
    group by case_no, member_key
),

chosen_rows as (
    select *
    from roster
    qualify row_number() over (
        partition by case_no, member_key
        order by end_month desc, start_month desc, monthly_amount desc, support_mode, roster_row
    ) = 1
),

periods as (
    select
        chosen_rows.* exclude (start_month, case_status, stop_month, end_month, confidence, member_key),
        period_facts.* exclude (case_no, member_key)
    from chosen_rows
    inner join period_facts
        on chosen_rows.case_no = period_facts.case_no
        and chosen_rows.member_key = period_facts.member_key
)

select
    *,
    start_month <= $as_of_month and end_month >= $as_of_month as is_active
from periods
