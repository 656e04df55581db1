-- certificate_month: each window month in which a certificate is valid and its holder is
-- living and present — the months a disability subsidy can be owed.
-- Policy: a certificate is valid in the months one of its rows is (see int.certificate: a
-- renewal listed as two rows is one certificate, continuous across the renewal); eligibility
-- ends after the death or move-out month even where the certificate still says 正常. A row whose
-- cancellation month is unknown proves no month.
with valid_months as (
    select distinct certificate_rows.certificate_key, window_month.month
    from int.certificate_row as certificate_rows
    inner join int.window_month as window_month
        on month_in(window_month.month, certificate_rows.issue_month, certificate_rows.valid_through_month)
    where certificate_rows.is_validity_known
),

certificates as (
    select *
    from int.certificate
    where person_id is not null
)

select
    certificates.person_id,
    valid_months.month,
    certificates.case_no,
    certificates.category,
    certificates.grade,
    -- the card as it reads now: a renewed certificate's latest row (evidence, and which of two to count)
    certificates.latest_issue_date as issue_date,
    certificates.valid_until,
    certificates.certificate_status,
    certificates.roster_rows as roster_row,
    certificates.confidence,
    certificates.explanation,
    certificates.holder_certificates
from certificates
inner join valid_months
    on certificates.certificate_key = valid_months.certificate_key
left join int.person_departure as departure
    on certificates.person_id = departure.person_id
where departure.departure_month is null
    or valid_months.month <= departure.departure_month
