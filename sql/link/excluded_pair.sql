-- excluded_pair: (record, person) pairs an inspector said are not the same person: no candidates,
-- so the record's posterior is shared among the others (one of two namesakes rejected leaves the other).
select distinct record.record_key, decision.person_id
from link.record as record
inner join link.inspector_decision as decision
    on record.source = decision.source
    and record.source_row = decision.source_row
    and record.role = decision.role
where decision.decision = 'different'
