-- unnumbered_match: cremation records without a usable citizen number tied to a person another
-- county pays. Tied only when exactly one person of the whole province agrees with the record on
-- name (written alike or alike in sound), sex and age at death (full years or 虚岁), that person is
-- paid by a county other than the cremation's, and the record's 户籍地址 names the person's own
-- township and village there (the county linker reads addresses the same way; a county's name is
-- in no extract). A namesake anywhere leaves the record unmatched: a death is not guessed.
-- The link's confidence is policy (province.unnumbered_cremation).
with compared as (
    select * from province.unnumbered_comparison
),

agreeing as (
    -- one row per record and candidate: a person on two rows (a register and a ledger) agrees
    -- through the surer of them
    select * from compared
    where agrees
    qualify row_number() over (
        partition by event_county, source_row, candidate_key
        order by is_same_name desc, agreement
    ) = 1
),

single_candidates as (
    select event_county, source_row
    from agreeing
    group by event_county, source_row
    having count(distinct candidate_key) = 1
),

paid_persons as (
    select distinct
        county,
        person_id,
        person_subject(id_number, county, person_id) as candidate_key,
        township,
        village
    from province.paid
)

select
    agreeing.event_county,
    agreeing.source,
    agreeing.source_row,
    agreeing.record_no,
    agreeing.funeral_home,
    agreeing.event_month,
    paid_persons.county,
    paid_persons.person_id,
    case when agreeing.is_same_name
        then $province_unnumbered_cremation_same_name_confidence
        else $province_unnumbered_cremation_same_sound_confidence end as link_confidence,
    format('火化记录无可用身份证号，{}，户籍地址含本人户籍所在{}{}，全省户籍和领取人员中仅此一人相符',
        agreeing.agreement, paid_persons.township, paid_persons.village) as identity_evidence
from agreeing
semi join single_candidates
    on agreeing.event_county = single_candidates.event_county
    and agreeing.source_row = single_candidates.source_row
inner join paid_persons
    on agreeing.candidate_key = paid_persons.candidate_key
where paid_persons.county <> agreeing.event_county
    and contains(agreeing.address, paid_persons.township)
    and contains(agreeing.address, paid_persons.village)
