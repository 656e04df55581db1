-- review: the 待确认 lines — for each row the probabilistic layer left uncertain (linked to
-- confirm, or a close call left unlinked) a line per candidate it might be, each with its share of
-- the row's posterior (confidence) and the row's signature, by which an inspector's choice is
-- remembered. Rows an inspector decided, and rows a surer link settled, are not listed; nor is a
-- candidate an inspector rejected.
select
    record.source,
    record.source_row,
    record.role,
    candidate.person_id,
    register.register_row,
    candidate.probability as match_probability,
    candidate.confidence,
    candidate.decision,
    candidate.comparison_vector,
    candidate.explanation,
    record.record_signature
from link.record as record
inner join link.probabilistic as candidate
    on record.record_key = candidate.record_key
inner join link.person_record as rec
    on record.source = rec.source and record.source_row = rec.source_row and record.role = rec.role
left join link.register_person as register
    on candidate.person_id = register.person_id
where not record.is_training
    and candidate.decision in ('linked_to_confirm', 'review_only')
    and rec.method is distinct from 'confirmed'
    and not coalesce(rec.method = 'probabilistic' and rec.confidence >= $identity_review_threshold, false)
    and not exists (
        select 1 from link.inspector_decision as decision
        where decision.source = record.source and decision.source_row = record.source_row and decision.role = record.role
            and (decision.decision = 'same' or decision.person_id = candidate.person_id)
    )
order by record.source, record.source_row, candidate.candidate_rank
