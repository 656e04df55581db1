-- person_feature: candidate persons with the keys blocking and comparisons read: the name's
-- toneless pinyin (link.name_pinyin), surname, birth year.
select
    person.* exclude (register_row),
    spoken.pinyin,
    substr(person.name, 1, 1) as surname,
    year(person.birth_date) as birth_year
from link.candidate_person as person
left join link.name_pinyin as spoken
    on person.name = spoken.name
