"""The knowledge-point DAG, on a real prerequisite graph (a slice of Junyi Academy's exercise table)."""

from __future__ import annotations

from pathlib import Path

import pytest

from homework._errors import ItemBankError
from homework._graph import KnowledgeGraph

SLICE = Path(__file__).resolve().parents[2] / "fixtures" / "graph" / "junyi_slice.csv"


@pytest.fixture(scope="module")
def junyi() -> KnowledgeGraph:
    return KnowledgeGraph.from_junyi_csv(SLICE)


def test_the_real_cycle_in_junyi_is_named_by_the_edge_that_closes_it() -> None:
    # Junyi's table really has one: simplifying_radicals -> adding_and_subtracting_radicals closes
    # adding_and_subtracting_radicals -> radical_multiplication_and_division -> simplifying_radicals.
    with pytest.raises(ItemBankError, match="edge 'proportions_1' -> 'proportions_1' closes a cycle"):
        KnowledgeGraph.from_junyi_csv(SLICE, strict=True)
    lenient = KnowledgeGraph.from_junyi_csv(SLICE)
    assert [(a, b) for a, b, _ in lenient.rejected] == [
        ("proportions_1", "proportions_1"), ("simplifying_radicals", "adding_and_subtracting_radicals")]
    assert lenient.rejected[1][2].endswith(
        "adding_and_subtracting_radicals -> radical_multiplication_and_division -> simplifying_radicals"
        " -> adding_and_subtracting_radicals")


def test_junyi_slice_loads_as_a_dag(junyi: KnowledgeGraph) -> None:
    assert len(junyi) == 269 and len(junyi.edges) == 343 - 3  # the two refused edges and one listed twice
    order = junyi.topological_order()
    assert len(order) == len(junyi)
    rank = {kp: i for i, kp in enumerate(order)}
    assert all(rank[a] < rank[b] for a, b in junyi.edges)
    assert junyi.point("dividing_fractions").name_zh  # display names are read


def test_prerequisites_and_descendants_follow_the_real_edges(junyi: KnowledgeGraph) -> None:
    assert "multiplying_fractions_0.5" in junyi.prerequisites("multiplying_fractions")
    assert "multiplying_fractions" in junyi.descendants("multiplying_fractions_0.5")
    for kp in ("dividing_fractions", "converting_decimals_to_fractions_1"):
        for ancestor in junyi.ancestors(kp):
            assert kp in junyi.descendants(ancestor)


def test_an_edge_closing_a_cycle_in_the_real_graph_is_rejected_and_named(junyi: KnowledgeGraph) -> None:
    child = "multiplying_fractions"
    root = sorted(junyi.ancestors(child))[0]
    edges_before = len(junyi.edges)
    with pytest.raises(ItemBankError, match=rf"edge '{child}' -> '{root}' closes a cycle: {root} -> .* -> {child} -> {root}$"):
        junyi.add_edge(child, root)
    assert len(junyi.edges) == edges_before  # the graph is unchanged


def test_self_loops_unknown_points_and_bad_files_are_errors(tmp_path: Path) -> None:
    graph = KnowledgeGraph.from_edges([("a", "b")])
    with pytest.raises(ItemBankError, match="its own prerequisite"):
        graph.add_edge("a", "a")
    with pytest.raises(ItemBankError, match="unknown knowledge point 'zzz'"):
        graph.descendants("zzz")
    bad = tmp_path / "bad.csv"
    bad.write_text("name,topic\nx,y\n", encoding="utf-8")
    with pytest.raises(ItemBankError, match=r"missing column\(s\) \['prerequisites'\]"):
        KnowledgeGraph.from_junyi_csv(bad)
    with pytest.raises(ItemBankError, match="cannot read"):
        KnowledgeGraph.from_junyi_csv(tmp_path / "absent.csv")
