-- dibao_member: each dibao case membership — one person declared on one case — with the months it covers.
-- Policy: a 是 row covers 保障开始年月 .. 停保年月 (or as_of while 在保); a case is active
-- when it covers as_of. A 否 row covers nothing (the roster shows the current state only).
-- A member listed twice on a case (a corrected copy beside the old row: a fixed name, amount or
-- start month) is one membership, never two cases: covered when a row says 是, over the months
-- from its rows' earliest start to their latest end, with a waiver when a row has one.
-- Its other columns come from one row: a 是 row before a 否 one, then the one reaching latest,
-- starting latest, with the larger amount, then by name and relation, then the smaller row
-- number, so the read order never decides. Rows of no linked person stay apart unless they
-- carry the same number.
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
        head.confidence as head_confidence,
        coalesce(member.person_id, dibao.id_number, format('row {}', dibao.source_row)) as member_key
    from stg.dibao as dibao
    left join link.person_record as member
        on member.source = 'dibao'
        and member.source_row = dibao.source_row
        and member.role = 'subject'
    left join link.person_record as head
        on head.source = 'dibao'
        and head.source_row = dibao.source_row
        and head.role = 'head'
),

membership_facts as (
    -- what the rows of one membership say together
    select
        case_no,
        member_key,
        bool_or(is_covered) as is_covered,
        bool_or(has_tekun_waiver) as has_tekun_waiver,
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
        order by is_covered desc, end_month desc, start_month desc, monthly_amount desc, roster_name, relation, roster_row
    ) = 1
),

memberships as (
    select
        chosen_rows.* exclude (is_covered, has_tekun_waiver, start_month, case_status, stop_month, end_month, confidence,
            member_key),
        membership_facts.* exclude (case_no, member_key)
    from chosen_rows
    inner join membership_facts
        on chosen_rows.case_no = membership_facts.case_no
        and chosen_rows.member_key = membership_facts.member_key
)

select
    *,
    start_month <= $as_of_month and end_month >= $as_of_month as is_active,
    count(*) filter (where is_covered) over (partition by case_no) as covered_count
from memberships
