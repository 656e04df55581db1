-- Expressions more than one SQL file needs. Loaded once per run database.
-- case_key and person_id_of are keyed with the deployment secret: storage/secret.py
-- creates them on the connection (never in the database file).

-- Labels come first: the macros below that write text look them up.
-- A code's Chinese label, as the extract declarations map it (stg.vocabulary).
create or replace macro vocabulary_label(vocabulary_column, vocabulary_code) as (
    select any_value(vocabulary.label)
    from stg.vocabulary as vocabulary
    where vocabulary.column_name = vocabulary_column
        and vocabulary.code = vocabulary_code
);

-- The label of a code hecha itself writes (cfg.label, from checks/labels.py): label_of('event_kind', 'death').
create or replace macro label_of(label_kind, label_code) as (
    select any_value(labels.label)
    from cfg.label as labels
    where labels.kind = label_kind
        and labels.code = label_code
);

-- Months as inspectors read them.
create or replace macro month_text(month) as strftime(month, '%Y-%m');

-- Yuan as an exact decimal to a millionth: sums of shares (a household's 低保金 split between
-- its covered members) then come out the same whatever order DuckDB adds them in.
create or replace macro exact_yuan(amount) as cast(amount as decimal(18, 6));

-- Yuan with two decimals, for evidence text.
create or replace macro yuan_text(amount) as format('{:.2f}', cast(amount as double));

-- Completed years on `day` (birthday not yet reached that year: one less).
create or replace macro age_on(birth, day) as
    year(day) - year(birth) - case when strftime(birth, '%m%d') > strftime(day, '%m%d') then 1 else 0 end;

-- Whether a payment for `month` comes after the month of a death, move-out or stop (`event_month`):
-- the event month itself is paid correctly, only later months are not due. The checks on the
-- ledger (int.paid_after_event) and the screen of a batch before it is paid (sql/screen/) both ask it.
create or replace macro is_after_event(month, event_month) as month > event_month;

-- Whether `month` lies in the months first .. last (a null last: open-ended).
create or replace macro month_in(month, first_month, last_month) as
    month >= first_month and (last_month is null or month <= last_month);

-- A disability as certificates print it: 肢体二级. A category or grade outside the vocabulary
-- reads as the last one (多重, 四级).
create or replace macro disability_text(category, grade) as
    coalesce(vocabulary_label('disability_category', category), vocabulary_label('disability_category', 'multiple'))
    || coalesce(vocabulary_label('disability_grade', cast(grade as varchar)), vocabulary_label('disability_grade', '4'));

-- 兜底保障 as the poverty-monitoring system writes it; blank (or outside the vocabulary): （空）.
create or replace macro safety_net_text(code) as
    coalesce(vocabulary_label('safety_net', code), label_of('placeholder', 'blank'));

-- The birth date and sex a valid 18-character citizen number embeds (GB 11643).
create or replace macro birth_date_of(id_number) as try_strptime(substr(id_number, 7, 8), '%Y%m%d')::date;
create or replace macro sex_of(id_number) as
    case when cast(substr(id_number, 17, 1) as integer) % 2 = 1 then 'M' else 'F' end;

-- How a row was tied to its person, for evidence: said only when it was not an exact number.
create or replace macro link_note(confidence, explanation) as
    case when confidence is null then '，未关联到人员' when confidence < 1 then '，' || explanation else '' end;

-- Months as a span, with the months listed when the span has holes (an aggregate).
create or replace macro months_text(month) as
    format('{} 至 {} 共 {} 个月', month_text(min(month)), month_text(max(month)), count(distinct month))
    || case when count(distinct month) < date_diff('month', min(month), max(month)) + 1
        then format('（{}）', string_agg(distinct month_text(month), '、' order by month_text(month))) else '' end;

-- A certificate as evidence names it (aggregates: the latest-issued one of the group; of two
-- issued the same day, the larger number, category and grade, so the read order never decides).
create or replace macro certificate_text(case_no, category, grade, issue_date, valid_until, certificate_status, roster_row,
        confidence, explanation) as
    format('残疾人证 {}（{}，发证 {}，有效期至 {}，证件状态{}，残疾人证第 {} 行{}）',
        arg_max(case_no, (issue_date, case_no, category, grade)),
        arg_max(disability_text(category, grade), (issue_date, case_no, category, grade)),
        max(issue_date),
        arg_max(valid_until, (issue_date, case_no, category, grade)),
        arg_max(certificate_status_text(certificate_status), (issue_date, case_no, category, grade)),
        arg_max(roster_row, (issue_date, case_no, category, grade)),
        link_note(arg_max(confidence, (issue_date, case_no, category, grade)),
            arg_max(explanation, (issue_date, case_no, category, grade))));

-- 证件状态 as certificates print it; a status outside the vocabulary reads as 过期.
create or replace macro certificate_status_text(certificate_status) as
    coalesce(vocabulary_label('certificate_status', certificate_status), vocabulary_label('certificate_status', 'expired'));
