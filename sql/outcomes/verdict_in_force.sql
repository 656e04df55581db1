-- verdict_in_force: per case key, the verdict inspectors recorded last (as audit/history.py reads
-- it) and the day they recorded it. Runs against audit.duckdb, as a temp view the history's
-- readers (case_history, screen_history) share.
select
    case_key,
    conclusion as verdict,
    cast(recorded_at as date) as verdict_date
from audit.disposition
qualify row_number() over (partition by case_key order by recorded_at desc, source_row desc) = 1
