-- certificate_row: each disability roster row with its holder and the months that row shows valid.
-- A certificate re-issued on renewal (换证) keeps its number and is listed twice, old row and new:
-- int.certificate makes one certificate of them; checks read that, never these rows alone.
-- Policy: valid from the month of 发证日期 through the month of 有效期至. A 注销 row is valid
-- through its cancellation month: the holder's death month, or the issue month of the row
-- issued after it (a renewal, or a re-assessment that lists a new certificate for the person).
-- When neither is known the cancellation month is unknown: valid_through_month is null and
-- is_validity_known false (no back-pay is claimed on it and none of its lines is flagged).
with certificates as (
    select
        cert.source_row as roster_row,
        cert.case_no,
        cert.disability_category as category,
        cert.disability_grade as grade,
        cert.issue_date,
        cast(date_trunc('month', cert.issue_date) as date) as issue_month,
        cert.valid_until,
        cast(date_trunc('month', cert.valid_until) as date) as valid_until_month,
        cert.certificate_status,
        coalesce(rec.person_id, cert.id_number) as holder,
        rec.person_id,
        rec.confidence,
        rec.explanation,
        -- one certificate: one number, one holder, one category and grade (int.certificate)
        format('{}|{}|{}|{}', cert.case_no, coalesce(rec.person_id, cert.id_number), cert.disability_category,
            cert.disability_grade) as certificate_key
    from stg.disability as cert
    left join link.person_record as rec
        on rec.source = 'disability'
        and rec.source_row = cert.source_row
        and rec.role = 'subject'
),

deaths as (
    select person_id, event_month as death_month
    from int.person_event
    where event_kind = 'death'
),

replacements as (
    select
        earlier.roster_row,
        min(later.issue_month) as replaced_month
    from certificates as earlier
    inner join certificates as later
        on earlier.holder = later.holder
        and later.issue_date > earlier.issue_date
    group by earlier.roster_row
),

cancellations as (
    select
        certificates.roster_row,
        least(deaths.death_month, replacements.replaced_month) as cancelled_month
    from certificates
    left join deaths
        on certificates.person_id = deaths.person_id
    left join replacements
        on certificates.roster_row = replacements.roster_row
    where certificates.certificate_status = 'cancelled'
)

select
    certificates.*,
    cancellations.cancelled_month,
    case
        when certificates.certificate_status <> 'cancelled' then certificates.valid_until_month
        when cancellations.cancelled_month is null then null
        else least(cancellations.cancelled_month, certificates.valid_until_month)
    end as valid_through_month,
    certificates.certificate_status <> 'cancelled' or cancellations.cancelled_month is not null as is_validity_known
from certificates
left join cancellations
    on certificates.roster_row = cancellations.roster_row
