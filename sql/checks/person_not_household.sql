-- person_not_household 保人不保户: a 整户 dibao case that leaves out a living, present member
-- of the head's register household.
-- Policy: 低保 covers the whole co-resident household. Exempt: members dead or moved out;
-- every member of a 单人 case (single inclusion is on purpose); members covered by another
-- active dibao case or by active tekun. One finding per uncovered member; no money (the
-- amount depends on a reassessment). The registered-poor roster's view of the family is shown.
with household_cases as (
    select
        case_no,
        -- the rows of a case name one head and one amount; a corrected copy may not: the smaller
        -- person id and the larger amount, so the read order never decides
        min(head_person_id) as head_person_id,
        min(head_confidence) as head_confidence,
        count(*) filter (where is_covered) as covered_count,
        max(monthly_amount) as monthly_amount
    from int.dibao_member
    where is_active
    group by case_no
    having bool_and(inclusion = 'household') and min(head_person_id) is not null
),

case_households as (
    select
        cases.*,
        head.household_no
    from household_cases as cases
    inner join int.register_member as head
        on cases.head_person_id = head.person_id
),

household_members as (
    select
        cases.case_no,
        cases.household_no,
        cases.head_person_id,
        cases.head_confidence,
        cases.covered_count,
        cases.monthly_amount,
        people.*,
        exists (
            select 1 from int.dibao_member as covered
            where covered.case_no = cases.case_no
                and covered.person_id = people.person_id
                and covered.is_covered
        ) as is_covered_here
    from case_households as cases
    inner join int.register_member as people
        on cases.household_no = people.household_no
),

exempt_elsewhere as (
    select person_id, format('低保证号 {} 保障对象', case_no) as covered_by
    from int.dibao_member
    where is_covered and is_active
    union all
    select person_id, format('特困供养证号 {} 在供', case_no) as covered_by
    from int.tekun_member
    where is_active
),

uncovered as (
    select members.*
    from household_members as members
    where members.departure_month is null
        and not members.is_covered_here
        and not exists (
            select 1 from exempt_elsewhere
            where exempt_elsewhere.person_id = members.person_id
        )
),

compositions as (
    select
        household_members.case_no,
        format('户籍户号 {} 共登记 {} 人：{}',
            any_value(household_members.household_no), count(*),
            string_agg(
                format('{}（{}，{}）', household_members.name, household_members.relation_label,
                    case
                        when household_members.departure_month is not null
                            then format('{} {}', household_members.departure_label, month_text(household_members.departure_month))
                        when household_members.is_covered_here then '本案保障对象'
                        else '未纳入本案保障' end),
                '、' order by household_members.register_row)) as composition
    from household_members
    -- only the households a finding describes
    where household_members.case_no in (select case_no from uncovered)
    group by household_members.case_no
),

poor_view as (
    -- the registered-poor roster's family of the member, if listed
    select
        person_id,
        format('建档立卡户编号 {} 登记家庭人口数 {} 人，列出成员 {} 人，兜底保障登记为{}',
            poor_household_no, household_size, listed_members, safety_net_text(safety_net)) as poor_text
    from int.poor_member
    -- only the people a finding names: the uncovered member and their household head
    where person_id in (select person_id from uncovered union all select head_person_id from uncovered)
    qualify row_number() over (partition by person_id order by poor_household_no, roster_row) = 1
)

select
    'person_not_household' as check_code,
    uncovered.person_id,
    uncovered.case_no,
    $as_of_month as period_start,
    $as_of_month as period_end,
    0 as overpaid_amount,
    0 as backpay_amount,
    uncovered.head_confidence as link_confidence,
    format('低保证号 {} 为整户保障，保障 {} 人（户月保障金 {} 元），{} 是户主户籍同户人员、在世在籍，未纳入保障，也未享受其他低保或特困；{}{}。'
        || '如确属单独立户或另有原因，请在核查说明中注明。',
        uncovered.case_no, uncovered.covered_count, yuan_text(uncovered.monthly_amount), uncovered.name,
        compositions.composition,
        coalesce('；' || member_poor.poor_text, '；户主' || head_poor.poor_text, '')) as evidence,
    case_key('person_not_household', uncovered.person_id || '|' || uncovered.case_no) as case_key
from uncovered
inner join compositions
    on uncovered.case_no = compositions.case_no
left join poor_view as member_poor
    on uncovered.person_id = member_poor.person_id
left join poor_view as head_poor
    on uncovered.head_person_id = head_poor.person_id
