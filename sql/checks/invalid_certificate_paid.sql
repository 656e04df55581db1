-- invalid_certificate_paid 证件失效仍领取: disability subsidies paid outside a certificate's validity.
-- Policy: living- or care-subsidy lines for months outside the certificate's validity, and
-- every care-subsidy line on a grade not in $care_subsidy_grades. A death-cancelled
-- certificate paid through the death month is correct. A certificate re-issued on renewal is one
-- certificate (int.certificate): a line before the new row's issue date is on the old row's
-- validity, and only months between the two rows' validity (a real lapse) are outside it.
-- Months after the payee's death or move-out belong to deceased_paid / moved_out_paid and are
-- not counted twice here. Overpaid = the sum of those lines.
with subsidy_lines as (
    select *
    from int.person_month_paid
    where programme in ('living_subsidy', 'care_subsidy')
),

known_certificates as (
    -- certificates whose validity is known, with how many of them share the number
    select *, count(*) over (partition by case_no) as number_certificates
    from int.certificate
    where is_validity_known
),

candidate_certificates as (
    -- each line on the certificates its number names
    select
        lines.person_id,
        lines.ledger_row,
        lines.paid_month,
        lines.programme,
        lines.amount,
        lines.link_confidence,
        cert.certificate_key,
        cert.case_no,
        cert.grade,
        cert.category,
        cert.issue_month,
        cert.latest_issue_date,
        cert.row_count,
        cert.valid_through_month,
        cert.certificate_status,
        cert.roster_rows,
        cert.confidence as certificate_confidence,
        cert.number_certificates,
        -- a certificate of one row is valid through its range (an unknown issue month proves no
        -- month), a renewed one in the months one of its rows is
        case
            when cert.row_count = 1 then coalesce(month_in(lines.paid_month, cert.issue_month, cert.valid_through_month), false)
            else renewed.month is not null
        end as is_valid_month
    from subsidy_lines as lines
    inner join known_certificates as cert
        on lines.case_no = cert.case_no
    left join int.renewed_certificate_month as renewed
        on cert.certificate_key = renewed.certificate_key
        and lines.paid_month = renewed.month
    left join int.person_departure as departure
        on lines.person_id = departure.person_id
    where departure.departure_month is null or lines.paid_month <= departure.departure_month
),

lines_on_certificates as (
    -- where one number names two certificates (a re-assessment that kept the number), the one
    -- valid that month, then the most severe grade, then the latest issued. A line on a number of
    -- one certificate is settled by that one: only the invalid of those need go further.
    select *
    from candidate_certificates
    where number_certificates > 1
        or not is_valid_month
        or (programme = 'care_subsidy' and not list_contains($care_subsidy_grades, grade))
    qualify row_number() over (
        partition by ledger_row, person_id
        order by is_valid_month desc, grade, latest_issue_date desc, category, certificate_key
    ) = 1
),

invalid_lines as (
    select
        *,
        vocabulary_label('programme', programme) as programme_label,
        case
            when paid_month < issue_month then '发证之前'
            when paid_month > valid_through_month then
                case certificate_status when 'cancelled' then '注销之后' else '有效期满之后' end
            when not is_valid_month then '换证前旧证已失效、新证尚未发放'
            else format('{}级不符合护理补贴条件', grade)
        end as reason
    from lines_on_certificates
    where not is_valid_month
        or (programme = 'care_subsidy' and not list_contains($care_subsidy_grades, grade))
),

per_certificate as (
    select
        invalid_lines.person_id,
        invalid_lines.case_no,
        invalid_lines.certificate_key,
        min(paid_month) as period_start,
        max(paid_month) as period_end,
        sum(amount) as overpaid_amount,
        least(min(link_confidence), min(certificate_confidence)) as link_confidence,
        format('残疾人证 {}（{}，{}起有效{}，有效至 {}，证件状态{}，残疾人证第 {} 行）{}仍发放{} {} 至 {} 共 {} 笔 {} 元（发放明细第 {} 行）',
            invalid_lines.case_no, any_value(disability_text(category, grade)), month_text(any_value(issue_month)),
            case when any_value(row_count) > 1 then format('，{} 换证', any_value(latest_issue_date)) else '' end,
            coalesce(month_text(any_value(valid_through_month)), '不详'),
            any_value(certificate_status_text(certificate_status)),
            any_value(roster_rows), string_agg(distinct reason, '、' order by reason),
            string_agg(distinct programme_label, '、' order by programme_label),
            month_text(min(paid_month)), month_text(max(paid_month)), count(*), yuan_text(sum(amount)),
            string_agg(ledger_row::varchar, '、' order by ledger_row)) as evidence
    from invalid_lines
    -- every column taken with any_value is the certificate's own: one value per group
    group by invalid_lines.person_id, invalid_lines.case_no, invalid_lines.certificate_key
)

select
    'invalid_certificate_paid' as check_code,
    person_id,
    string_agg(distinct case_no, '、' order by case_no) as case_no,
    min(period_start) as period_start,
    max(period_end) as period_end,
    sum(overpaid_amount) as overpaid_amount,
    0 as backpay_amount,
    min(link_confidence) as link_confidence,
    string_agg(evidence, '；' order by case_no, certificate_key) as evidence,
    case_key('invalid_certificate_paid', person_id) as case_key
from per_certificate
group by person_id
