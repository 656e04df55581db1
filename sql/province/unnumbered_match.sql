-- unnumbered_match: cremation records without a usable citizen number tied to a person another
-- county pays. Tied only when exactly one person of the whole province agrees with the record on
-- name (written alike or alike in sound), sex and age at death (full years or 虚岁) and could be
-- where the record's 户籍地址 says, that person is paid by a county other than the cremation's, and
-- the address names the person's own township and village there (the county linker reads
-- addresses the same way; a county's name is in no extract). A namesake the address may place
-- (registered in a township and village it names, or with no known place) leaves the record
-- unmatched: a death is not guessed. A namesake registered elsewhere is someone else.
-- The link's confidence is policy (province.unnumbered_cremation).
with compared as (
    select * from province.unnumbered_comparison
),

agreeing as (
    select * from compared
    where agrees
),

single_candidates as (
    -- a candidate whose known township or village the address does not name lives elsewhere
    select event_county, source_row
    from agreeing
    where township is null or village is null
        or (contains(address, township) and contains(address, village))
    group by event_county, source_row
    having count(distinct candidate_key) = 1
),

placed as (
    -- the one person, as a county other than the cremation's pays them, where the address places
    -- them; of their rows (a register, ledgers) the surest name
    select *
    from agreeing
    semi join single_candidates
        on agreeing.event_county = single_candidates.event_county
        and agreeing.source_row = single_candidates.source_row
    where agreeing.paying_county is not null
        and agreeing.paying_county <> agreeing.event_county
        and contains(agreeing.address, agreeing.township)
        and contains(agreeing.address, agreeing.village)
    qualify row_number() over (
        partition by event_county, source_row, paying_county
        order by is_same_name desc, agreement
    ) = 1
)

select
    event_county,
    source,
    source_row,
    record_no,
    funeral_home,
    event_month,
    paying_county as county,
    person_id,
    id_number,
    case when is_same_name
        then $province_unnumbered_cremation_same_name_confidence
        else $province_unnumbered_cremation_same_sound_confidence end as link_confidence,
    format('火化记录无可用身份证号，{}，户籍地址含本人户籍所在{}{}，全省户籍和领取人员中与户籍地址相符者仅此一人',
        agreement, township, village) as identity_evidence
from placed
