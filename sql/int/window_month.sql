-- window_month: the months the payments ledger evidences, ending at as_of.
-- Policy: money (overpaid and back-pay) is only computed inside this window.
select cast(month as date) as month
from range(cast($window_start_month as timestamp), cast($as_of_month as timestamp) + interval 1 month, interval 1 month)
    as months(month)
