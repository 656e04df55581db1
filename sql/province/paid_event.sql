-- paid_event: each line a county pays for a person after a death or move-out that only another
-- county records, with that event. The same person across counties: the same valid citizen number
-- and names that agree (a valid number written on a record with another name is someone else's);
-- or, for a cremation record without a usable number, province.unnumbered_match (the one person it
-- was tied to, in the one county that pays them there).
-- Policy: the event month itself is paid correctly, later months are not (is_after_event, as the
-- county's int.paid_after_event); a line after both a death and a move-out counts under the earlier
-- only. A move-out counts only "to nowhere": no county of the province (the payer included) holds
-- a 正常 record of the number, nor a 死亡 one (who died in a county lived there). A county that
-- itself knows the person died or moved out raises what it paid in its own checks: left out here.
-- The join of the whole ledger with every event is province.line_after_event; here the few lines it
-- keeps are compared by name and get their evidence.
with matched_lines as (
    -- the same person: names that agree on a numbered record; an unnumbered one was matched on them
    select
        lines.*,
        records.source as event_source,
        records.event_kind,
        records.record_no,
        records.funeral_home,
        coalesce(matches.link_confidence, 1.0) as match_confidence,
        coalesce(
            matches.identity_evidence,
            '身份证号一致，' || name_agreement_text(lines.name, lines.pinyin, records.name, records.pinyin)
            || case when lines.name <> records.name then format('（该县记录为 {}）', records.name) else '' end
        ) as identity_evidence
    from province.line_after_event as lines
    inner join province.event as records
        on lines.event_county = records.county
        and lines.event_row = records.source_row
        and lines.is_cremation = (records.source = 'cremation')
        and lines.is_moved_out = (records.event_kind = 'moved_out')
    left join province.unnumbered_match as matches
        on lines.paying_county = matches.county
        and lines.person_id = matches.person_id
        and lines.event_county = matches.event_county
        and lines.is_cremation
        and lines.event_row = matches.source_row
    where matches.county is not null or names_agree(lines.name, lines.pinyin, records.name, records.pinyin)
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
from matched_lines
-- the earliest event a line comes after; on one month a death before a move-out, then the lower
-- county code and the register before a cremation record, so the choice never rests on read order
qualify row_number() over (
    partition by county, person_id, ledger_row
    order by event_month, event_kind, event_county, event_source desc, event_row, identity_evidence
) = 1
