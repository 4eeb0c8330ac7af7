"""An elementary-math knowledge-point taxonomy and a rule-based tagger for word problems.

The taxonomy follows the topics of the Chinese primary curriculum (人教版 grades 3-6). Each point says
what it covers; the number-type points describe the numbers a solution works with, the others the kind
of problem. A problem usually has one number type and zero to three topics::

    number type (exactly one of whole / or any of decimal, fraction, percent)
      number.whole            整数运算        only whole numbers given, used and asked
      number.decimal          小数            decimals among the numbers used or the answer (π=3.14 aside)
      number.fraction         分数            fractions given, asked (几分之几) or used as shares (a/b)
      number.percent          百分数          percentages given or asked (百分之几, 出勤率 ...)
    topics
      number.calculation      计算            a computation with no story (计算：..., 一个数乘以12的积...)
      number.factors          因数与倍数      factors, multiples, GCD/LCM, primes, divisibility
      relation.times          倍数关系        "A is n times B" (和倍、差倍)
      ratio.proportion        比和比例        ratios a:b, proportions, map scales
      rate.distance           行程问题        speed, time and distance; meeting and pursuit
      rate.work               工程问题        work rates: jobs, pipes, output per worker per time
      percent.price           折扣与售价      original/sale price, discounts (打八折), profit
      percent.interest        利息与税率      interest, tax rates
      geometry.shapes         图形认识        angles, symmetry, lines
      geometry.area_perimeter 周长与面积      perimeter and area of plane figures
      geometry.circle         圆              circles: radius, diameter, π
      geometry.volume         立体图形        volume, capacity and surface area of solids
      measurement.units       单位换算        two units of one quantity (厘米 and 千米, 吨 and 千克)
      measurement.time        时间            clock times and dates (上午8时, 1976年)
      algebra.equation        方程            equations with an unknown (解方程, 2x+3=9, 解比例)
      statistics.average      平均数          the mean of several quantities
      reasoning.logic         思维与规律      patterns, pigeonhole, counting, intervals (植树), puzzles

:func:`tag_problem` applies the rules (regular expressions over the problem text, plus the equation's
numbers for the number type), counts solution steps as the equation's operators, and estimates minutes.

>>> result = tag_problem("甲、乙两辆汽车同时从两地出发，相向而行，甲车的速度是85千米/时，乙车的速度是110千米/时，"
...                      "经过4小时两车在途中相遇．两地间的公路长多少千米？", "x=(85+110)*4", "780")
>>> result.knowledge_points, result.steps, result.difficulty, result.minutes, result.grade
(('number.whole', 'rate.distance'), 2, 2, 2.5, 4)
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from homework._graph import KnowledgeGraph
from homework._items import KnowledgePoint

__all__ = [
    "TAXONOMY",
    "TagResult",
    "TaggingScores",
    "equation_steps",
    "items_from_word_problems",
    "score_tagging",
    "tag_problem",
    "taxonomy_graph",
]

TAXONOMY: tuple[KnowledgePoint, ...] = (
    KnowledgePoint("number.whole", "Whole-number arithmetic", "整数运算", "only whole numbers given, used and asked"),
    KnowledgePoint("number.decimal", "Decimals", "小数", "decimals among the numbers used or in the answer"),
    KnowledgePoint("number.fraction", "Fractions", "分数", "fractions given, asked or used as shares"),
    KnowledgePoint("number.percent", "Percentages", "百分数", "percentages given or asked"),
    KnowledgePoint("number.calculation", "Calculation", "计算", "a computation with no story"),
    KnowledgePoint("number.factors", "Factors and multiples", "因数与倍数", "factors, multiples, GCD/LCM, primes"),
    KnowledgePoint("relation.times", "Times as many", "倍数关系", "A is n times B (和倍、差倍)"),
    KnowledgePoint("ratio.proportion", "Ratio and proportion", "比和比例", "ratios, proportions, map scales"),
    KnowledgePoint("rate.distance", "Rate, time and distance", "行程问题", "speed, time, distance; meeting"),
    KnowledgePoint("rate.work", "Work problems", "工程问题", "jobs, pipes, output per worker per time"),
    KnowledgePoint("percent.price", "Discounts and prices", "折扣与售价", "original/sale price, discounts"),
    KnowledgePoint("percent.interest", "Interest and tax", "利息与税率", "interest and tax rates"),
    KnowledgePoint("geometry.shapes", "Shapes, angles, symmetry", "图形认识", "angles, symmetry, lines"),
    KnowledgePoint("geometry.area_perimeter", "Area and perimeter", "周长与面积", "plane figures"),
    KnowledgePoint("geometry.circle", "Circles", "圆", "radius, diameter, π"),
    KnowledgePoint("geometry.volume", "Volume and surface area", "立体图形", "solids: volume, capacity, surface"),
    KnowledgePoint("measurement.units", "Unit conversion", "单位换算", "two units of one quantity"),
    KnowledgePoint("measurement.time", "Clock time and dates", "时间", "clock times, dates, years"),
    KnowledgePoint("algebra.equation", "Linear equations", "方程", "equations with an unknown"),
    KnowledgePoint("statistics.average", "Averages", "平均数", "the mean of several quantities"),
    KnowledgePoint("reasoning.logic", "Patterns and reasoning", "思维与规律", "patterns, counting, puzzles"),
)
_PREREQUISITES = (
    ("number.whole", "number.decimal"), ("number.whole", "number.fraction"), ("number.whole", "number.factors"),
    ("number.factors", "number.fraction"), ("number.decimal", "number.percent"),
    ("number.fraction", "number.percent"), ("number.whole", "number.calculation"),
    ("number.whole", "relation.times"), ("number.fraction", "ratio.proportion"),
    ("number.whole", "rate.distance"), ("number.whole", "rate.work"), ("number.fraction", "rate.work"),
    ("number.percent", "percent.price"), ("number.percent", "percent.interest"),
    ("number.whole", "geometry.shapes"), ("geometry.shapes", "geometry.area_perimeter"),
    ("geometry.area_perimeter", "geometry.circle"), ("number.decimal", "geometry.circle"),
    ("geometry.area_perimeter", "geometry.volume"), ("number.whole", "measurement.units"),
    ("number.decimal", "measurement.units"), ("number.whole", "measurement.time"),
    ("relation.times", "algebra.equation"), ("number.whole", "statistics.average"),
    ("number.whole", "reasoning.logic"),
)
TYPICAL_GRADE = {
    "number.whole": 3, "number.decimal": 4, "number.fraction": 5, "number.percent": 6, "number.calculation": 4,
    "number.factors": 5, "relation.times": 3, "ratio.proportion": 6, "rate.distance": 4, "rate.work": 4,
    "percent.price": 6, "percent.interest": 6, "geometry.shapes": 4, "geometry.area_perimeter": 5,
    "geometry.circle": 6, "geometry.volume": 5, "measurement.units": 3, "measurement.time": 3,
    "algebra.equation": 5, "statistics.average": 4, "reasoning.logic": 4,
}
"""The grade (人教版) in which a point is usually taught; an item's grade is the highest of its points."""


