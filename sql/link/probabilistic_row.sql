-- probabilistic_row: each row the probabilistic layer linked (or not), with its record's best
-- candidate and decision (link.probabilistic, candidate_rank 1).
select
    record.source,
    record.source_row,
    record.role,
    record.record_key,
    decided.person_id,
    decided.confidence,
    decided.decision,
    decided.explanation
from link.record as record
inner join link.probabilistic as decided
    on record.record_key = decided.record_key
    and decided.candidate_rank = 1
where not record.is_training
