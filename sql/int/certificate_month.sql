-- certificate_month: each window month in which a certificate is valid and its holder is
-- living and present — the months a disability subsidy can be owed.
-- Policy: a certificate is valid in the months one of its rows is (see int.certificate: a
-- renewal listed as two rows is one certificate, continuous across the renewal); eligibility
-- ends after the death or move-out month even where the certificate still says 正常. A row whose
-- cancellation month is unknown proves no month.
-- A view: a reader pays only for the months it asks for.
with certificates as (
    -- certificates of a linked holder, with the month the holder left the rolls, if they did
    select certificate.*, departure.departure_month
    from int.certificate as certificate
    left join int.person_departure as departure
        on certificate.person_id = departure.person_id
    where certificate.person_id is not null
),

valid_months as (
    -- a certificate of one row: the months of its range
    select certificates.*, window_month.month
    from certificates
    inner join int.window_month as window_month
        on month_in(window_month.month, certificates.issue_month, certificates.valid_through_month)
    where certificates.row_count = 1
        and certificates.is_validity_known
    union all
    -- a renewed one: the months one of its rows is valid
    select certificates.*, renewed.month
    from certificates
    inner join int.renewed_certificate_month as renewed
        on certificates.certificate_key = renewed.certificate_key
    where certificates.row_count > 1
)

select
    person_id,
    month,
    case_no,
    category,
    grade,
    -- the card as it reads now: a renewed certificate's latest row (evidence, and which of two to count)
    latest_issue_date as issue_date,
    valid_until,
    certificate_status,
    roster_rows as roster_row,
    confidence,
    explanation,
    holder_certificates
from valid_months
where departure_month is null
    or month <= departure_month
