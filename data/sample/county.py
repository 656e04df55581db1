"""The fictional county the sample drop describes: places, names, standards.

Only constants and pure look-ups live here (division codes, township and
village names, surname frequencies, given-name pools, monthly benefit
standards). Who lives where and who receives what is decided in
`households.py` and `programmes.py`.

The county's own townships are group 0 (`build_townships`). A drop larger
than a county gets further groups of townships (`build_township_groups`), each
shaped like group 0 — two 街道, six 镇, two 乡 and their villages — with its
own division codes (街道 001–099, 镇 100–199, 乡 200–299, as division codes
number them) and its own names, so that persons per township and per village
stay those of a real county at any size.

A province of counties (`province.py`) makes each county in a process of its
own, told by the environment variable `HECHA_SAMPLE_COUNTY` (a JSON file
written by `county_config`) which county it is: its division code, name,
funeral homes and townships. Such a county gives every person it registers a
number with its own code, even a spouse who married in: counties made apart
could otherwise issue one neighbour's number to two people, and so the
neighbours' codes stay nobody's in the whole province (only bodies from
outside it carry them). Unset, the county is 清河县, byte for byte.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass
from pathlib import Path

COUNTY_ENV = "HECHA_SAMPLE_COUNTY"
COUNTY_CODE = "130534"
COUNTY_NAME = "清河县"
FUNERAL_HOMES = ("清河县殡仪馆", "清河县殡仪馆", "清河县殡仪馆", "邢台市殡仪馆")
# Whether people registered here may hold a neighbouring county's number (married in, moved in).
ISSUES_OTHER_CODES = True

# Other counties of the province: where spouses married in from, and where the
# bodies of outside-county cremations were registered.
NEIGHBOUR_COUNTIES = (
    ("130533", "威县", ("贺营镇", "章台镇", "梨园屯镇"), ("前屯村", "后王庄村", "东赵村", "西马庄村")),
    ("130535", "临西县", ("河西镇", "下堡寺镇", "尖冢镇"), ("北李庄村", "南孙村", "东留善固村")),
    ("130531", "广宗县", ("广宗镇", "冯家寨镇", "核桃园镇"), ("大刘庄村", "小张村", "后赵家庄村")),
    ("130581", "南宫市", ("凤岗街道", "大高村镇", "垂杨镇"), ("西丁村", "前杨庄村", "北胡村")),
    ("130529", "巨鹿县", ("巨鹿镇", "王虎寨镇", "西郭城镇"), ("东张村", "西刘庄村", "南王村")),
    ("130532", "平乡县", ("丰州镇", "平乡镇", "田付村乡"), ("后马村", "前李村", "东陈庄村")),
)


@dataclass(frozen=True)
class Township:
    """A township (镇/乡) or sub-district (街道) and its villages or communities."""

    code: str  # the 3 digits after the county code in the 9-digit division code
    name: str
    urban: bool
    villages: tuple[str, ...]


_URBAN_TOWNSHIPS = (
    ("001", "城东街道", ("东关社区", "新华社区", "建设路社区", "人民路社区", "育才社区", "明珠社区")),
    ("002", "城西街道", ("西关社区", "滨河社区", "顺安社区", "清华苑社区", "油坊社区")),
)
_RURAL_TOWNSHIPS = (
    ("100", "城关镇"),
    ("101", "葛仙庄镇"),
    ("102", "连庄镇"),
    ("103", "油坊镇"),
    ("104", "谢炉镇"),
    ("105", "王官庄镇"),
    ("200", "坝营乡"),
    ("201", "黄金庄乡"),
)
_FIXED_VILLAGES = {"城关镇": ("东关村", "西关村", "南关村", "北关村")}
_VILLAGE_PREFIX = ("东", "西", "南", "北", "前", "后", "大", "小", "新", "中", "")
_VILLAGE_SUFFIX = ("庄", "村", "屯", "营", "寨", "洼", "店", "集", "堡", "家庄")


def build_townships(seed: int) -> tuple[Township, ...]:
    """The county's townships with 8–14 villages each (rural) or 5–6 communities (urban).

    A county of a province (`COUNTY_ENV`) has the townships its configuration lists, whatever the seed.
    """
    if _CONFIGURED_TOWNSHIPS is not None:
        return _CONFIGURED_TOWNSHIPS
    rng = random.Random(f"{seed}:townships")
    townships = [Township(code, name, True, villages) for code, name, villages in _URBAN_TOWNSHIPS]
    for code, name in _RURAL_TOWNSHIPS:
        townships.append(Township(code, name, False, _draw_villages(rng, _FIXED_VILLAGES.get(name, ()))))
    return tuple(townships)


def _draw_villages(rng: random.Random, fixed: tuple[str, ...] = (), avoid: tuple[str, ...] = ()) -> tuple[str, ...]:
    """8–14 village names, often named after a clan (王庄村); none inside a text of `avoid`."""
    villages = list(fixed)
    wanted = rng.randint(8, 14)
    while len(villages) < wanted:
        village = rng.choice(_VILLAGE_PREFIX) + rng.choice(VILLAGE_SURNAMES) + rng.choice(_VILLAGE_SUFFIX)
        village += "" if village.endswith("村") else "村"
        if village not in villages and not any(village in text for text in avoid):
            villages.append(village)
    return tuple(villages)


# Division codes number townships by kind, a hundred codes each: 街道 from 001, 镇 from 100, 乡 from 200.
# Group g numbers its townships of a kind after group g-1's, so each kind's codes stay in its hundred.
_KIND_SUFFIX = {"0": "街道", "1": "镇", "2": "乡"}
_GROUP_CODES = tuple(code for code, *_ in (*_URBAN_TOWNSHIPS, *_RURAL_TOWNSHIPS))
_PER_GROUP = {kind: sum(code[0] == kind for code in _GROUP_CODES) for kind in _KIND_SUFFIX}
MAX_TOWNSHIP_GROUPS = min(
    (int(kind) * 100 + 100 - min(int(code) for code in _GROUP_CODES if code[0] == kind)) // count
    for kind, count in _PER_GROUP.items()
)
_STREET_STEMS = (
    "新华", "解放", "胜利", "和平", "东风", "建设", "向阳", "文化", "光明", "团结", "红旗", "幸福", "振兴", "朝阳",
    "长安", "永安", "兴华", "民主", "前进", "钟楼", "鼓楼", "府前", "桥西", "桥东", "河东", "站前", "北关", "南关",
    "东城", "西城", "南城", "北城", "中华", "迎宾", "凤凰", "龙泉", "金山", "银河", "春华", "玉泉", "育才", "复兴",
)
_COMMUNITY_STEMS = (
    "新华", "建设", "人民", "育才", "明珠", "滨河", "顺安", "幸福", "和谐", "康乐", "锦绣", "阳光", "花园", "文苑",
    "翠苑", "金桥", "丰收", "平安", "振华", "兴隆", "光华", "友谊", "书香", "怡和", "嘉园", "泰和", "园丁", "铁路",
)
_TOWN_STEMS = ("庄", "集", "店", "营", "寨", "屯", "桥", "口", "堡", "楼", "固", "铺", "官庄", "家庄", "家寨", "辛庄", "固献")
# Texts of other counties' addresses (cremation 户籍地址): a place of ours found inside one would
# make an outside-county body look like one of the county's people.
_NEIGHBOUR_ADDRESSES = tuple(
    name + township + village
    for _, name, townships, villages in NEIGHBOUR_COUNTIES
    for township in townships
    for village in villages
)


def build_township_groups(seed: int, groups: int) -> tuple[tuple[Township, ...], ...]:
    """`groups` sets of townships: the county's own (`build_townships`), then groups 1.. shaped like it.

    Group g ≥ 1 is drawn from (seed, g) alone, after the names earlier groups took: its codes and names
    are unique in the drop, and no township name lies inside another's or inside a neighbour's address.
    """
    if not 1 <= groups <= MAX_TOWNSHIP_GROUPS:
        raise ValueError(f"{groups} township groups: expected 1 to {MAX_TOWNSHIP_GROUPS} "
                         f"(3-digit township codes hold {MAX_TOWNSHIP_GROUPS} groups of {len(_GROUP_CODES)})")
    built = [build_townships(seed)]
    names = [t.name for t in built[0]]
    for group in range(1, groups):
        rng = random.Random(f"{seed}:townships/{group}")
        townships = []
        for code in _GROUP_CODES:
            kind = code[0]
            name = _draw_township_name(rng, kind, (*names, *_NEIGHBOUR_ADDRESSES))
            names.append(name)
            number = f"{int(code) + group * _PER_GROUP[kind]:03d}"
            if kind == "0":
                townships.append(Township(number, name, True, _draw_communities(rng)))
            else:
                townships.append(Township(number, name, False, _draw_villages(rng, avoid=_NEIGHBOUR_ADDRESSES)))
        built.append(tuple(townships))
    return tuple(built)


# Counties of the sample province (Xingtai and Hengshui, Hebei), none of them a neighbour above:
# a neighbour's code is where people come from outside the province.
PROVINCE_COUNTIES = (
    ("130534", "清河县"), ("130530", "新河县"), ("130528", "宁晋县"), ("130525", "隆尧县"), ("130524", "柏乡县"),
    ("130523", "内丘县"), ("130522", "临城县"), ("130582", "沙河市"), ("131126", "故城县"), ("131127", "景县"),
    ("131121", "枣强县"), ("131122", "武邑县"), ("131128", "阜城县"), ("131124", "饶阳县"), ("131125", "安平县"),
    ("131123", "武强县"),
)
_COMMUNITY_ENDINGS = ("", "路", "里", "苑", "园", "街", "新村")


def build_province_townships(seed: int | str, counties: int) -> tuple[tuple[Township, ...], ...]:
    """Townships for each of `counties` counties of a province, shaped like a county's own (`build_townships`).

    Names are drawn from (seed, county) and apart across counties: no township, village or community name
    of one county lies inside a name of another, nor inside a neighbour's address, so a cremation
    record's 户籍地址 naming one county's places names no place of another (the linker reads an
    address in which none of its county's places is found as someone from elsewhere).
    """
    if not 1 <= counties <= len(PROVINCE_COUNTIES):
        raise ValueError(f"{counties} counties: expected 1 to {len(PROVINCE_COUNTIES)}")
    others: list[str] = [name for _, name in PROVINCE_COUNTIES]
    built = []
    for index in range(counties):
        rng = random.Random(f"{seed}:province-townships/{index}")
        own: list[str] = []

        def fresh(name: str) -> bool:
            return (not any(name in text or text in name for text in others)
                    and not any(name in text for text in _NEIGHBOUR_ADDRESSES))

        townships = []
        for code in _GROUP_CODES:
            kind = code[0]
            name = _draw_township_name(rng, kind, (*others, *own, *_NEIGHBOUR_ADDRESSES))
            own.append(name)
            places: list[str] = []
            wanted = rng.randint(5, 6) if kind == "0" else rng.randint(8, 14)
            while len(places) < wanted:
                if kind == "0":
                    stem, ending = rng.choice(_COMMUNITY_STEMS + _STREET_STEMS), rng.choice(_COMMUNITY_ENDINGS)
                    place = stem + ("" if ending[:1] == stem[-1] else ending) + "社区"
                else:
                    place = rng.choice(_VILLAGE_PREFIX) + rng.choice(SURNAME_CHOICES[:60]) + rng.choice(_VILLAGE_SUFFIX)
                    place += "" if place.endswith("村") else "村"
                if place not in places and fresh(place):
                    places.append(place)
            own += places
            townships.append(Township(code, name, kind == "0", tuple(places)))
        others += own
        built.append(tuple(townships))
    return tuple(built)


def _draw_township_name(rng: random.Random, kind: str, taken: tuple[str, ...]) -> str:
    """A 街道 named for a street (解放街道) or a 镇/乡 for its seat (王官庄镇), apart from every text in `taken`."""
    while True:
        if kind == "0":
            name = rng.choice(_STREET_STEMS) + _KIND_SUFFIX[kind]
        else:
            name = rng.choice(SURNAME_CHOICES[:60]) + rng.choice(_TOWN_STEMS) + _KIND_SUFFIX[kind]
        if not any(name in text or text in name for text in taken):
            return name


def _draw_communities(rng: random.Random) -> tuple[str, ...]:
    """5–6 community (社区) names."""
    return tuple(stem + "社区" for stem in rng.sample(_COMMUNITY_STEMS, rng.randint(5, 6)))


def village_surname(village: str) -> str | None:
    """The surname a village is named after (王庄村 → 王), villages being often single-clan."""
    for char in village[:2]:
        if char in VILLAGE_SURNAMES:
            return char
    return None


# Surnames with their approximate share of the population (per mille), northern China.
SURNAMES = (
    ("王", 74), ("李", 72), ("张", 70), ("刘", 56), ("陈", 40), ("杨", 32), ("赵", 26), ("黄", 14),
    ("周", 15), ("吴", 13), ("徐", 13), ("孙", 16), ("马", 15), ("朱", 11), ("胡", 11), ("郭", 14),
    ("何", 8), ("高", 13), ("林", 7), ("罗", 6), ("郑", 7), ("梁", 7), ("谢", 5), ("宋", 7),
    ("唐", 5), ("许", 6), ("韩", 8), ("冯", 6), ("邓", 4), ("曹", 6), ("彭", 4), ("曾", 3),
    ("肖", 4), ("田", 7), ("董", 7), ("袁", 4), ("潘", 3), ("于", 6), ("蒋", 3), ("蔡", 3),
    ("余", 3), ("杜", 5), ("叶", 3), ("程", 4), ("苏", 4), ("魏", 6), ("吕", 4), ("丁", 4),
    ("任", 4), ("沈", 3), ("姚", 3), ("卢", 3), ("姜", 4), ("崔", 5), ("钟", 2), ("谭", 2),
    ("陆", 2), ("汪", 2), ("范", 3), ("金", 3), ("石", 3), ("贾", 5), ("夏", 2), ("付", 3),
    ("方", 2), ("白", 3), ("邹", 2), ("孟", 4), ("秦", 3), ("邱", 2), ("尹", 2), ("薛", 3),
    ("闫", 4), ("段", 3), ("雷", 2), ("侯", 4), ("史", 3), ("郝", 4), ("邵", 2), ("武", 3),
    ("孔", 2), ("常", 3), ("耿", 2), ("欧阳", 1), ("司马", 1),
)
SURNAME_CHOICES = tuple(name for name, _ in SURNAMES)
SURNAME_WEIGHTS = tuple(weight for _, weight in SURNAMES)
VILLAGE_SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "赵", "孙", "马", "郭", "高", "韩", "田", "董", "贾", "崔", "闫", "侯", "郝")

# Given-name pools by birth era and sex: (first characters, second characters, single-character names).
GIVEN_NAMES = {
    ("old", "M"): ("建国志德文明永福金长玉树春家振庆学立宝占", "国民华明林山生成发才海田江祥义忠军平贵顺", "福山林贵忠"),
    ("old", "F"): ("秀桂玉淑凤素翠金春兰月彩", "英兰珍芝荣华梅琴云芬花香", "英兰珍"),
    ("mid", "M"): ("建志海军永国红卫晓立宏振春小东新保俊", "军伟强平刚华明勇峰波辉林杰斌涛东鹏亮", "伟磊军勇杰涛强斌刚峰辉"),
    ("mid", "F"): ("丽红秀晓海春艳美彩小", "华霞芳燕红丽娟敏萍玲梅琴", "静敏丽娟艳芳霞燕红萍"),
    ("young", "M"): ("子浩俊宇嘉明志文天晨家振佳鑫", "宇轩杰浩磊鹏阳博涛龙飞鑫超帅", "磊鹏浩宇超帅亮鑫"),
    ("young", "F"): ("欣佳雅婷思晓丹静梦雪文", "怡琪婷雪洁静娜蕾悦颖茹璐", "娜婷颖丹洁雪琳慧"),
    ("new", "M"): ("梓子浩宇俊一皓沐奕锦承", "轩涵宸睿泽航铭川辰阳熙然", "睿泽航辰"),
    ("new", "F"): ("梓欣可紫雨诗子一语若", "涵萱彤琪桐汐妍然晴瑶", "彤琪妍瑶"),
}
SINGLE_NAME_SHARE = {"old": 0.08, "mid": 0.3, "young": 0.25, "new": 0.15}

# Uyghur-style names: a personal name, a middle dot, the father's personal name.
MINORITY_GIVEN = {
    "M": ("买买提", "艾力", "阿不都", "吐尔逊", "依明", "热合曼", "艾山", "努尔", "亚森", "卡德尔", "阿里木", "司马义", "托乎提", "如孜"),
    "F": ("阿依古丽", "古丽努尔", "热依拉", "帕提古丽", "迪丽拜尔", "米娜瓦尔", "阿依努尔", "祖丽菲亚", "再娜甫", "帕丽达"),
}

# Characters read the same (or nearly) that clerks and families swap: 王丽/王莉.
HOMOPHONES = dict(
    pair
    for a, b in (
        ("丽", "莉"), ("明", "铭"), ("军", "君"), ("华", "桦"), ("芳", "方"), ("伟", "玮"), ("静", "婧"),
        ("敏", "民"), ("杰", "洁"), ("红", "虹"), ("英", "瑛"), ("霞", "侠"), ("峰", "锋"), ("涛", "韬"),
        ("斌", "彬"), ("刚", "钢"), ("平", "萍"), ("燕", "艳"), ("兰", "岚"), ("梅", "玫"), ("娟", "鹃"),
        ("辉", "晖"), ("勇", "永"), ("建", "健"), ("林", "琳"), ("玉", "钰"), ("张", "章"), ("杨", "阳"),
        ("宇", "雨"), ("轩", "萱"), ("琪", "琦"), ("珍", "贞"), ("凤", "风"), ("秀", "绣"), ("国", "帼"),
    )
    for pair in ((a, b), (b, a))
)


def era(birth_year: int) -> str:
    if birth_year < 1960:
        return "old"
    if birth_year < 1985:
        return "mid"
    if birth_year < 2005:
        return "young"
    return "new"


# Monthly standards in yuan, by calendar year; raised each January as provinces do.
DIBAO_STANDARD = {
    "城市": {2024: 680, 2025: 700, 2026: 720},
    "农村": {2024: 500, 2025: 520, 2026: 540},
}
TEKUN_STANDARD = {
    "分散": {2024: 860, 2025: 880, 2026: 900},
    "集中": {2024: 1160, 2025: 1180, 2026: 1200},
}
LIVING_SUBSIDY = 80
CARE_SUBSIDY = {1: 100, 2: 80}


def standard(table: dict[int, int], year: int) -> int:
    """The standard in force in `year` (the nearest year the table knows)."""
    return table[min(max(year, min(table)), max(table))]


# -- a county of a province ---------------------------------------------------------------
_CONFIGURED_TOWNSHIPS: tuple[Township, ...] | None = None


def county_config(code: str, name: str, townships: tuple[Township, ...], funeral_homes: tuple[str, ...]) -> dict:
    """The JSON-ready configuration `COUNTY_ENV` names: what makes a county of a province itself."""
    return {
        "code": code, "name": name, "funeral_homes": list(funeral_homes),
        "townships": [{"code": t.code, "name": t.name, "urban": t.urban, "villages": list(t.villages)} for t in townships],
    }


def read_county_config(path: Path) -> tuple[str, str, tuple[str, ...], tuple[Township, ...]]:
    """(code, name, funeral homes, townships) from a configuration file `county_config` wrote."""
    config = json.loads(Path(path).read_text(encoding="utf-8"))
    townships = tuple(Township(t["code"], t["name"], t["urban"], tuple(t["villages"])) for t in config["townships"])
    code = config["code"]
    if len(code) != 6 or not code.isdigit() or code in {c for c, *_ in NEIGHBOUR_COUNTIES}:
        raise ValueError(f"{path}: county code {code!r}: expected 6 digits, not a neighbouring county's")
    return code, config["name"], tuple(config["funeral_homes"]), townships


if os.environ.get(COUNTY_ENV):
    COUNTY_CODE, COUNTY_NAME, FUNERAL_HOMES, _CONFIGURED_TOWNSHIPS = read_county_config(Path(os.environ[COUNTY_ENV]))
    ISSUES_OTHER_CODES = False
