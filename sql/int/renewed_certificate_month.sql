-- renewed_certificate_month: each window month in which a renewed certificate (listed as two rows,
-- int.certificate) is valid, whoever holds it.
-- Policy: a certificate is valid in the months one of its rows is; between the rows' ranges (a
-- renewal issued late) it is not. A row whose cancellation month is unknown proves no month.
-- A certificate of one row is valid through its own range (int.certificate: issue_month ..
-- valid_through_month) and needs no row here: readers take that range, and look up only these.
with renewed_rows as materialized (
    -- the rows of renewed certificates first (a few hundred), then their months
    select certificate_rows.certificate_key, certificate_rows.issue_month, certificate_rows.valid_through_month
    from int.certificate_row as certificate_rows
    inner join int.certificate as certificates
        on certificate_rows.certificate_key = certificates.certificate_key
    where certificates.row_count > 1
        and certificate_rows.is_validity_known
)

select distinct renewed_rows.certificate_key, window_month.month
from renewed_rows
inner join int.window_month as window_month
    on month_in(window_month.month, renewed_rows.issue_month, renewed_rows.valid_through_month)
