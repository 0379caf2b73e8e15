"""The cyclic garbage collector tuned for a long-running server process.

Python collects generation 0 after every 700 net allocations and, every so often, walks every
tracked object of the process. A busy Joule allocates hundreds of objects per message (frames,
payload dicts, ORM states, futures) and holds tens of thousands more that live for the whole run
(compiled schemas, mappers, 10 000 connections): collections were a quarter of a MeterValues'
CPU in benchmarks/core_path.py (T3). After start-up the long-lived objects are frozen out of the
collector's view, and generation 0 is collected less often. Memory is still freed at once by
reference counting; only reference cycles wait a little longer.
"""

from __future__ import annotations

import gc


def tune_for_serving(gen0_threshold: int) -> None:
    """Freeze what start-up built and collect young objects every `gen0_threshold` allocations.

    0 keeps Python's defaults (nothing frozen).
    """
    if gen0_threshold <= 0:
        return
    gc.collect()
    gc.freeze()  # start-up objects: never scanned again (they live as long as the process)
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(gen0_threshold, gen1, gen2)
