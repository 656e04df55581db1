-- line_reason: every reason found against each batch line: (source_row, reason_code, confidence, evidence).
-- Policy (../shared/POLICY.md, the rules of the checks on the ledger, asked of a month not yet paid):
-- the beneficiaries of a line are its payee, except 低保金: the case's covered members. A line is
-- not due after the month its beneficiaries died or moved out (`is_after_event`: the event month
-- itself is paid), nor after its case stopped or its support ended, nor on a certificate not valid
-- in the month or of a grade the subsidy does not pay; a second line of the same 项目 and month for
-- the same beneficiary is not due, nor 低保金 for members tekun (or an earlier-started case)
-- already supports. `confidence` is the least sure link a reason rests on: screen/line.sql
-- blocks only on sure ones, and a reason about the payee only when the payee's link is at least
-- $identity_stop_threshold sure (a line linked by a likeness less sure is held for a look). The reason codes are screen/reasons.py's.
with lines as (
    select
        pay.source_row,
        pay.paid_month,
        pay.programme,
        pay.case_no,
        pay.amount,
        pay.id_number_raw,
        pay.name,
        person.person_id,
        person.link_confidence,
        person.link_explanation
    from stg.payments as pay
    inner join line_person as person
        on pay.source_row = person.source_row
),

covered as (
    select case_no, person_id, confidence, roster_row, start_month, case_status, stop_month
    from night.int.dibao_member
    where is_covered
),

