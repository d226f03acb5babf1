"""The cyclic garbage collector held off while a batch is matched.

Matching 20,000 x 20,000 builds hundreds of thousands of small objects (features, keys,
patterns) that hold no cycles; each automatic collection pass walks every one of them
still alive, and those passes were a quarter of the run. Held off for the batch only: the
collector runs again, as it was set, as soon as the batch ends (or fails).
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
