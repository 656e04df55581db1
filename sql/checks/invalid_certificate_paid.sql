-- invalid_certificate_paid 证件失效仍领取: disability subsidies paid outside a certificate's validity.
-- Policy: living- or care-subsidy lines for months outside the certificate's validity, and
-- every care-subsidy line on a grade not in $care_subsidy_grades. A death-cancelled
-- certificate paid through the death month is correct. Months after the payee's death or
-- move-out belong to deceased_paid / moved_out_paid and are not counted twice here.
-- Overpaid = the sum of those lines.
with subsidy_lines as (
    select *
    from int.person_month_paid
    where programme in ('living_subsidy', 'care_subsidy')
),

lines_on_certificates as (
    select
        lines.person_id,
        lines.ledger_row,
        lines.paid_month,
        lines.programme,
        lines.amount,
        lines.link_confidence,
        cert.case_no,
        cert.grade,
        cert.category,
        cert.issue_month,
        cert.valid_through_month,
        cert.certificate_status,
        cert.roster_row,
        cert.confidence as certificate_confidence
    from subsidy_lines as lines
    inner join int.certificate as cert
        on lines.case_no = cert.case_no
    left join int.person_departure as departure
        on lines.person_id = departure.person_id
    where cert.is_validity_known
        and (departure.departure_month is null or lines.paid_month <= departure.departure_month)
),

invalid_lines as (
    select
        *,
        vocabulary_label('programme', programme) as programme_label,
        case
            when paid_month < issue_month then '发证之前'
            when paid_month > valid_through_month then
                case certificate_status when 'cancelled' then '注销之后' else '有效期满之后' end
            else format('{}级不符合护理补贴条件', grade)
        end as reason
    from lines_on_certificates
    where paid_month < issue_month
        or paid_month > valid_through_month
        or (programme = 'care_subsidy' and not list_contains($care_subsidy_grades, grade))
),

per_certificate as (
    select
        invalid_lines.person_id,
        invalid_lines.case_no,
        min(paid_month) as period_start,
        max(paid_month) as period_end,
        sum(amount) as overpaid_amount,
        least(min(link_confidence), min(certificate_confidence)) as link_confidence,
        format('残疾人证 {}（{}，{}起有效，有效至 {}，证件状态{}，残疾人证第 {} 行）{}仍发放{} {} 至 {} 共 {} 笔 {} 元（发放明细第 {} 行）',
            invalid_lines.case_no, any_value(disability_text(category, grade)), month_text(any_value(issue_month)),
            coalesce(month_text(any_value(valid_through_month)), '不详'),
            any_value(certificate_status_text(certificate_status)),
            any_value(roster_row), string_agg(distinct reason, '、' order by reason),
            string_agg(distinct programme_label, '、' order by programme_label),
            month_text(min(paid_month)), month_text(max(paid_month)), count(*), yuan_text(sum(amount)),
            string_agg(ledger_row::varchar, '、' order by ledger_row)) as evidence
    from invalid_lines
    group by invalid_lines.person_id, invalid_lines.case_no
)

select
    'invalid_certificate_paid' as check_code,
    person_id,
    string_agg(case_no, '、' order by case_no) as case_no,
    min(period_start) as period_start,
    max(period_end) as period_end,
    sum(overpaid_amount) as overpaid_amount,
    0 as backpay_amount,
    min(link_confidence) as link_confidence,
    string_agg(evidence, '；' order by case_no) as evidence,
    case_key('invalid_certificate_paid', person_id) as case_key
from per_certificate
group by person_id
