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

certificate_facts as (
    -- what the rows of one certificate say together
    select
        certificate_key,
        min(issue_date) as issue_date,
        min(issue_month) as issue_month,
        max(issue_date) as latest_issue_date,
        string_agg(roster_row::varchar, '、' order by roster_row) as roster_rows,
        count(*) as row_count,
        max(valid_through_month) as valid_through_month,
        bool_and(is_validity_known) as is_validity_known,
        min(confidence) as confidence,
        -- the weakest link's explanation: the finding rests on it
        arg_min(explanation, (confidence, roster_row)) as explanation
    from certificate_rows
    group by certificate_key
),

latest_rows as (
    select *
    from certificate_rows
    qualify row_number() over (
        partition by certificate_key
        order by issue_date desc, valid_until desc, certificate_status desc, roster_row
    ) = 1
),

certificates as (
    select
        latest_rows.certificate_key,
        latest_rows.case_no,
        latest_rows.category,
        latest_rows.grade,
        latest_rows.person_id,
        latest_rows.valid_until,
        latest_rows.certificate_status,
        latest_rows.cancelled_month,
        latest_rows.roster_row,
        certificate_facts.* exclude (certificate_key)
    from latest_rows
    inner join certificate_facts
        on latest_rows.certificate_key = certificate_facts.certificate_key
)

select
    *,
    count(*) over (partition by person_id) as holder_certificates
from certificates