beneficiaries as (
    -- 低保金: the case's covered members (a member of no linked person counts, as nobody known);
    -- every other line, and a 低保金 line of a case the roster does not cover: the payee.
    -- `is_sure_payee`: false for a payee linked less surely than $identity_stop_threshold (the
    -- roster names a case's members: who they are is the roster's, not the line's)
    select lines.source_row, covered.person_id, covered.confidence, true as is_sure_payee
    from lines
    inner join covered
        on lines.case_no = covered.case_no
    where lines.programme = 'dibao'
    union all
    select lines.source_row, lines.person_id, lines.link_confidence, lines.link_confidence >= $identity_stop_threshold
    from lines
    where lines.programme <> 'dibao'
        or lines.case_no not in (select case_no from covered)
),

elsewhere_deaths as (
    -- deaths the register does not show, known only from cremation records whose 户籍地址 names
    -- another county: the record says the deceased was registered elsewhere, and a namesake of
    -- the county links to it as readily as the person. Enough for inspectors to look (the night's
    -- finding), not to stop a payment: such a death is treated as unsure (held, never blocked).
    select rec.person_id
    from night.link.person_record as rec
    left join night.link.record as record
        on rec.source = record.source
        and rec.source_row = record.source_row
        and rec.role = record.role
    inner join night.link.person as persons
        on rec.person_id = persons.person_id
    where rec.source = 'cremation'
        and rec.role = 'subject'
        and persons.person_status is distinct from 'dead'
    group by rec.person_id
    having bool_and(coalesce(record.outside_county, false))
),

departed as (
    select
        beneficiaries.source_row,
        beneficiaries.person_id,
        departure.departure_kind,
        departure.evidence
            || case when elsewhere.person_id is not null then '（火化记录户籍地址为外县，户籍未登记死亡）' else '' end
            || case when not beneficiaries.is_sure_payee then format('（领取人关联可信度 {:.2f}，低于拦截所需的 {}）',
                beneficiaries.confidence, $identity_stop_threshold) else '' end
            as evidence,
        -- a payment is stopped on its payee only when the line is surely theirs
        case
            when departure.departure_kind = 'death' and elsewhere.person_id is not null then 0.0
            when not beneficiaries.is_sure_payee then 0.0
            else least(beneficiaries.confidence, departure.link_confidence)
        end as confidence
    from beneficiaries
    inner join lines
        on beneficiaries.source_row = lines.source_row
    inner join night.int.person_departure as departure
        on beneficiaries.person_id = departure.person_id
    left join elsewhere_deaths as elsewhere
        on beneficiaries.person_id = elsewhere.person_id
    where is_after_event(lines.paid_month, departure.departure_month)
),

departures as (
    select
        departed.source_row,
        count(*) as departed_count,
        bool_or(departed.departure_kind = 'death') as has_death,
        min(departed.confidence) as confidence,
        string_agg(departed.evidence, '；' order by departed.evidence) as evidence
    from departed
    group by departed.source_row
),

beneficiary_counts as (
    select source_row, count(*) as beneficiary_count
    from beneficiaries
    group by source_row
),

departure_reasons as (
    -- all beneficiaries gone: the line is not due; some of a case's covered members gone: the
    -- case's amount is to be recalculated before it is paid
    select
        departures.source_row,
        case
            when departures.departed_count < counts.beneficiary_count then 'member_departed'
            when departures.has_death then 'dead'
            else 'moved_out'
        end as reason_code,
        departures.confidence,
        case
            when lines.programme = 'dibao' then
                format('低保证号 {} 保障成员 {} 人中 {} 人在 {} 之前已死亡或迁出：{}', lines.case_no,
                    counts.beneficiary_count, departures.departed_count, month_text(lines.paid_month), departures.evidence)
            else format('{} 之前{}：{}', month_text(lines.paid_month),
                case when departures.has_death then '已死亡' else '已迁出' end, departures.evidence)
        end as evidence
    from departures
    inner join beneficiary_counts as counts
        on departures.source_row = counts.source_row
    inner join lines
        on departures.source_row = lines.source_row
),

dibao_cases as (
    select
        case_no,
        bool_and(case_status = 'stopped') as is_stopped,
        max(stop_month) as stop_month,
        min(start_month) as start_month,
        string_agg(distinct roster_row::varchar, '、' order by roster_row::varchar) as roster_rows
    from night.int.dibao_member
    group by case_no
),

tekun_cases as (
    select
        case_no,
        bool_and(case_status = 'stopped') as is_stopped,
        max(stop_month) as stop_month,
        string_agg(distinct roster_row::varchar, '、' order by roster_row::varchar) as roster_rows
    from night.int.tekun_member
    group by case_no
),

case_reasons as (
    select
        lines.source_row,
        case when cases.case_no is null then 'unknown_case' else 'case_stopped' end as reason_code,
        1.0 as confidence,
        case
            when cases.case_no is null then format('低保证号 {} 不在低保名册中', lines.case_no)
            else format('低保证号 {} 已于 {} 停保（低保第 {} 行），{} 不应发放', lines.case_no,
                month_text(cases.stop_month), cases.roster_rows, month_text(lines.paid_month))
        end as evidence
    from lines
    left join dibao_cases as cases
        on lines.case_no = cases.case_no
    where lines.programme = 'dibao'
        and (cases.case_no is null or (cases.is_stopped and is_after_event(lines.paid_month, cases.stop_month)))
    union all
    select
        lines.source_row,
        case when cases.case_no is null then 'unknown_case' else 'case_stopped' end,
        1.0,
        case
            when cases.case_no is null then format('供养证号 {} 不在特困名册中', lines.case_no)
            else format('供养证号 {} 已于 {} 终止供养（特困第 {} 行），{} 不应发放', lines.case_no,
                month_text(cases.stop_month), cases.roster_rows, month_text(lines.paid_month))
        end
    from lines
    left join tekun_cases as cases
        on lines.case_no = cases.case_no
    where lines.programme = 'tekun'
        and (cases.case_no is null or (cases.is_stopped and is_after_event(lines.paid_month, cases.stop_month)))
),

subsidy_lines as (
    select *
    from lines
    where programme in ('living_subsidy', 'care_subsidy')
),

renewed_valid as (
    -- a renewed certificate (two rows) is valid in the months one of its rows is
    select distinct subsidy_lines.source_row, rows.certificate_key
    from subsidy_lines
    inner join night.int.certificate as cert
        on subsidy_lines.case_no = cert.case_no
    inner join night.int.certificate_row as rows
        on cert.certificate_key = rows.certificate_key
    where cert.row_count > 1
        and rows.is_validity_known
        and month_in(subsidy_lines.paid_month, rows.issue_month, rows.valid_through_month)
),

line_certificates as (
    -- where one number names two certificates (a re-assessment kept the number): the one valid
    -- that month, then the most severe grade, then the latest issued (as invalid_certificate_paid)
    select
        subsidy_lines.source_row,
        subsidy_lines.programme,
        subsidy_lines.paid_month,
        cert.*,
        case
            when cert.row_count = 1 then coalesce(month_in(subsidy_lines.paid_month, cert.issue_month, cert.valid_through_month), false)
            else renewed.certificate_key is not null
        end as is_valid_month
    from subsidy_lines
    inner join night.int.certificate as cert
        on subsidy_lines.case_no = cert.case_no
    left join renewed_valid as renewed
        on subsidy_lines.source_row = renewed.source_row
        and cert.certificate_key = renewed.certificate_key
    where cert.is_validity_known
    qualify row_number() over (
        partition by subsidy_lines.source_row
        order by is_valid_month desc, cert.grade, cert.latest_issue_date desc, cert.category, cert.certificate_key
    ) = 1
),

certificate_reasons as (
    select
        source_row,
        'certificate_invalid' as reason_code,
        confidence,
        format('残疾人证 {}（{}，{} 起有效，有效至 {}，证件状态{}，残疾人证第 {} 行）：{}', case_no,
            disability_text(category, grade), month_text(issue_month), month_text(valid_through_month),
            certificate_status_text(certificate_status), roster_rows,
            case
                when not is_valid_month and paid_month < issue_month then format('{} 尚未发证', month_text(paid_month))
                when not is_valid_month and paid_month > valid_through_month then
                    format('{} 已{}', month_text(paid_month), case certificate_status when 'cancelled' then '注销' else '过有效期' end)
                when not is_valid_month then format('{} 旧证已失效、新证尚未发放', month_text(paid_month))
                else format('{}级不符合{}条件', grade, vocabulary_label('programme', programme))
            end) as evidence
    from line_certificates
    where not is_valid_month
        or (programme = 'care_subsidy' and not list_contains($care_subsidy_grades, grade))
        or (programme = 'living_subsidy' and not list_contains($living_subsidy_grades, grade))
    union all
    select subsidy_lines.source_row, 'unknown_case', 1.0, format('残疾人证号 {} 不在残疾人证名册中（或其有效期无法读取）', subsidy_lines.case_no)
    from subsidy_lines
    anti join (select case_no from night.int.certificate where is_validity_known) as known
        on subsidy_lines.case_no = known.case_no
),

line_keys as (
    -- the same payment twice: a 低保金 line pays its case, every other line its payee
    select
        source_row,
        programme,
        paid_month,
        link_confidence,
        case
            when programme = 'dibao' then 'case:' || case_no
            when person_id is not null then 'person:' || person_id
            else 'identity:' || coalesce(id_number_raw, '') || '|' || coalesce(name, '')
        end as payment_key,
        -- the payee as the line wrote them: two lines alike in it pay one payee, whoever the link says that is
        coalesce(id_number_raw, '') || '|' || coalesce(name, '') as identity_key
    from lines
),

night_keys as (
    -- the lines the night's ledger already holds for the batch's months
    select
        pay.source_row as ledger_row,
        pay.programme,
        pay.paid_month,
        case when pay.programme = 'dibao' then 'case:' || pay.case_no else 'person:' || rec.person_id end as payment_key
    from night.stg.payments as pay
    left join night.link.person_record as rec
        on rec.source = 'payments'
        and rec.source_row = pay.source_row
        and rec.role = 'subject'
    where pay.paid_month in (select distinct paid_month from lines)
        and (pay.programme = 'dibao' or rec.person_id is not null)
),

repeat_reasons as (
    select
        source_row,
        'repeated_line' as reason_code,
        case
            when payment_key like 'case:%' or same_identity then 1.0
            when link_confidence >= $identity_stop_threshold then link_confidence
            else 0.0
        end as confidence,
        format('与本批次第 {} 行重复：同一{}、同一{}、同为 {}', first_row,
            case when programme = 'dibao' then '低保证号' when same_identity then '领取人姓名和身份证号' else '领取人' end,
            vocabulary_label('programme', programme), month_text(paid_month)) as evidence
    from (
        select
            *,
            first_value(source_row) over same_payment as first_row,
            row_number() over same_payment as nth,
            -- the first line of the payment wrote the payee as this one does
            first_value(identity_key) over same_payment = identity_key as same_identity
        from line_keys
        window same_payment as (partition by payment_key, programme, paid_month order by source_row)
    )
    where nth > 1
    union all
    select
        line_keys.source_row,
        'repeated_line',
        case when line_keys.payment_key like 'case:%' then 1.0
            when line_keys.link_confidence >= $identity_stop_threshold then line_keys.link_confidence else 0.0 end,
        format('{} 的{}已发放（发放明细第 {} 行）', month_text(line_keys.paid_month),
            vocabulary_label('programme', line_keys.programme),
            string_agg(night_keys.ledger_row::varchar, '、' order by night_keys.ledger_row))
    from line_keys
    inner join night_keys
        on line_keys.payment_key = night_keys.payment_key
        and line_keys.programme = night_keys.programme
        and line_keys.paid_month = night_keys.paid_month
    group by line_keys.source_row, line_keys.payment_key, line_keys.programme, line_keys.paid_month, line_keys.link_confidence
),

covered_members as (
    -- each covered member of a 低保金 line's case, and whether tekun or an earlier-started case
    -- already supports them in the month (tekun is the benefit that stays; of two cases, the later)
    select
        lines.source_row,
        lines.paid_month,
        lines.case_no,
        member.person_id,
        member.confidence,
        exists (
            select 1
            from night.int.tekun_member as tekun
            where tekun.person_id = member.person_id
                and month_in(lines.paid_month, tekun.start_month, case when tekun.case_status = 'stopped' then tekun.stop_month end)
        ) as on_tekun,
        exists (
            select 1
            from covered as other
            inner join dibao_cases as other_case
                on other.case_no = other_case.case_no
            inner join dibao_cases as this_case
                on this_case.case_no = lines.case_no
            where other.person_id = member.person_id
                and other.case_no <> lines.case_no
                and month_in(lines.paid_month, other.start_month, case when other.case_status = 'stopped' then other.stop_month end)
                and (other_case.start_month, other.case_no) < (this_case.start_month, lines.case_no)
        ) as on_earlier_case
    from lines
    inner join covered as member
        on lines.case_no = member.case_no
    where lines.programme = 'dibao'
),

programme_reasons as (
    select
        source_row,
        'other_programme' as reason_code,
        min(confidence) as confidence,
        format('低保证号 {} 的保障成员 {} 人在 {} 均已{}', any_value(case_no), count(*), month_text(any_value(paid_month)),
            case when bool_and(on_tekun) then '享受特困供养' else '由更早的低保证号保障或享受特困供养' end) as evidence
    from covered_members
    group by source_row
    having bool_and(person_id is not null and (on_tekun or on_earlier_case))
),

age_reasons as (
    select
        beneficiaries.source_row,
        'over_age' as reason_code,
        beneficiaries.confidence,
        format('{} 年出生，{} 时 {} 岁，超过 {} 岁', year(persons.birth_date), month_text(lines.paid_month),
            age_on(persons.birth_date, last_day(lines.paid_month)), $identity_max_age) as evidence
    from beneficiaries
    inner join lines
        on beneficiaries.source_row = lines.source_row
    inner join night.link.person as persons
        on beneficiaries.person_id = persons.person_id
    where age_on(persons.birth_date, last_day(lines.paid_month)) > $identity_max_age
),

identity_reasons as (
    select
        source_row,
        'uncertain_identity' as reason_code,
        coalesce(link_confidence, 0.0) as confidence,
        case
            when person_id is null then '领取人的身份证号与姓名在户籍及各名册中均无对应人员'
            else format('领取人关联可信度 {:.2f}，低于复核阈值 {}（{}）', link_confidence, $identity_review_threshold, link_explanation)
        end as evidence
    from lines
    where person_id is null
        or link_confidence < $identity_review_threshold
)

select source_row, reason_code, confidence, evidence from departure_reasons
union all
select source_row, reason_code, confidence, evidence from case_reasons
union all
select source_row, reason_code, confidence, evidence from certificate_reasons
union all
select source_row, reason_code, confidence, evidence from repeat_reasons
union all
select source_row, reason_code, confidence, evidence from programme_reasons
union all
select source_row, reason_code, confidence, evidence from age_reasons
union all
select source_row, reason_code, confidence, evidence from identity_reasons
