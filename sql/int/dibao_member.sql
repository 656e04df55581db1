-- dibao_member: each dibao roster row with its person, its case and the months it covers.
-- Policy: a 是 row covers 保障开始年月 .. 停保年月 (or as_of while 在保); a case is active
-- when it covers as_of. A 否 row covers nothing (the roster shows the current state only).
with roster as (
    select
        dibao.source_row as roster_row,
        dibao.case_no,
        dibao.township,
        dibao.village,
        dibao.area_type,
        dibao.inclusion,
        dibao.is_covered,
        coalesce(dibao.has_tekun_waiver, false) as has_tekun_waiver,
        dibao.start_month,
        dibao.case_status,
        dibao.stop_month,
        case dibao.case_status when 'stopped' then dibao.stop_month else $as_of_month end as end_month,
        dibao.monthly_amount,
        dibao.name as roster_name,
        dibao.relation,
        member.person_id,
        member.confidence,
        member.explanation,
        head.person_id as head_person_id,
        head.confidence as head_confidence
    from stg.dibao as dibao
    left join link.person_record as member
        on member.source = 'dibao'
        and member.source_row = dibao.source_row
        and member.role = 'subject'
    left join link.person_record as head
        on head.source = 'dibao'
        and head.source_row = dibao.source_row
        and head.role = 'head'
)

select
    *,
    start_month <= $as_of_month and end_month >= $as_of_month as is_active,
    count(*) filter (where is_covered) over (partition by case_no) as covered_count
from roster
