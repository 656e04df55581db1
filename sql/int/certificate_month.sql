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

row_ranges as (
    -- the months each row of a certificate shows valid, under the certificate's latest row (a
    -- number to expand months on, not the text key)
    select
        certificates.roster_row as certificate_roster_row,
        certificate_rows.issue_month,
        certificate_rows.valid_through_month,
        certificates.departure_month
    from int.certificate_row as certificate_rows
    inner join certificates
        on certificate_rows.certificate_key = certificates.certificate_key
    where certificate_rows.is_validity_known
),

valid_months as (
    select distinct row_ranges.certificate_roster_row, window_month.month
    from row_ranges
    inner join int.window_month as window_month
        on month_in(window_month.month, row_ranges.issue_month, row_ranges.valid_through_month)
        and (row_ranges.departure_month is null or window_month.month <= row_ranges.departure_month)
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
    on certificates.roster_row = valid_months.certificate_roster_row
