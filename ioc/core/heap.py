"""Garbage-collector settings of the long-running processes (bridge, worker), for latency.

CPython's full collection walks every tracked object: ~70 ms in a worker holding 5,000
devices' rule state, seen every few tens of seconds in the bridge, the worker and the
bench's publisher while each handled 2,000 readings/s, and each pause holds up every
reading in flight. What exists once a process has started (registry, modules, clients)
lives as long as the process, so it is frozen out of collection; the young generation is
collected less often. Cycles made later are still collected.
"""

from __future__ import annotations

import gc
import logging

__all__ = ["settle_heap"]

log = logging.getLogger(__name__)


def settle_heap(young_threshold: int) -> int:
    """Collect once, move every surviving object out of the collector's sight (gc.freeze),
    and collect the young generation every `young_threshold` allocations (0: Python's
    defaults, nothing frozen); returns how many objects were frozen."""
    if young_threshold <= 0:
        return 0
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(young_threshold, older, oldest)
    frozen = gc.get_freeze_count()
    log.debug("heap: %d objects frozen, young generation every %d allocations", frozen,
              young_threshold)
    return frozen
