"""The review queue as a teacher works through it: answer groups, and what a key says is right.

Identical readings of one field are one decision (as Gradescope's answer groups are): the same
assignment, the same question and the same reading once normalised (:func:`normalise_reading`:
full width to half width, case, spaces, 。 for .). :func:`group_reviews` makes the groups, largest
first; an item with nothing read is a group of its own, since two blank readings say nothing about
two crops being alike. :func:`key_answer` is what "the student wrote the key" records, and
:func:`key_text` how a page shows the key.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from homework.storage import ReviewItem


def normalise_reading(value: str | None) -> str | None:
    """The reading a group is formed on; ``None`` when nothing was read.

    >>> normalise_reading(" ３/４ "), normalise_reading("0。5"), normalise_reading("Ab c"), normalise_reading("  ")
    ('3/4', '0.5', 'abc', None)
    """
    if value is None:
        return None
    text = "".join(unicodedata.normalize("NFKC", value).replace("。", ".").casefold().split())
    return text or None


@dataclass(frozen=True)
class ReviewGroup:
    """Open review items of one field with one reading: one decision grades them all.

    ``group_id`` is stable while its members are open (a hash of assignment, field and reading; for
    an item with nothing read, ``r`` and its review id).
    """

    group_id: str
    assignment_id: str
    field_id: str
    reading: str | None
    items: tuple[ReviewItem, ...]

    @property
    def review_ids(self) -> tuple[int, ...]:
        return tuple(item.review_id for item in self.items)


def group_id(assignment_id: str, field_id: str, reading: str | None, review_id: int) -> str:
    """The id of the group an item belongs to (see :class:`ReviewGroup`)."""
    if reading is None:
        return f"r{review_id}"
    digest = hashlib.sha1(f"{assignment_id}\x1f{field_id}\x1f{reading}".encode()).hexdigest()[:16]
    return f"g{digest}"


def group_reviews(items: Iterable[ReviewItem]) -> list[ReviewGroup]:
    """Group review items by assignment, field and normalised reading; largest groups first, then in
    queue order. Items keep their queue order inside a group.

    >>> item = lambda rid, field, value: ReviewItem(rid, "hw1", f"s{rid}", field, 1, None, "unsure", "open", value, 0.6)
    >>> groups = group_reviews([item(1, "q1", "3/4"), item(2, "q2", "3/4"), item(3, "q1", " 3/4"),
    ...                         item(4, "q1", None), item(5, "q1", None)])
    >>> [(g.field_id, g.reading, g.review_ids) for g in groups]
    [('q1', '3/4', (1, 3)), ('q2', '3/4', (2,)), ('q1', None, (4,)), ('q1', None, (5,))]
    """
    groups: dict[str, list[ReviewItem]] = {}
    for item in items:
        reading = normalise_reading(item.value_read)
        groups.setdefault(group_id(item.assignment_id, item.field_id, reading, item.review_id), []).append(item)
    made = [ReviewGroup(gid, members[0].assignment_id, members[0].field_id,
                        normalise_reading(members[0].value_read), tuple(members))
            for gid, members in groups.items()]
    return sorted(made, key=lambda g: (-len(g.items), g.items[0].review_id))


def key_answer(key: Any) -> str | None:
    """What "the student wrote the key" records: the key's first right answer as a student writes it
    (``None`` without a key).

    >>> from scanning import parse_key
    >>> keys = ({"kind": "choice", "correct": ["C", "A"], "multiple": True}, {"kind": "number", "values": ["3/4"]},
    ...         {"kind": "true_false", "answer": False}, {"kind": "text", "accepted": ["北京"]},
    ...         {"kind": "score", "max_points": 5})
    >>> [key_answer(parse_key(k)) for k in keys]
    ['AC', '3/4', 'F', '北京', '5']
    """
    if key is None:
        return None
    kind = getattr(key, "kind", None)
    if kind == "choice":
        return "".join(sorted(key.correct))
    if kind == "true_false":
        return "T" if key.answer else "F"
    if kind == "number":
        return str(key.spellings[0])
    if kind == "text":
        return str(key.accepted[0])
    if kind == "expression":
        return str(key.answer)
    if kind == "score":
        return f"{key.max_points:g}"
    answers = getattr(key, "answers", None)  # a foreign sheet's QuestionKey
    if answers:
        return str(max(answers, key=answers.get))
    return None


def key_text(key: Any) -> str:
    """The key as a page shows it beside the crop.

    >>> from scanning import parse_key
    >>> keys = ({"kind": "choice", "correct": ["C", "A"], "multiple": True}, {"kind": "number", "values": ["3/4"], "units": ["cm"]},
    ...         {"kind": "true_false", "answer": True}, {"kind": "text", "accepted": ["area", "面积"]},
    ...         {"kind": "score", "max_points": 5})
    >>> [key_text(parse_key(k)) for k in keys]
    ['A, C', '3/4 = 0.75 (cm)', '√', 'area / 面积', '0-5 分']
    >>> key_text(None)
    'no key'
    """
    if key is None:
        return "no key"
    kind = getattr(key, "kind", None)
    if kind == "choice":
        return ", ".join(sorted(key.correct))
    if kind == "true_false":
        return "√" if key.answer else "×"
    if kind == "number":
        units = f" ({', '.join(key.units)})" if key.units else ""
        return " = ".join(key.spellings[:2]) + units
    if kind == "text":
        return " / ".join(key.accepted)
    if kind == "expression":
        return str(key.answer)
    if kind == "score":
        return f"0-{key.max_points:g} 分"
    answers = getattr(key, "answers", None)
    if answers:
        return ", ".join(f"{a} ({p:g})" for a, p in answers.items())
    return str(key)