def taxonomy_graph() -> KnowledgeGraph:
    """The taxonomy as a prerequisite DAG.

    >>> sorted(taxonomy_graph().descendants("number.percent"))
    ['percent.interest', 'percent.price']
    """
    return KnowledgeGraph.from_edges(_PREREQUISITES, TAXONOMY)


# ------------------------------------------------------------------------------------ the rules

_TOPIC_RULES: dict[str, re.Pattern[str]] = {k: re.compile(v) for k, v in {
    "number.calculation": r"^(计算|简便计算|脱式计算|用简便方法计算|直接写出得数|递等式)|所得的(和|差|积|商)"
                          r"|的(和|差|积|商)(除以|乘以|减去|加上|再|是多少)|它们的(和|差|积|商)|[去]除.{0,12}的(和|差|积)",
    "number.factors": r"(?<!一个)(?<!另一个)因数(?!是)|公约数|公倍数|质数|合数|约数|素数|奇数|偶数|整除|倍数(?!关系)|最大公|最小公",
    "relation.times": r"(\d|[一二两三四五六七八九十几]|\.\d)倍",
    "ratio.proportion": r"[\d)]\s*[:：∶]\s*\d|比例|之比|的比(是|为)|正比|反比|按.{0,6}比|比值|\d\s*[:：]\s*[xX]|[xX]\s*[:：]\s*\d",
    "rate.distance": r"速度|相遇|相向|追上|追及|行驶|路程|全程|时速|每(小)?时(行|走|跑|骑|飞)|每分钟?(行|走|跑|骑|游)"
                     r"|小时(行|走|跑|骑|飞)|(千米|米|公里)/(小)?时|千米每小时|km/h|米/分|米/秒|开往|开出",
    "rate.work": r"工程|工作效率|工效|单独(做|干|修|完成|开|注|打|加工|生产)|合(作|做|修|干|打)|注满|放尽|排空|零件"
                 r"|每天(修|加工|生产|挖|铺|做|织|打|看|读|写|练)|每小时(加工|生产|打|做|修)|打字|加工"
                 r"|(每个|每名|每位)工人|工人.{0,12}(每天|每小时)",
    "percent.price": r"(贵|便宜).{0,6}%|原价|售价|现价|定价|降价|涨价|提价|成本|利润|盈利|优惠|[一二三四五六七八九\d.]+折(?![线叠])|打.{0,3}折",
    "percent.interest": r"利息|利率|税率|纳税|缴纳|所得税|营业税|本金|本息",
    "geometry.shapes": r"∠|内角|度数|°|对称轴|锐角|钝角|直角|平角|周角|垂直|平行线|射线|线段|角[A-Z]",
    "geometry.area_perimeter": r"面积|周长|平方(千米|米|分米|厘米)|公顷|[mk]?m\*\*2|㎡|占地",
    "geometry.circle": r"圆(?![柱锥满])|半径|直径|π|3\.14",
    "geometry.volume": r"体积|容积|立方(米|分米|厘米)|长方体|正方体|圆柱|圆锥|棱长|表面积|侧面积|[mk]?m\*\*3|粉刷|四壁|墙纸",
    "measurement.time": r"\d{4}年|哪一年|\d+月\d+日|(上午|下午|晚上|早上)\s*\d|几时|几点|\d+时\d+分|\d+时(到|至|出发|开)|时刻表",
    "algebra.equation": r"方程|未知数|解比例|求[xX]|[xX]\s*[=+\-*/:：]|\d\s*[xX]|[=:：]\s*[xX]",
    "statistics.average": r"平均数|平均成绩|平均分(?![成给装到配])|平均(身高|体重|年龄|气温|得分|水平|值)|求.{0,6}平均",
    "reasoning.logic": r"规律|才能保证|保证|搭配|组合|排列|握手|多少种|几种|植树|栽树|每隔|排成一(队|行|排)|鸡兔|答对|倒扣"
                       r"|至少(要|需要)|最少(要|需要)|最多(能|可以)|当.{0,8}最(小|大)时|组成.{0,8}(位数|个数)|每两(人|个)"
                       r"|过河|分拆|拆成|[一二三四五六七八九\d]楼.{0,8}[一二三四五六七八九\d]楼|锯成|锯断",
}.items()}
_UNITS = {
    "length": {"千米": "千米", "公里": "千米", "km": "千米", "分米": "分米", "dm": "分米", "厘米": "厘米",
               "cm": "厘米", "毫米": "毫米", "mm": "毫米", "米": "米", "m": "米"},
    "mass": {"吨": "吨", "千克": "千克", "公斤": "千克", "kg": "千克", "克": "克", "g": "克", "斤": "斤"},
    "time": {"小时": "小时", "分钟": "分钟", "秒": "秒"},
    "area": {"平方千米": "平方千米", "公顷": "公顷", "亩": "亩", "平方米": "平方米", "平方分米": "平方分米",
             "平方厘米": "平方厘米", "m**2": "平方米", "cm**2": "平方厘米", "dm**2": "平方分米"},
    "volume": {"立方米": "立方米", "立方分米": "立方分米", "立方厘米": "立方厘米", "升": "升", "毫升": "毫升",
               "m**3": "立方米", "cm**3": "立方厘米", "dm**3": "立方分米"},
}
_UNIT_WORDS = {word: (dimension, unit) for dimension, words in _UNITS.items() for word, unit in words.items()}
_UNIT_RE = re.compile(r"(?<![A-Za-z])(" + "|".join(re.escape(w) for w in sorted(_UNIT_WORDS, key=len, reverse=True))
                      + r")(?![A-Za-z])")
