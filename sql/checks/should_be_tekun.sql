-- should_be_tekun 该吃五保吃低保: a dibao member who meets the tekun criteria and is kept on dibao.
-- Policy: 特困 = unable to work (age >= $tekun_min_age, under $tekun_max_minor_age, or a
-- disability of no labour capacity: cfg.no_labour_disability) and no legal supporter able to
-- support (no other living, present member of the register 户号), not on active tekun, no
-- 特困放弃协议. The register cannot show children registered elsewhere: the evidence says so.
-- No money. The evidence gives ages, never a birth date: beside a masked citizen number a
-- birth date is the hidden half of it.
with members as (
    select *
    from int.dibao_member
    where is_covered
        and is_active
        and person_id is not null
),

member_people as (
    -- covered members living and present, as the register describes them, with their age
    select
        members.case_no,
        members.roster_row,
        members.confidence,
        members.explanation,
        members.has_tekun_waiver,
        people.*,
        age_on(people.birth_date, $as_of_last_day) as age
    from members
    inner join int.register_member as people
        on members.person_id = people.person_id
    where people.is_present
),

no_labour_certificates as (
    -- certificates valid at as_of (a renewal listed twice is one certificate); the most severe first
    select
        cert.person_id,
        arg_min(format('持残疾人证 {}（{}，有效期至 {}）', cert.case_no, disability_text(cert.category, cert.grade), cert.valid_until),
            (cert.grade, cert.case_no, cert.category)) as certificate_text
    from int.certificate_month as cert
    inner join cfg.no_labour_disability as no_labour
        on cert.category = no_labour.category
        and cert.grade <= no_labour.max_grade
    where cert.month = $as_of_month
    group by cert.person_id
),

candidates as (
    -- covered members unable to work, before looking at their households
    select
        member_people.*,
        certificates.certificate_text
    from member_people
    left join no_labour_certificates as certificates
        on member_people.person_id = certificates.person_id
    where member_people.age >= $tekun_min_age
        or member_people.age < $tekun_max_minor_age
        or certificates.person_id is not null
),

household_others as (
    -- everyone else registered in the candidate's household, present or not
    select
        candidates.person_id,
        count(others.person_id) filter (where others.is_present) as present_others,
        string_agg(format('{}（{}，{}）', others.name, others.relation_label,
                format('{} {}', others.departure_label, month_text(others.departure_month))), '、'
            order by others.register_row) as departed_others
    from candidates
    left join int.register_member as others
        on candidates.household_no = others.household_no
        and candidates.person_id <> others.person_id
    group by candidates.person_id
),

active_tekun as (
    select distinct person_id from int.tekun_member where is_active
),

eligible as (
    select
        candidates.*,
        household_others.departed_others,
        case
            when candidates.age >= $tekun_min_age
                then format('年满 {} 周岁（按户籍出生日期现 {} 周岁）', $tekun_min_age, candidates.age)
            when candidates.age < $tekun_max_minor_age
                then format('未满 {} 周岁（按户籍出生日期现 {} 周岁）', $tekun_max_minor_age, candidates.age)
            else candidates.certificate_text || '，视为无劳动能力'
        end as unable_to_work
    from candidates
    inner join household_others
        on candidates.person_id = household_others.person_id
    where household_others.present_others = 0
        and not candidates.has_tekun_waiver
        and not exists (select 1 from active_tekun where active_tekun.person_id = candidates.person_id)
)

select
    'should_be_tekun' as check_code,
    person_id,
    case_no,
    $as_of_month as period_start,
    $as_of_month as period_end,
    0 as overpaid_amount,
    0 as backpay_amount,
    confidence as link_confidence,
    format('{} 为低保证号 {} 保障对象（低保第 {} 行{}），{}；户籍户号 {}（户籍第 {} 行）无其他在世在籍成员{}；'
        || '不在特困供养名册，低保名册未登记特困放弃协议。户籍无法反映户籍在外的子女等法定赡养人，请入户核实赡养能力后按特困认定。',
        name, case_no, roster_row, link_note(confidence, explanation), unable_to_work, household_no, register_row,
        coalesce(format('（{}）', departed_others), '')) as evidence,
    case_key('should_be_tekun', person_id) as case_key
from eligible
