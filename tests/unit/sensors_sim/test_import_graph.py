"""The simulator's modules import each other as a DAG (no cycle hidden by a local import)."""

from __future__ import annotations

import itertools

import grimp


def test_no_import_cycle_inside_the_simulator() -> None:
    graph = grimp.build_graph("ioc")
    modules = sorted(m for m in graph.modules if m.startswith("ioc.sensors_sim."))
    cycles = [
        (a, b) for a, b in itertools.combinations(modules, 2)
        if graph.chain_exists(importer=a, imported=b)
        and graph.chain_exists(importer=b, imported=a)
    ]
    assert cycles == []
