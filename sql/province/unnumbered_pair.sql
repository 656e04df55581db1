-- unnumbered_pair: a cremation record without a usable citizen number beside every person of the
-- province it could be: any county's register person or recipient whose name sounds the same, of the
-- same sex, born in one of the three years its age at death allows (a full age or 虚岁). The
-- comparisons themselves are matching/compare.py's (province/cross.py), giving
-- province.unnumbered_comparison; which records that ties to a person is province.unnumbered_match.
with unnumbered as (
    select
        county as event_county,
        source,
        source_row,
        record_no,
        funeral_home,
        address,
        event_month,
        name as name_l,
        pinyin as pinyin_l,
        sex as sex_l,
        age_at_death as age_at_death_l,
        event_date as death_date_l
    from province.event
    where source = 'cremation'
        and id_number is null
        and event_date is not null
        and age_at_death is not null
        and pinyin is not null
),

spellings as (
    select distinct pinyin_l as pinyin from unnumbered
),

candidates as (
    -- a person is one candidate however many rows and counties hold them: their number, else the
    -- paying county's person id; a recipient also says which county pays them and where it places
    -- them (the address must name that place)
    select distinct
        person_subject(paid.id_number, paid.county, paid.person_id) as candidate_key,
        paid.county as paying_county,
        paid.person_id,
        paid.id_number,
        paid.township,
        paid.village,
        paid.name as name_r,
        paid.pinyin as pinyin_r,
        paid.sex as sex_r,
        paid.birth_date as birth_date_r
    from province.paid as paid
    semi join spellings
        on paid.pinyin = spellings.pinyin
    where paid.birth_date is not null
    union
    select distinct
        register.id_number as candidate_key,
        cast(null as varchar) as paying_county,
        cast(null as varchar) as person_id,
        register.id_number,
        register.township,
        register.village,
        register.name as name_r,
        register.pinyin as pinyin_r,
        register.sex as sex_r,
        register.birth_date as birth_date_r
    from province.register as register
    semi join spellings
        on register.pinyin = spellings.pinyin
    where register.birth_date is not null
)

select
    unnumbered.*,
    candidates.*
from unnumbered
inner join candidates
    on unnumbered.pinyin_l = candidates.pinyin_r
    and unnumbered.sex_l = candidates.sex_r
    -- an age at death (often 虚岁) puts the birth in one of three years
    and year(candidates.birth_date_r) between year(unnumbered.death_date_l) - unnumbered.age_at_death_l - 1
        and year(unnumbered.death_date_l) - unnumbered.age_at_death_l + 1
order by unnumbered.event_county, unnumbered.source_row, candidates.candidate_key, candidates.paying_county,
    candidates.name_r, candidates.birth_date_r
