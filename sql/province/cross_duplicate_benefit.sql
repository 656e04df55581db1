-- cross_duplicate_benefit 跨县重复享受: the same person paid for the same month by two counties —
-- two dibao cases, dibao and tekun, or the same 项目 twice. The same person: the same valid citizen
-- number and names that agree. One finding per person, duplicate county and kind.
-- Policy: dibao and tekun are never held at once and tekun is the benefit that stays: the dibao
-- county's share of 低保金 is recovered. Otherwise the later-started enrolment (case start month) is
-- the duplicate; on the same start month the county that does not hold the person's 正常 register
-- record, then the higher county code. A county's own duplicates (two of its own lines, its own
-- dibao beside its own tekun) are its own duplicate_benefit's: a county's payment of a programme in
-- a month is its earliest-started case's first line, and a dibao its own county also pays tekun
-- beside is left to it. Months are those both counties' ledgers evidence (their windows).
with paid as (
    select * from province.paid
    where id_number is not null
),

shared_numbers as (
    -- numbers more than one county pays: grouped on the number's hash (a fixed-width key, far cheaper
    -- over tens of millions of lines; a collision only adds a number the joins below then drop), and
    -- min and max county differing rather than distinct counties counted
    select distinct paid.id_number
    from paid
    semi join (
        select hash(id_number) as number_hash
        from paid
        group by number_hash
        having min(county) <> max(county)
    ) as shared_hashes
        on hash(paid.id_number) = shared_hashes.number_hash
),

normal_holders as (
    select distinct county, id_number
    from province.register
    where person_status = 'normal'
),

enrolments as (
    -- a county's payment of one programme to the person in one month
    select paid.*
    from paid
    semi join shared_numbers
        on paid.id_number = shared_numbers.id_number
    qualify row_number() over (
        partition by paid.county, paid.id_number, paid.paid_month, paid.programme
        order by paid.case_start_month, paid.case_no, paid.ledger_row
    ) = 1
),

own_tekun as (
    select county, id_number, paid_month
    from enrolments
    where programme = 'tekun'
),

ranked as (
    select
        enrolments.*,
        own_tekun.county is not null as has_own_tekun,
        normal_holders.county is not null as holds_normal_record
    from enrolments
    left join own_tekun
        on enrolments.county = own_tekun.county
        and enrolments.id_number = own_tekun.id_number
        and enrolments.paid_month = own_tekun.paid_month
        and enrolments.programme = 'dibao'
    left join normal_holders
        on enrolments.county = normal_holders.county
        and enrolments.id_number = normal_holders.id_number
),

dibao_beside_tekun as (
    select
        dibao.*,
        'dibao_tekun' as kind,
        tekun.county as other_county,
        tekun.programme_label as other_programme_label,
        tekun.case_no as other_case_no,
        tekun.case_start_month as other_start_month,
        least(dibao.link_confidence, tekun.link_confidence) as pair_confidence,
        name_agreement_text(dibao.name, dibao.pinyin, tekun.name, tekun.pinyin) as name_evidence
    from ranked as dibao
    inner join ranked as tekun
        on dibao.id_number = tekun.id_number
        and dibao.paid_month = tekun.paid_month
        and dibao.county <> tekun.county
    where dibao.programme = 'dibao'
        and tekun.programme = 'tekun'
        and not dibao.has_own_tekun
        and names_agree(dibao.name, dibao.pinyin, tekun.name, tekun.pinyin)
    -- beside tekun in two counties, the dibao is one duplicate: named after the lower county code
    qualify row_number() over (
        partition by dibao.county, dibao.id_number, dibao.paid_month
        order by tekun.county
    ) = 1
),

same_programme as (
    -- every enrolment of a programme beside another county's; a dibao already recovered beside
    -- tekun (here or in its own county) takes no further part
    select ranked.*
    from ranked
    anti join dibao_beside_tekun
        on ranked.county = dibao_beside_tekun.county
        and ranked.id_number = dibao_beside_tekun.id_number
        and ranked.paid_month = dibao_beside_tekun.paid_month
        and ranked.programme = dibao_beside_tekun.programme
    where not ranked.has_own_tekun
),

kept as (
    -- the enrolment that stays: the earliest started, then the county holding the 正常 record, then the lower code
    select *
    from same_programme
    qualify row_number() over (
        partition by id_number, paid_month, programme
        order by case_start_month, holds_normal_record desc, county
    ) = 1
),

twice as (
    select
        duplicate.*,
        duplicate.programme as kind,
        kept.county as other_county,
        kept.programme_label as other_programme_label,
        kept.case_no as other_case_no,
        kept.case_start_month as other_start_month,
        least(duplicate.link_confidence, kept.link_confidence) as pair_confidence,
        name_agreement_text(duplicate.name, duplicate.pinyin, kept.name, kept.pinyin) as name_evidence
    from same_programme as duplicate
    inner join kept
        on duplicate.id_number = kept.id_number
        and duplicate.paid_month = kept.paid_month
        and duplicate.programme = kept.programme
        and duplicate.county <> kept.county
    where names_agree(duplicate.name, duplicate.pinyin, kept.name, kept.pinyin)
),

duplicate_months as (
    select * from dibao_beside_tekun
    union all by name
    select * from twice
),

findings as (
    select
        county,
        id_number,
        kind,
        min(other_county) as other_county,
        any_value(person_id) as person_id,
        any_value(name) as name,
        any_value(township) as township,
        any_value(village) as village,
        string_agg(distinct case_no, '、' order by case_no) as case_no,
        min(paid_month) as period_start,
        max(paid_month) as period_end,
        sum(amount) as overpaid_amount,
        min(pair_confidence) as link_confidence,
        format('同月外县（{}）发放{}（证号 {}，{} 起）；本县{}（证号 {}，{} 起）{}，{} 元{}（发放明细第 {} 行）；身份证号一致，{}；{}',
            string_agg(distinct other_county, '、' order by other_county),
            any_value(other_programme_label),
            string_agg(distinct other_case_no, '、' order by other_case_no),
            month_text(min(other_start_month)),
            any_value(programme_label),
            string_agg(distinct case_no, '、' order by case_no),
            month_text(min(case_start_month)),
            months_text(paid_month),
            yuan_text(sum(amount)),
            case when max(covered_count) > 1
                then format('，按保障人数 {} 人分摊户月保障金的本人份额', max(covered_count))
                else '' end,
            string_agg(cast(ledger_row as varchar), '、' order by ledger_row),
            min(name_evidence),
            case when kind = 'dibao_tekun' then '低保与特困不得同时享受，特困保留，追回本县低保金'
                else '同一项目两县重复发放，本县为后纳入的一方（同月纳入的，户籍不在本县或县代码较大），追回本县发放' end) as evidence
    from duplicate_months
    group by county, id_number, kind
)

select
    'cross_duplicate_benefit' as check_code,
    county,
    other_county,
    person_key(id_number) as person_key,
    id_number,
    name,
    township,
    village,
    case_no,
    period_start,
    period_end,
    overpaid_amount,
    0 as backpay_amount,
    link_confidence,
    evidence,
    cross_case_key('cross_duplicate_benefit', county, id_number || '|' || kind, other_county) as case_key
from findings
