-- status_mismatch 系统状态不一致: the registered-poor system's 兜底保障 disagrees with the rosters.
-- Policy: expected = 特困 if any listed member is on active tekun, else 低保 if any is covered
-- by an active dibao case (单人 counts), else 无. One finding per household, on its 户主. No money.
with listed as (
    select * from int.poor_member
),

on_tekun as (
    select person_id, min(case_no) as case_no
    from int.tekun_member
    where is_active
    group by person_id
),

on_dibao as (
    select person_id, min(case_no) as case_no
    from int.dibao_member
    where is_covered and is_active
    group by person_id
),

households as (
    select
        listed.poor_household_no,
        -- the rows of a household may disagree (a mistyped 户主 name or number on one of them):
        -- each column as the first row giving it says, so the read order never decides
        arg_min(listed.safety_net, listed.roster_row) as recorded,
        -- the 户主 columns; where their number is unusable, the head's own member row
        coalesce(arg_min(listed.head_person_id, listed.roster_row),
            arg_min(listed.person_id, listed.roster_row) filter (where listed.relation = 'head')) as head_person_id,
        arg_min(listed.head_id_number, listed.roster_row) as head_id_number,
        arg_min(listed.head_name, listed.roster_row) as head_name,
        arg_min(listed.township, listed.roster_row) as township,
        arg_min(listed.village, listed.roster_row) as village,
        least(min(listed.confidence), min(listed.head_confidence)) as link_confidence,
        string_agg(listed.roster_row::varchar, '、' order by listed.roster_row) as rows_text,
        case
            when count(on_tekun.person_id) > 0 then 'tekun'
            when count(on_dibao.person_id) > 0 then 'dibao'
            else 'none'
        end as expected,
        string_agg(format('{}（{}）', listed.name,
                coalesce('特困供养证号 ' || on_tekun.case_no || ' 在供', '低保证号 ' || on_dibao.case_no || ' 保障对象', '无')),
            '、' order by listed.roster_row) as members_text
    from listed
    left join on_tekun
        on listed.person_id = on_tekun.person_id
    left join on_dibao
        on listed.person_id = on_dibao.person_id
    group by listed.poor_household_no
),

mismatched as (
    select *
    from households
    where recorded is distinct from expected
)

select
    'status_mismatch' as check_code,
    head_person_id as person_id,
    head_id_number as id_number,
    head_name as name,
    township,
    village,
    poor_household_no as case_no,
    $as_of_month as period_start,
    $as_of_month as period_end,
    0 as overpaid_amount,
    0 as backpay_amount,
    link_confidence,
    format('建档立卡户编号 {}（户主 {}，建档立卡第 {} 行）兜底保障登记为{}，救助名册显示应为{}：{}。请核实后更正其中一个系统',
        poor_household_no, head_name, rows_text, safety_net_text(recorded), safety_net_text(expected), members_text) as evidence,
    case_key('status_mismatch', poor_household_no) as case_key
from mismatched
