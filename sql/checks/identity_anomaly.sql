-- identity_anomaly 身份信息异常: a recipient whose identity cannot be trusted.
-- Policy: a recipient (a ledger payee in the window, a covered member of an active dibao
-- case, or active on tekun) who has no register record and whose number fails its check and
-- cannot be repaired to a register person; or whose register number's embedded birth date
-- or sex digit contradicts the register's 出生日期 or 性别; or who would be older than
-- $identity_max_age. A number one slip or a 15-digit form away from a register person is
-- repairable, not an anomaly; a lunar birthday in a benefit roster is not one. No money.
with recipient_rows as (
    select 'payments' as source, source_row, format('发放明细第 {} 行', source_row) as row_text
    from stg.payments
    where paid_month between $window_start_month and $as_of_month
    union all
    select 'dibao', roster_row, format('低保证号 {} 保障对象（低保第 {} 行）', case_no, roster_row)
    from int.dibao_member
    where is_covered and is_active
    union all
    select 'tekun', roster_row, format('特困供养证号 {}（特困第 {} 行）', case_no, roster_row)
    from int.tekun_member
    where is_active
),

recipients as (
    select recipient_rows.*, rec.person_id, rec.confidence, person.in_register
    from recipient_rows
    inner join link.person_record as rec
        on rec.source = recipient_rows.source
        and rec.source_row = recipient_rows.source_row
        and rec.role = 'subject'
    left join link.person as person
        on rec.person_id = person.person_id
),

unrepairable as (
    -- (a) a number that fails its check, is no slip from a register number, on no register person
    select
        repair.id_number_clean,
        any_value(names.name) as name,
        any_value(names.township) as township,
        min(recipients.row_text) as first_row_text,
        count(*) as rows
    from recipients
    inner join link.number_repair as repair
        on repair.source = recipients.source
        and repair.source_row = recipients.source_row
        and repair.role = 'subject'
    left join (
        select 'payments' as source, source_row, name, township from stg.payments
        union all
        select 'dibao', source_row, name, township from stg.dibao
        union all
        select 'tekun', source_row, name, township from stg.tekun
    ) as names
        on names.source = recipients.source
        and names.source_row = recipients.source_row
    where repair.status in ('no_candidate', 'not_18')
        and not coalesce(recipients.in_register, false)
    group by repair.id_number_clean
),

register_people as (
    select
        member.person_id,
        member.id_number,
        member.name,
        member.birth_date,
        member.sex,
        member.register_row,
        age_on(coalesce(member.birth_date, birth_date_of(member.id_number)), $as_of_last_day) as age
    from int.register_member as member
),

registered_recipients as (
    select
        register_people.*,
        min(recipients.row_text) as first_row_text,
        count(*) as rows
    from register_people
    inner join recipients
        on register_people.person_id = recipients.person_id
    group by all
),

contradictions as (
    -- (b) and (c), on the register's own record
    select
        *,
        concat_ws('；',
            case when birth_date <> birth_date_of(id_number)
                then format('户籍身份证号中的出生日期为 {}，户籍登记出生日期为 {}', birth_date_of(id_number), birth_date) end,
            case when sex <> sex_of(id_number)
                then format('身份证号第17位表示{}性，户籍登记为{}性', case sex_of(id_number) when 'M' then '男' else '女' end,
                    case sex when 'M' then '男' else '女' end) end,
            case when age > $identity_max_age
                then format('按出生日期 {} 计算已 {} 岁，超过 {} 岁', coalesce(birth_date, birth_date_of(id_number)), age, $identity_max_age) end
        ) as problems
    from registered_recipients
    where birth_date <> birth_date_of(id_number)
        or sex <> sex_of(id_number)
        or age > $identity_max_age
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
    format('{}（户籍第 {} 行）领取救助（{} 等 {} 行）：{}。请核实户籍信息', name, register_row, first_row_text, rows, problems) as evidence,
    case_key('identity_anomaly', person_id) as case_key
from contradictions
