-- identity_anomaly 身份信息异常: a recipient whose identity cannot be trusted.
-- Policy: a recipient (a ledger payee in the window, a covered member of an active dibao
-- case, or active on tekun) who has no register record and whose number fails its check and
-- cannot be repaired to a register person; or whose register number's embedded birth date
-- or sex digit contradicts the register's 出生日期 or 性别; or who would be older than
-- $identity_max_age. A number one slip or a 15-digit form away from a register person is
-- repairable, not an anomaly; a lunar birthday in a benefit roster is not one. No money.
-- The evidence says how far the dates are apart and how old the person is, never a birth date:
-- beside a masked citizen number either date would give away its hidden digits.
with unrepairable_rows as (
    -- (a) rows whose number fails its check, is no slip from a register number, and that
    -- are on no register person
    select repair.source, repair.source_row, repair.id_number_clean
    from link.number_repair as repair
    inner join link.person_record as rec
        on rec.source = repair.source
        and rec.source_row = repair.source_row
        and rec.role = repair.role
    left join link.person as person
        on rec.person_id = person.person_id
    where repair.role = 'subject'
        and repair.status in ('no_candidate', 'not_18')
        and not coalesce(person.in_register, false)
),

register_facts as (
    -- what each register record says, and what its own number says
    select
        person_id,
        name,
        register_row,
        birth_date,
        sex,
        birth_date_of(id_number) as number_birth_date,
        sex_of(id_number) as number_sex,
        age_on(coalesce(birth_date, birth_date_of(id_number)), $as_of_last_day) as age,
        age_on(birth_date_of(id_number), $as_of_last_day) as number_age
    from int.register_member
),

contradictions as (
    -- (b) and (c), on the register's own record
    select
        person_id,
        name,
        register_row,
        concat_ws('；',
            case when birth_date <> number_birth_date
                then format('户籍身份证号码所含出生日期与户籍登记出生日期不一致（相差 {} 天{}）',
                    abs(date_diff('day', number_birth_date, birth_date)),
                    case when number_age <> age then format('，年龄相差 {} 岁', abs(number_age - age)) else '' end) end,
            case when sex <> number_sex
                then format('身份证号第十七位表示{}性，户籍登记为{}性', case number_sex when 'M' then '男' else '女' end,
                    case sex when 'M' then '男' else '女' end) end,
            case when age > $identity_max_age
                then format('按{}出生日期计算已 {} 岁，超过 {} 岁', case when birth_date is null then '身份证号码所含' else '户籍登记' end,
                    age, $identity_max_age) end
        ) as problems
    from register_facts
    where birth_date <> number_birth_date
        or sex <> number_sex
        or age > $identity_max_age
),

unregistered_too_old as (
    -- (c) for recipients without a register record: the birth date in their own (valid) number
    select
        person.person_id,
        person.name,
        cast(null as integer) as register_row,
        format('户籍中无此人，按身份证号码所含出生日期计算已 {} 岁，超过 {} 岁',
            age_on(birth_date_of(person.id_number), $as_of_last_day), $identity_max_age) as problems
    from link.person as person
    where not person.in_register
        and age_on(birth_date_of(person.id_number), $as_of_last_day) > $identity_max_age
        and not exists (
            select 1 from link.person_record as rec
            where rec.person_id = person.person_id
                and rec.method = 'same_invalid_number'
        )
),

suspects as (
    select * from contradictions
    union all
    select * from unregistered_too_old
),

suspect_rows as (
    select rec.source, rec.source_row, suspects.person_id
    from suspects
    inner join link.person_record as rec
        on rec.person_id = suspects.person_id
        and rec.role = 'subject'
),

candidate_rows as (
    select source, source_row from unrepairable_rows
    union
    select source, source_row from suspect_rows
),

recipient_rows as (
    -- of those rows, the ones that make their person a recipient
    select 'payments' as source, source_row, format('发放明细第 {} 行', source_row) as row_text, name, township
    from stg.payments
    where paid_month between $window_start_month and $as_of_month
        and source_row in (select source_row from candidate_rows where source = 'payments')
    union all
    -- every row of a covered membership of an active case (a member listed twice: both rows)
    select 'dibao', dibao.source_row, format('低保证号 {} 保障对象（低保第 {} 行）', dibao.case_no, dibao.source_row), dibao.name,
        dibao.township
    from stg.dibao as dibao
    where dibao.source_row in (select unnest(roster_rows) from int.dibao_member where is_covered and is_active)
        and dibao.source_row in (select source_row from candidate_rows where source = 'dibao')
    union all
    select 'tekun', tekun.source_row, format('特困供养证号 {}（特困第 {} 行）', tekun.case_no, tekun.source_row), tekun.name,
        tekun.township
    from stg.tekun as tekun
    where tekun.source_row in (select unnest(roster_rows) from int.tekun_member where is_active)
        and tekun.source_row in (select source_row from candidate_rows where source = 'tekun')
),

unrepairable as (
    select
        unrepairable_rows.id_number_clean,
        -- as the first row writes them, so the read order never decides
        arg_min(recipient_rows.name, (recipient_rows.source, recipient_rows.source_row)) as name,
        arg_min(recipient_rows.township, (recipient_rows.source, recipient_rows.source_row)) as township,
        min(recipient_rows.row_text) as first_row_text,
        count(*) as rows
    from unrepairable_rows
    inner join recipient_rows
        on unrepairable_rows.source = recipient_rows.source
        and unrepairable_rows.source_row = recipient_rows.source_row
    group by unrepairable_rows.id_number_clean
),

recipient_contradictions as (
    select
        suspects.person_id,
        any_value(suspects.name) as name,
        any_value(suspects.register_row) as register_row,
        any_value(suspects.problems) as problems,
        min(recipient_rows.row_text) as first_row_text,
        count(*) as rows
    from suspects
    inner join suspect_rows
        on suspects.person_id = suspect_rows.person_id
    inner join recipient_rows
        on suspect_rows.source = recipient_rows.source
        and suspect_rows.source_row = recipient_rows.source_row
    group by suspects.person_id
)

select
    'identity_anomaly' as check_code,
    cast(null as varchar) as person_id,
    id_number_clean as id_number,
    name,
    township,
    cast(null as varchar) as village,
    cast(null as varchar) as case_no,
    $as_of_month as period_start,
    $as_of_month as period_end,
    0 as overpaid_amount,
    0 as backpay_amount,
    1.0 as link_confidence,
    format('身份证号 {}（{} 等 {} 行）校验位不符，与户籍中任何号码都不是一位之差或相邻颠倒，户籍中也查无此人：请核实领取人身份',
        id_number_clean, first_row_text, rows) as evidence,
    case_key('identity_anomaly', id_number_clean) as case_key
from unrepairable
union all
select
    'identity_anomaly' as check_code,
    person_id,
    cast(null as varchar) as id_number,
    cast(null as varchar) as name,
    cast(null as varchar) as township,
    cast(null as varchar) as village,
    cast(null as varchar) as case_no,
    $as_of_month as period_start,
    $as_of_month as period_end,
    0 as overpaid_amount,
    0 as backpay_amount,
    1.0 as link_confidence,
    format('{}{}领取救助（{} 等 {} 行）：{}。请核实身份信息', name, coalesce(format('（户籍第 {} 行）', register_row), ''),
        first_row_text, rows, problems) as evidence,
    case_key('identity_anomaly', person_id) as case_key
from recipient_contradictions
