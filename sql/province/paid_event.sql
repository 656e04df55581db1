-- paid_event: each line a county pays for a person after a death or move-out that only another
-- county records, with that event. The same person across counties: the same valid citizen number
-- and names that agree (a valid number written on a record with another name is someone else's);
-- or, for a cremation record without a usable number, province.unnumbered_match.
-- Policy: the event month itself is paid correctly, later months are not (is_after_event, as the
-- county's int.paid_after_event); a line after both a death and a move-out counts under the earlier
-- only. A move-out counts only "to nowhere": no county of the province (the payer included) holds
-- a 正常 record of the number, nor a 死亡 one (who died in a county lived there). A county that
-- itself knows the person died or moved out raises what it paid in its own checks: left out here.
with paid as (
    select * from province.paid
    where death_month is null
        and move_out_month is null
),

numbered_events as (
    select
        county as event_county,
        source,
        source_row,
        record_no,
        funeral_home,
        id_number,
        name,
        pinyin,
        event_kind,
        event_month
    from province.event
    where id_number is not null
        and event_month is not null
),

settled_numbers as (
    select distinct id_number
    from province.register
    where person_status in ('normal', 'dead')
),

numbered_lines as (
    select
        paid.*,
        events.event_county,
        events.event_kind,
        events.event_month,
        events.source as event_source,
        events.source_row as event_row,
        events.record_no,
        events.funeral_home,
        1.0 as match_confidence,
        '身份证号一致，' || name_agreement_text(paid.name, paid.pinyin, events.name, events.pinyin)
            || case when paid.name <> events.name then format('（该县记录为 {}）', events.name) else '' end
            as identity_evidence
    from paid
    inner join numbered_events as events
        on paid.id_number = events.id_number
    left join settled_numbers
        on events.id_number = settled_numbers.id_number
    where events.event_county <> paid.county
        and names_agree(paid.name, paid.pinyin, events.name, events.pinyin)
        and is_after_event(paid.paid_month, events.event_month)
        and (events.event_kind = 'death' or settled_numbers.id_number is null)
),

unnumbered_lines as (
    select
        paid.*,
        matches.event_county,
        'death' as event_kind,
        matches.event_month,
        matches.source as event_source,
        matches.source_row as event_row,
        matches.record_no,
        matches.funeral_home,
        matches.link_confidence as match_confidence,
        matches.identity_evidence
    from paid
    inner join province.unnumbered_match as matches
        on paid.county = matches.county
        and paid.person_id = matches.person_id
    where is_after_event(paid.paid_month, matches.event_month)
),

lines_after_event as (
    select * from numbered_lines
    union all
    select * from unnumbered_lines
)

select
    county,
    person_id,
    id_number,
    person_subject(id_number, county, person_id) as subject,
    name,
    township,
    village,
    paid_month,
    programme,
    programme_label,
    case_no,
    amount,
    covered_count,
    ledger_row,
    least(link_confidence, match_confidence) as link_confidence,
    event_county,
    event_kind,
    event_month,
    event_source,
    event_row,
    record_no,
    funeral_home,
    identity_evidence
from lines_after_event
-- the earliest event a line comes after; on one month a death before a move-out, then the lower
-- county code and the register before a cremation record, so the choice never rests on read order
qualify row_number() over (
    partition by county, person_id, ledger_row
    order by event_month, event_kind, event_county, event_source desc, event_row, identity_evidence
) = 1