_FRACTION_LITERAL = re.compile(r"\(\(?(\d+)\)?/\(?(\d+)?")
_DECIMAL = re.compile(r"(?<![\d.])\d+\.\d+")
_PERCENT_TEXT = re.compile(r"%|％|百分|出勤率|合格率|发芽率|成活率|达标率|优秀率|及格率|命中率|增长率|浓度|含糖率|含盐率")
_FRACTION_TEXT = re.compile(r"(?<!百)分之|\(\d+/\d+\)")
_FRACTION_ANSWER = re.compile(r"\d*\(?\(?\d+\)?/\(?\d+\)?\)?")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_MATH_SIGN = re.compile(r"[0-9零〇一二两三四五六七八九十百千万亿半几%+\-*/×÷=<>≤≥]")  # a number or an operator
_GIVEN_RESULT = re.compile(r"是\s*[\d(]")  # "一个数的5倍是2.5": find the unknown, not a calculation
_VERBAL_OPERATORS = re.compile(r"计算|的|倍|和|差|积|商|是|多少|几|与|除以|乘以|加上|减去|去除|再|等于|得数|一个数|这个数|求")
_NUMBER_OR_FRACTION = re.compile(r"\(\(?\d+\)?/\(?\d+\)?\)|\d+(?:\.\d+)?%?")
_OPERATOR = re.compile(r"\*\*|[-+*/^]")


