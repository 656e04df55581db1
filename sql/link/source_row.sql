-- source_row: one line per data row of every extract — who it is, how we know, how sure.
-- Quarantined rows are listed too (unlinked): every row read is accounted for.
select source, source_row as row_number, person_id, method, confidence
from link.person_record
where role = 'subject'
union all
select distinct source, source_row, null, 'quarantined', null
from stg.quarantine
