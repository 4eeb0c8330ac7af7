"""Chinese numerals as pupils write them, and the units a number may carry.

Numerals: 三百五十 = 350, 一千零五 = 1005, 两万 = 20000, 十二 = 12, 三点五 = 3.5, 二分之一 = 1/2,
负三 = -3, 3万 = 30000, and the financial forms 壹贰叁...拾佰仟::

    >>> chinese_number("三百五十"), chinese_number("一千零五"), chinese_number("二分之一")
    (350.0, 1005.0, 0.5)
    >>> chinese_number("负三点五"), chinese_number("3万"), chinese_number("三五") is None
    (-3.5, 30000.0, True)

Units: a unit belongs to a dimension (length, mass, money, time, area, volume) with a factor to the
dimension's base, so an answer may be converted to the key's unit where the key allows it::

    >>> convert(80, "mm", "cm"), convert(3.5, "千克", "g"), convert(6, "角", "元")
    (8.0, 3500.0, 0.6)
    >>> convert(5, "分", "秒"), convert(5, "分", "元"), convert(1, "cm", "kg") is None
    (300.0, 0.05, True)
"""

from __future__ import annotations

import re

DIGITS = {
    "零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
    "壹": 1, "贰": 2, "叁": 3, "肆": 4, "伍": 5, "陆": 6, "柒": 7, "捌": 8, "玖": 9,
}  # fmt: skip
SMALL_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
BIG_UNITS = {"万": 10_000, "亿": 100_000_000}
NUMERAL_CHARS = "".join(DIGITS) + "".join(SMALL_UNITS) + "".join(BIG_UNITS) + "点负分之又"
"""Every character a Chinese-numeral answer may use (what a recognizer should be allowed to read)."""


def has_chinese_numeral(text: str) -> bool:
    """Whether ``text`` holds a Chinese numeral character.

    >>> has_chinese_numeral("3.5千克"), has_chinese_numeral("350")
    (True, False)
    """
    return any(ch in DIGITS or ch in SMALL_UNITS or ch in BIG_UNITS for ch in text)


def _integer(text: str) -> int | None:
    """A Chinese integer (三百五十, 一千零五, 十二, 两万零三) or Arabic digits; None when not one."""
    if not text:
        return None
    if text.isascii():
        return int(text) if text.isdigit() else None
    total, section, digit, last_unit = 0, 0, None, None
    for ch in text:
        if ch in DIGITS:
            if digit is not None and DIGITS[ch] != 0:
                return None  # two digits in a row ("三五") is not a numeral
            digit = DIGITS[ch] if DIGITS[ch] else None
        elif ch in SMALL_UNITS:
            unit = SMALL_UNITS[ch]
            if last_unit is not None and unit >= last_unit:
                return None  # 十百, 百百
            section += (1 if digit is None and unit == 10 else digit or 0) * unit
            if digit is None and unit != 10:
                return None  # 百 alone
            digit, last_unit = None, unit
        elif ch in BIG_UNITS:
            section += digit or 0
            if section == 0:
                return None
            total += section * BIG_UNITS[ch]
            section, digit, last_unit = 0, None, None
        else:
            return None
    return total + section + (digit or 0)


def chinese_number(text: str) -> float | None:
    """The value of a number written with Chinese numerals (see the module); None when it is not one."""
    text = text.strip()
    sign = 1.0
    if text[:1] in ("负", "-"):
        sign, text = -1.0, text[1:].strip()
    if not text or not (has_chinese_numeral(text) or "分之" in text):
        return None
    m = re.fullmatch(r"(?:(.+)又)?(.+)分之(.+)", text)
    if m:
        whole = _integer(m.group(1)) if m.group(1) else 0
        den, num = _integer(m.group(2)), _integer(m.group(3))
        if whole is None or not den or num is None:
            return None
        return sign * (whole + num / den)
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([万亿])", text)
    if m:
        return sign * float(m.group(1)) * BIG_UNITS[m.group(2)]
    whole_text, _, decimals = text.partition("点")
    whole = _integer(whole_text)
    if whole is None:
        return None
    if not decimals:
        return sign * float(whole)
    if not all(ch in DIGITS or ch.isdigit() for ch in decimals):
        return None
    digits = "".join(str(DIGITS[ch]) if ch in DIGITS else ch for ch in decimals)
    return sign * float(f"{whole}.{digits}")