def _normalise(text: str) -> str:
    table = str.maketrans({"（": "(", "）": ")", "：": ":", "％": "%", "＋": "+", "－": "-", "×": "*", "÷": "/",
                           "ｘ": "x", "Ｘ": "X", "，": ",", "．": "。", "＝": "="})
    return text.translate(table)


def _uses_fraction(text: str, equation: str, answer: str) -> bool:
    if _FRACTION_ANSWER.fullmatch(answer) or _FRACTION_TEXT.search(text):
        return True
    for match in _FRACTION_LITERAL.finditer(equation):
        numerator, denominator = match.group(1), match.group(2)
        if denominator is None or int(denominator) == 0 or int(numerator) % int(denominator):
            return True  # (a/(b+c)) is a share; (a/b) with a remainder is a fraction, (1260/36) is division
    return False


def _number_types(text: str, equation: str, answer: str) -> list[str]:
    found = []
    if _DECIMAL.search(equation.replace("3.14", "") + " " + answer):
        found.append("number.decimal")
    if _uses_fraction(text, equation, answer):
        found.append("number.fraction")
    if "%" in equation or "%" in answer or _PERCENT_TEXT.search(text):
        found.append("number.percent")
    return found or ["number.whole"]


def _converts_units(text: str) -> bool:
    seen: dict[str, set[str]] = {}
    for word in _UNIT_RE.findall(text):
        dimension, unit = _UNIT_WORDS[word]
        seen.setdefault(dimension, set()).add(unit)
    return any(len(units) > 1 for units in seen.values())


def _topics(text: str) -> list[str]:
    found = [kp for kp, rule in _TOPIC_RULES.items() if rule.search(text)]
    if not _CJK.search(_VERBAL_OPERATORS.sub("", text)) and not _GIVEN_RESULT.search(text) and \
            "number.calculation" not in found:
        found.insert(0, "number.calculation")  # an expression, bare or in words, with no story and no unknown
    if _converts_units(text):
        found.append("measurement.units")
    if "geometry.volume" in found and "geometry.area_perimeter" in found and not re.search(
            r"长方形|正方形|三角形|梯形|平行四边形|圆(?![柱锥])", text):
        found.remove("geometry.area_perimeter")  # the area is a solid's surface, not a plane figure's
    return found


def equation_steps(equation: str) -> int:
    """Solution steps: the operators of the equation, fractions, percentages and mixed numbers counting
    as single numbers.

    >>> equation_steps("x=1200/(1-30%-(1/5))"), equation_steps("x=(85+110)*4"), equation_steps("x=3(7/11)")
    (3, 2, 0)
    """
    body = _normalise(equation).replace(" ", "")
    body = body.split("=", 1)[1] if body.lower().startswith("x=") else body
    body = re.sub(r"\d+\(\(?\d+\)?/\(?\d+\)?\)", "N", body)  # mixed numbers 3(7/11)
    body = _NUMBER_OR_FRACTION.sub("N", body)
    body = re.sub(r"(^|[(\[])-", r"\1", body)  # unary minus
    return len(_OPERATOR.findall(body))


def _difficulty(steps: int) -> int:
    return 1 if steps <= 1 else 2 if steps == 2 else 3 if steps == 3 else 4 if steps <= 5 else 5


def _minutes(text: str, steps: int) -> float:
    """Reading at about 150 characters a minute, 0.75 minute a step, half a minute to write the answer,
    rounded up to the half minute."""
    raw = 0.5 + len(text) / 150 + 0.75 * steps
    return min(15.0, max(0.5, math.ceil(raw * 2) / 2))


@dataclass(frozen=True)
class TagResult:
    """The tagger's reading of one problem.

    ``confidence`` is 0.9 when a topic rule matched the text and 0.6 when only the number type could be
    read (the problem may belong to a topic the rules do not know).
    """

    knowledge_points: tuple[str, ...]
    steps: int
    difficulty: int
    minutes: float
    grade: int
    confidence: float


