-- candidate_pair: the (record, person) pairs worth comparing, training records' included — those
-- sharing every key of some blocking rule (`rules` names each rule that found the pair):
--   pinyin + birth year; surname + birth date (the row's, else its number's); surname + sex + village + birth year (a given name
--   misspelt beyond its sound); pinyin + township; id_head (area and birth date of a number);
--   id_tail (birth month, day and sequence: a wrong division code, an early 15-digit typo).
-- A record whose address lies outside the county is a candidate only for persons outside the
-- register: a same-name, same-age person who lived elsewhere is someone else. A record with a
-- well-formed number no register person holds is a candidate only for register persons (the number
-- is its own person unless one of them is it), and for nobody when its address lies outside.
with records as (
    select
        record_key, pinyin, surname, sex, township, village,
        -- a row that gives no birth date (a ledger line, a household head) is blocked on the one its
        -- number carries, if any: only to find candidates, never as a comparison
        coalesce(birth_date, id_birth_date) as birth_date,
        unnest(case when birth_date is null and id_birth_date is not null then [year(id_birth_date)] else birth_year end)
            as birth_year,
        substr(id_text, 1, 14) as id_head,
        substr(id_text, 11, 7) as id_tail,
        id_number is not null as is_numbered,
        outside_county
    from (
        -- one row per record (a record's rows say the same about their person)
        select distinct on (record_key) *, try_strptime(substr(id_text, 7, 8), '%Y%m%d')::date as id_birth_date
        from link.record
        order by record_key, source_rank, source_row, role
    )
),

persons as (
    select
        person_id, pinyin, surname, sex, birth_date, township, village, birth_year, in_register,
        substr(id_number, 1, 14) as id_head,
        substr(id_number, 11, 7) as id_tail
    from link.person_feature
),

found as (
    select r.record_key, p.person_id, p.in_register, r.is_numbered, r.outside_county, 'pinyin_birth_year' as rule
    from records as r inner join persons as p on r.pinyin = p.pinyin and r.birth_year = p.birth_year
    union all
    select r.record_key, p.person_id, p.in_register, r.is_numbered, r.outside_county, 'surname_birth_date'
    from records as r inner join persons as p on r.surname = p.surname and r.birth_date = p.birth_date
    union all
    select r.record_key, p.person_id, p.in_register, r.is_numbered, r.outside_county, 'surname_sex_village_birth_year'
    from records as r inner join persons as p
        on r.surname = p.surname and r.sex = p.sex and r.village = p.village and r.birth_year = p.birth_year
    union all
    select r.record_key, p.person_id, p.in_register, r.is_numbered, r.outside_county, 'pinyin_township'
    from records as r inner join persons as p on r.pinyin = p.pinyin and r.township = p.township
    union all
    select r.record_key, p.person_id, p.in_register, r.is_numbered, r.outside_county, 'id_head'
    from records as r inner join persons as p on r.id_head = p.id_head
    union all
    select r.record_key, p.person_id, p.in_register, r.is_numbered, r.outside_county, 'id_tail'
    from records as r inner join persons as p on r.id_tail = p.id_tail
)

select record_key, person_id, string_agg(distinct rule, ',' order by rule) as rules
from found
where case
    when is_numbered then in_register and not outside_county
    when outside_county then not in_register
    else true
end
group by record_key, person_id
order by record_key, person_id
