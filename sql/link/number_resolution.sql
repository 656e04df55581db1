-- number_resolution: each well-formed number no register person holds whose rows the evidence
-- links to a register person (link.number_decision: linked, or linked to confirm). All rows of the
-- number follow it — a payee's ledger lines carry less evidence than their roster row, and one
-- number is one person. When its records point to different persons the most confident wins
-- (ties by person id, then record).
select id_number, person_id, confidence, decision, explanation
from (
    select
        record.id_number,
        decided.person_id,
        decided.confidence,
        decided.decision,
        decided.explanation,
        row_number() over (
            partition by record.id_number order by decided.confidence desc, decided.person_id, decided.record_key
        ) as pick
    from link.number_decision as decided
    inner join (select distinct record_key, id_number from link.record where id_number is not null) as record
        on decided.record_key = record.record_key
    where decided.candidate_rank = 1
        and decided.decision in ('linked', 'linked_to_confirm')
)
where pick = 1
