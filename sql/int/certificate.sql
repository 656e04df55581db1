-- certificate: each disability certificate — one 残疾人证号 of one holder in one category and
-- grade — with the months it is valid.
-- Policy: a certificate re-issued on renewal (换证: same category and grade) keeps its number and
-- is listed twice, old row and new (int.certificate_row). It is one certificate, valid in every
-- month one of its rows is valid: from the first 发证日期 through the last valid-through month,
-- continuous when the new row was issued by the month after the old one's valid-through month;
-- months between them otherwise are a real lapse. A re-assessment to another grade or category is
-- another certificate, and its issue month ends a cancelled old one (int.certificate_row).
-- Validity is known when every row's is. What the certificate says now (valid until, status) is
-- its latest row's: the latest issued, then the latest valid until, then the status, then the
-- smaller row number, so the read order never decides.
with certificate_rows as (
    select * from int.certificate_row
),

certificates as (
    select
        certificate_key,
        case_no,
        category,
        grade,
        holder,
        person_id,
        min(issue_date) as issue_date,
        min(issue_month) as issue_month,
        max(issue_date) as latest_issue_date,
        arg_max(valid_until, (issue_date, valid_until, certificate_status, -roster_row)) as valid_until,
        arg_max(certificate_status, (issue_date, valid_until, certificate_status, -roster_row)) as certificate_status,
        arg_max(cancelled_month, (issue_date, valid_until, certificate_status, -roster_row)) as cancelled_month,
        arg_max(roster_row, (issue_date, valid_until, certificate_status, -roster_row)) as roster_row,
        string_agg(roster_row::varchar, '、' order by roster_row) as roster_rows,
        count(*) as row_count,
        max(valid_through_month) as valid_through_month,
        bool_and(is_validity_known) as is_validity_known,
        min(confidence) as confidence,
        -- the weakest link's explanation: the finding rests on it
        arg_min(explanation, (confidence, roster_row)) as explanation
    from certificate_rows
    group by certificate_key, case_no, category, grade, holder, person_id
)

select
    * exclude (holder),
    count(*) over (partition by person_id) as holder_certificates
from certificates