def tag_problem(text: str, equation: str = "", answer: str = "") -> TagResult:
    """Knowledge points, solution steps, difficulty (1-5), minutes and grade of a word problem.

    Text with no number, numeral or operator and no equation is not a math problem: no knowledge
    point, confidence 0 and grade 0 (unknown).

    >>> tag_problem("hello").knowledge_points, tag_problem("hello").confidence
    ((), 0.0)
    >>> tag_problem("一辆汽车3小时行了195千米，平均每小时行多少千米？").knowledge_points
    ('number.whole', 'rate.distance')
    """
    clean = _normalise(text)
    eq = _normalise(equation).replace(" ", "")
    if not eq and not _MATH_SIGN.search(clean + _normalise(answer)):
        return TagResult((), 0, 1, _minutes(text, 0), 0, 0.0)
    numbers = _number_types(clean, eq, _normalise(answer))
    topics = _topics(clean)
    if "3.14" in eq and "geometry.circle" not in topics:
        topics.append("geometry.circle")  # the solution uses π
    points = tuple(numbers + topics)
    steps = equation_steps(eq) if eq else 1
    grade = max(TYPICAL_GRADE[kp] for kp in points)
    return TagResult(points, steps, _difficulty(steps), _minutes(text, steps), grade, 0.9 if topics else 0.6)


# ------------------------------------------------------------------------------------ evaluation


@dataclass(frozen=True)
class TaggingScores:
    """Micro-averaged precision and recall of predicted labels against hand labels, and per point
    ``(precision, recall, support)``; ``confidence`` is the number of labelled items compared."""

    precision: float
    recall: float
    per_point: dict[str, tuple[float, float, int]]
    confidence: int


def score_tagging(predicted: Mapping[str, set[str]], truth: Mapping[str, set[str]]) -> TaggingScores:
    """Compare labels item by item (only items present in ``truth``).

    >>> s = score_tagging({"a": {"x", "y"}, "b": {"x"}}, {"a": {"x"}, "b": {"x", "z"}})
    >>> round(s.precision, 3), round(s.recall, 3), s.per_point["z"]
    (0.667, 0.667, (0.0, 0.0, 1))
    """
    counts: dict[str, list[int]] = {}
    for item, labels in truth.items():
        guess = predicted.get(item, set())
        for kp in labels | guess:
            tp_fp_fn = counts.setdefault(kp, [0, 0, 0])
            tp_fp_fn[0 if kp in labels and kp in guess else 1 if kp in guess else 2] += 1
    tp, fp, fn = (sum(c[i] for c in counts.values()) for i in range(3))
    per_point = {kp: (c[0] / (c[0] + c[1]) if c[0] + c[1] else 0.0, c[0] / (c[0] + c[2]) if c[0] + c[2] else 0.0,
                      c[0] + c[2]) for kp, c in sorted(counts.items())}
    return TaggingScores(tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fn) if tp + fn else 0.0, per_point,
                         len(truth))


def items_from_word_problems(problems: list[Mapping[str, str]], source: str, prefix: str = "",
                             subject: str = "math") -> list[dict]:
    """Item-bank rows (see :data:`homework._bank.COLUMNS`) for word problems given as Math23K/Ape210K
    records (``id``, ``original_text``, ``equation``, ``ans``): tagged knowledge points, difficulty from
    the solution steps, estimated minutes, grade, and a numeric answer key from the answer. Item ids are
    ``{prefix}-{id}`` (``prefix`` defaults to the lower-cased source name).

    >>> row = items_from_word_problems([{"id": "57", "original_text": "计算：1-(1/2)+(1/2)-(1/3)．",
    ...                                  "equation": "x=1-(1/2)+(1/2)-(1/3)", "ans": "(2/3)"}], "Ape210K")[0]
    >>> row["id"], row["knowledge_points"], row["difficulty"], row["minutes"], row["answer"], row["grade"]
    ('ape210k-57', 'number.fraction;number.calculation', 3, 3.0, '(2/3)', 5)
    """
    rows = []
    for problem in problems:
        text = problem["original_text"].strip()
        tags = tag_problem(text, problem.get("equation", ""), problem.get("ans", ""))
        rows.append({
            "id": f"{prefix or source.lower()}-{problem['id']}", "subject": subject, "grade": tags.grade, "type": "numeric",
            "stem": text, "answer": problem["ans"].strip(), "tolerance": 0.0,
            "knowledge_points": ";".join(tags.knowledge_points), "difficulty": tags.difficulty,
            "minutes": tags.minutes, "source": f"{source} {problem['id']}",
            "tags": f"equation:{problem.get('equation', '').strip()}",
        })
    return rows
