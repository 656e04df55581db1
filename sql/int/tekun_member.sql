-- tekun_member: each tekun roster row with its person and the months it supports.
-- Policy: supported 开始年月 .. 终止年月 (or as_of while 在供); active when it covers as_of.
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
        rec.explanation
    from stg.tekun as tekun
    left join link.person_record as rec
        on rec.source = 'tekun'
        and rec.source_row = tekun.source_row
        and rec.role = 'subject'
)

select
    *,
    start_month <= $as_of_month and end_month >= $as_of_month as is_active
from roster
