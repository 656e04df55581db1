-- export_register: every register row of a county that holds a valid citizen number, with its
-- status, for the cross-county checks: whether any county holds a 正常 record for a number (a
-- move-out "to nowhere" has none), which county holds a person's 正常 record (the duplicate rule's
-- tie-break), and every person a cremation record without a number could be, with where they are
-- registered (a namesake the record's address may place makes a match ambiguous). Run against a county's run database (read-only); province/store.py adds the
-- county, the name's pinyin and the export's id.
select distinct
    id_number,
    name,
    sex,
    birth_date,
    township,
    village,
    person_status
from stg.household_register
where id_number is not null