def to_chinese(value: float) -> str | None:
    """How a pupil writes a whole number below 10^8 in Chinese numerals; None for others.

    >>> to_chinese(350), to_chinese(1005), to_chinese(12), to_chinese(30400), to_chinese(2.5)
    ('三百五十', '一千零五', '十二', '三万零四百', None)
    """
    if not float(value).is_integer() or not 0 <= value < 100_000_000:
        return None
    number = int(value)
    if number == 0:
        return "零"
    if number >= 10_000:
        high, low = divmod(number, 10_000)
        rest = to_chinese(low) if low else ""
        return f"{to_chinese(high)}万{'零' if low and low < 1000 else ''}{rest}"
    out, zero, names = "", False, "零一二三四五六七八九"
    for unit, size in (("千", 1000), ("百", 100), ("十", 10), ("", 1)):
        digit, number = divmod(number, size)
        if digit:
            out += ("零" if zero else "") + ("" if unit == "十" and digit == 1 and not out else names[digit]) + unit
            zero = False
        elif out and number:
            zero = True
    return out


# -- units -----------------------------------------------------------------------------------

_DIMENSIONS: dict[str, dict[str, float]] = {
    "length": {
        "mm": 0.001, "毫米": 0.001, "cm": 0.01, "厘米": 0.01, "dm": 0.1, "分米": 0.1,
        "m": 1.0, "米": 1.0, "km": 1000.0, "千米": 1000.0, "公里": 1000.0,
    },
    "mass": {
        "mg": 0.001, "毫克": 0.001, "g": 1.0, "克": 1.0, "kg": 1000.0, "千克": 1000.0, "公斤": 1000.0,
        "斤": 500.0, "t": 1_000_000.0, "吨": 1_000_000.0,
    },
    "money": {"元": 1.0, "块": 1.0, "¥": 1.0, "角": 0.1, "毛": 0.1, "分": 0.01},
    "time": {
        "s": 1.0, "秒": 1.0, "min": 60.0, "分": 60.0, "分钟": 60.0, "h": 3600.0, "时": 3600.0,
        "小时": 3600.0, "天": 86400.0, "日": 86400.0,
    },
    "area": {
        "mm2": 1e-6, "平方毫米": 1e-6, "cm2": 1e-4, "平方厘米": 1e-4, "dm2": 0.01, "平方分米": 0.01,
        "m2": 1.0, "平方米": 1.0, "公顷": 10_000.0, "ha": 10_000.0, "km2": 1e6, "平方千米": 1e6,
        "平方公里": 1e6,
    },
    "volume": {
        "ml": 0.001, "毫升": 0.001, "cm3": 0.001, "立方厘米": 0.001, "l": 1.0, "升": 1.0, "dm3": 1.0,
        "立方分米": 1.0, "m3": 1000.0, "立方米": 1000.0,
    },
}  # fmt: skip
UNITS = frozenset(u for table in _DIMENSIONS.values() for u in table)
"""Every unit this module can convert (lower case; cm² is written cm2 after NFKC)."""


def _norm_unit(unit: str) -> str:
    return unit.strip().casefold().replace("²", "2").replace("³", "3")


def convert(value: float, unit: str, to: str) -> float | None:
    """``value`` in ``unit`` expressed in ``to`` (same dimension); None when they are not comparable.

    ``分`` is money (0.01 元) beside a money unit and minutes beside a time unit.
    """
    source, target = _norm_unit(unit), _norm_unit(to)
    for table in _DIMENSIONS.values():
        if source in table and target in table:
            return round(value * table[source] / table[target], 12)
    return None
