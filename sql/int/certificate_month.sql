-- certificate_month: each window month in which a certificate is valid and its holder is
-- living and present — the months a disability subsidy can be owed.
-- Policy: valid from the month of 发证日期 through the valid-through month (see
-- int.certificate); eligibility ends after the death or move-out month even where the
-- certificate still says 正常.
with certificates as (
    select *
    from int.certificate
    where person_id is not null
        and is_validity_known
)

select
    certificates.person_id,
    window_month.month,
    certificates.case_no,
    certificates.category,
    certificates.grade,
    certificates.issue_date,
    certificates.issue_month,
    certificates.valid_until,
    certificates.certificate_status,
    certificates.roster_row,
    certificates.confidence,
    certificates.explanation,
    certificates.holder_certificates
from certificates
inner join int.window_month as window_month
    on month_in(window_month.month, certificates.issue_month, certificates.valid_through_month)
left join int.person_departure as departure
    on certificates.person_id = departure.person_id
where departure.departure_month is null
    or window_month.month <= departure.departure_month
