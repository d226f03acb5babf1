"""The other core for a large batch: work done in a forked copy of this process, its answer
sent back through a pipe. Pure Python work on data the copy already has (the customers'
index): only the answer crosses, so it is cheap to send.

Only where fork is safe: a POSIX system and a process with one thread (forking a threaded
process can copy a lock mid-use). Anywhere else, and if the copy fails, the caller does the
work itself: the answer never depends on it.

Off unless SYNCFIRM_LINKAGE_FORK=1: threads a library starts in C are not counted by
`threading`, and a copy that inherits a held lock would hang its worker with no timeout; on
the shared machine it measured no gain (decision 0025). The benchmark turns it on.
"""

import os
import pickle
import threading
from collections.abc import Callable


class Lifetime:
    """Stands for its owner's lifetime where the owner takes no weak reference (a class
    compiled by mypyc): a clean-up tied to it runs when the owner drops it."""


def available() -> bool:
    """Whether a copy may be forked now (switched on, POSIX, one thread)."""
    return (
        os.environ.get("SYNCFIRM_LINKAGE_FORK") == "1"
        and hasattr(os, "fork")
        and threading.active_count() == 1
    )


def in_another_process[T](work: Callable[[], T]) -> Callable[[], T | None]:
    """Starts `work` in a forked copy; call the result for its answer (None if it failed)."""
    if not available():
        return lambda: None
    read, write = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read)
        os.close(write)
        return lambda: None
    if pid == 0:  # the copy: work, send the answer, leave without running any clean-up
        status = 1
        try:
            os.close(read)
            with os.fdopen(write, "wb") as out:
                pickle.dump(work(), out, protocol=pickle.HIGHEST_PROTOCOL)
            status = 0
        finally:
            os._exit(status)
    os.close(write)

    def answer() -> T | None:
        with os.fdopen(read, "rb") as source:
            data = source.read()
        _, status = os.waitpid(pid, 0)
        if status != 0 or not data:
            return None
        return pickle.loads(data)  # noqa: S301 - our own copy's answer, through our own pipe

    return answer
