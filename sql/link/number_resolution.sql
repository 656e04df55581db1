-- number_resolution: each well-formed number no register person holds whose rows the evidence
-- links to a register person (decision linked, or linked to confirm). All rows of the number
-- follow it — a payee's ledger lines carry less evidence than their roster row, and one number is
-- one person. When its records point to different persons the most confident wins (ties by id).
select id_number, person_id, confidence, decision, explanation
from (
    select
        id_number, person_id, confidence, decision, explanation,
        row_number() over (partition by id_number order by confidence desc, person_id, record_key) as pick
    from link.probabilistic_row
    where id_number is not null
        and decision in ('linked', 'linked_to_confirm')
)
where pick = 1
