-- Expressions the cross-county SQL needs more than once. province/cross.py creates them TEMP on the
-- province's connection, after the county macros it reuses from sql/macros.sql (is_after_event,
-- month_text, months_text, yuan_text) and after storage/secret.py's keyed_hash: nothing here is
-- written to a database file.

-- Who a paid person is across counties: the valid citizen number, else the paying county's own person id.
create or replace temp macro person_subject(id_number, county, person_id) as
    coalesce(id_number, county || '|' || person_id);

-- A person's key in the province's findings: keyed with the province's secret, stable across runs.
create or replace temp macro person_key(subject) as keyed_hash('person|' || subject);

-- A cross-county finding's key across runs: the check, the paying county, its subject and the other county.
create or replace temp macro cross_case_key(check_code, county, subject, other_county) as
    keyed_hash(check_code || '|' || county || '|' || subject || '|' || other_county);

-- Two records name the same person: the names written alike, or alike in sound (王丽 / 王莉).
create or replace temp macro names_agree(name_l, pinyin_l, name_r, pinyin_r) as
    coalesce(name_l = name_r or pinyin_l = pinyin_r, false);

-- A county as evidence names it.
create or replace temp macro county_text(county) as '外县（' || county || '）';
