-- inspector_decision: inspectors' word on a row's link (audit.link_decision, handed in as
-- link.decision_input), on every row of this drop with the same signature (source, number as
-- written, name): 'same' makes the link, 'different' undoes it and keeps the candidate out of
-- the probabilistic layer's choice. Only decisions about persons this drop knows count.
select distinct
    ids.source,
    ids.source_row,
    ids.role,
    decision.person_id,
    decision.decision
from link.identity_row as ids
inner join link.decision_input as decision
    on ids.source = decision.source
    and record_signature(ids) = decision.record_signature
where ids.role = 'subject'
    and decision.person_id in (select person_id from link.candidate_person)
