"""The knowledge-point prerequisite graph: a DAG whose edge ``a -> b`` reads "a is a prerequisite of b".

Adding an edge that would close a cycle is refused, and the error names that edge and the cycle:

>>> g = KnowledgeGraph()
>>> g.add_edge("fraction", "fraction.add")
>>> g.add_edge("fraction.add", "fraction.mixed_ops")
>>> g.add_edge("fraction.mixed_ops", "fraction")
Traceback (most recent call last):
...
homework._errors.ItemBankError: edge 'fraction.mixed_ops' -> 'fraction' closes a cycle: fraction -> fraction.add -> fraction.mixed_ops -> fraction
>>> sorted(g.descendants("fraction"))
['fraction.add', 'fraction.mixed_ops']
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path

from homework._errors import ItemBankError
from homework._items import KnowledgePoint

__all__ = ["KnowledgeGraph"]

log = logging.getLogger(__name__)


class KnowledgeGraph:
    """Knowledge points and their prerequisite edges, kept acyclic at every step."""

    def __init__(self) -> None:
        self._points: dict[str, KnowledgePoint] = {}
        self._next: dict[str, set[str]] = {}
        self._prev: dict[str, set[str]] = {}
        self.rejected: list[tuple[str, str, str]] = []
        """Edges refused by a lenient load (``strict=False``): ``(prerequisite, dependent, reason)``."""

    def __contains__(self, kp: object) -> bool:
        return kp in self._next

    def __len__(self) -> int:
        return len(self._next)

    def __iter__(self) -> Iterator[str]:
        return iter(self._next)

    @property
    def edges(self) -> list[tuple[str, str]]:
        """Every ``(prerequisite, dependent)`` pair."""
        return [(a, b) for a, targets in self._next.items() for b in sorted(targets)]

    def point(self, kp: str) -> KnowledgePoint:
        """The :class:`KnowledgePoint` named ``kp`` (a bare one if only its id is known)."""
        if kp not in self._next:
            raise ItemBankError(f"unknown knowledge point {kp!r}")
        return self._points.get(kp, KnowledgePoint(kp, kp))

    def add_point(self, point: KnowledgePoint | str) -> None:
        """Add a knowledge point (an id or a full :class:`KnowledgePoint`)."""
        kp = point if isinstance(point, str) else point.id
        if not kp:
            raise ItemBankError("a knowledge point needs a non-empty id")
        if isinstance(point, KnowledgePoint):
            self._points[kp] = point
        self._next.setdefault(kp, set())
        self._prev.setdefault(kp, set())

    def add_edge(self, prerequisite: str, dependent: str) -> None:
        """Add ``prerequisite -> dependent``; raise :class:`ItemBankError` if it would close a cycle."""
        if prerequisite == dependent:
            raise ItemBankError(f"edge {prerequisite!r} -> {dependent!r} closes a cycle: a point "
                                "cannot be its own prerequisite")
        self.add_point(prerequisite)
        self.add_point(dependent)
        path = self._path(dependent, prerequisite)
        if path:
            cycle = " -> ".join([*path, dependent])
            raise ItemBankError(f"edge {prerequisite!r} -> {dependent!r} closes a cycle: {cycle}")
        self._next[prerequisite].add(dependent)
        self._prev[dependent].add(prerequisite)

    def _path(self, start: str, goal: str) -> list[str]:
        """A path ``start ... goal`` along existing edges, or ``[]``."""
        parent: dict[str, str] = {start: start}
        stack = [start]
        while stack:
            node = stack.pop()
            if node == goal:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return path[::-1]
            for nxt in self._next[node]:
                if nxt not in parent:
                    parent[nxt] = node
                    stack.append(nxt)
        return []

    def _reach(self, kp: str, links: dict[str, set[str]]) -> set[str]:
        if kp not in links:
            raise ItemBankError(f"unknown knowledge point {kp!r}")
        seen: set[str] = set()
        stack = [kp]
        while stack:
            for nxt in links[stack.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return seen

    def descendants(self, kp: str) -> set[str]:
        """Every point that builds on ``kp`` (directly or through others), not ``kp`` itself."""
        return self._reach(kp, self._next)

    def ancestors(self, kp: str) -> set[str]:
        """Every prerequisite of ``kp``, direct or indirect."""
        return self._reach(kp, self._prev)

    def prerequisites(self, kp: str) -> set[str]:
        """The direct prerequisites of ``kp``."""
        if kp not in self._prev:
            raise ItemBankError(f"unknown knowledge point {kp!r}")
        return set(self._prev[kp])

    def topological_order(self) -> list[str]:
        """All points, every prerequisite before what depends on it (ties broken by id)."""
        import heapq

        indegree = {kp: len(prev) for kp, prev in self._prev.items()}
        ready = [kp for kp, n in indegree.items() if n == 0]
        heapq.heapify(ready)
        order: list[str] = []
        while ready:
            kp = heapq.heappop(ready)
            order.append(kp)
            for nxt in self._next[kp]:
                indegree[nxt] -= 1
                if indegree[nxt] == 0:
                    heapq.heappush(ready, nxt)
        return order

    @classmethod
    def from_edges(cls, edges: Iterable[tuple[str, str]], points: Iterable[KnowledgePoint | str] = (),
                   strict: bool = True) -> KnowledgeGraph:
        """A graph from ``(prerequisite, dependent)`` pairs, checked edge by edge in order.

        With ``strict`` the first edge that closes a cycle raises :class:`ItemBankError`; otherwise such
        edges are left out, logged as warnings and listed in :attr:`rejected`.
        """
        graph = cls()
        for point in points:
            graph.add_point(point)
        for a, b in edges:
            try:
                graph.add_edge(a, b)
            except ItemBankError as exc:
                if strict:
                    raise
                log.warning("left out prerequisite edge: %s", exc)
                graph.add_point(a)
                graph.add_point(b)
                graph.rejected.append((a, b, str(exc)))
        return graph

    @classmethod
    def from_junyi_csv(cls, path: str | Path, strict: bool = False) -> KnowledgeGraph:
        """Read a Junyi Academy exercise table (``name``, ``prerequisites``, ``pretty_display_name``...).

        Each exercise becomes a point named by its ``name``; ``prerequisites`` (comma-separated) become
        edges into it. An unreadable file or a missing column raises :class:`ItemBankError`. The real
        table lists ``proportions_1`` as its own prerequisite, so by default (``strict=False``) an edge
        closing a cycle is left out and recorded in :attr:`rejected` rather than refusing the file.
        """
        import pandas as pd

        try:
            table = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
        except (OSError, ValueError) as exc:
            raise ItemBankError(f"cannot read Junyi exercise table {path}: {exc}") from exc
        missing = {"name", "prerequisites"} - set(table.columns)
        if missing:
            raise ItemBankError(f"{path}: missing column(s) {sorted(missing)}")
        names = table.get("pretty_display_name", table["name"])
        topics = table.get("topic", pd.Series([""] * len(table)))
        points = [KnowledgePoint(n, n, zh, f"topic: {t}") for n, zh, t in zip(table["name"], names, topics,
                                                                            strict=True)]
        edges = [(pre.strip(), name) for name, pres in zip(table["name"], table["prerequisites"], strict=True)
                 for pre in pres.split(",") if pre.strip()]
        log.debug("junyi table %s: %d exercises, %d prerequisite edges", path, len(points), len(edges))
        return cls.from_edges(edges, points, strict=strict)
