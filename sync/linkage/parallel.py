"""The other core for a large batch: work done in a forked copy of this process, its answer
sent back through a pipe. Pure Python work on data the copy already has (the customers'
index): only the answer crosses, so it is cheap to send, and one small message the other way
(the weights, learnt here while the copy compares: it then scores its records too).

Only where fork is safe: a POSIX system and a process with one thread (forking a threaded
process can copy a lock mid-use). Anywhere else, and if the copy fails, the caller does the
work itself: the answer never depends on it.

Off unless SYNCFIRM_LINKAGE_FORK=1: threads a library starts in C are not counted by
`threading`, and a copy that inherits a held lock would hang its worker with no timeout; on
the shared machine it measured no gain (decision 0025). The benchmark turns it on.
"""

import gc
import os
import pickle
import signal
import threading
import weakref
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


# This side's ends of the copies' inboxes: a copy forked later must not hold another's open,
# or that one would wait for ever for a message this side will not send.
_INBOXES: set[int] = set()


class Copy[T]:
    """A forked copy at work. Its work may wait for one message from this side (`tell`);
    `answer` gives what it sent back (None if it failed, was never told what it waited for,
    or there is no copy: the caller then does the work itself)."""

    def __init__(self, pid: int | None = None, inbox: int = -1, answers: int = -1):
        self._pid, self._inbox, self._answers = pid, inbox, answers

    def tell(self, message: object) -> None:
        """Sends the copy the message its work waits for (once; small: it is written whole
        before this returns)."""
        inbox, self._inbox = self._inbox, -1
        if inbox < 0:
            return
        _INBOXES.discard(inbox)
        try:
            with os.fdopen(inbox, "wb") as out:
                pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)
        except OSError:  # the copy has died: its answer says so
            pass

    def answer(self) -> T | None:
        if self._pid is None:
            return None
        if self._inbox >= 0:  # never told: its wait ends with nothing, and so does it
            _INBOXES.discard(self._inbox)
            os.close(self._inbox)
            self._inbox = -1
        pid, self._pid = self._pid, None
        try:
            with os.fdopen(self._answers, "rb") as source:
                data = source.read()
        except BaseException:  # interrupted (a handler raised: a time limit, Ctrl-C): the
            _ended(pid, stop=True)  # copy is stopped and reaped, not left a zombie
            raise
        if _ended(pid) != 0 or not data:
            return None
        return pickle.loads(data)  # noqa: S301 - our own copy's answer, through our own pipe


def _ended(pid: int, stop: bool = False) -> int:
    """The copy's exit status once it has ended (killed first if `stop`); -1 if the system
    reaped it (SIGCHLD ignored): how it ended is unknown, and a copy that failed may have
    written half an answer."""
    try:
        if stop:
            os.kill(pid, signal.SIGKILL)
        return os.waitpid(pid, 0)[1]
    except (ChildProcessError, ProcessLookupError):
        return -1


def _told(inbox: int) -> Callable[[], object]:
    def told() -> object:
        with os.fdopen(inbox, "rb") as source:
            return pickle.load(source)  # noqa: S301 - our own message, through our own pipe

    return told


def in_another_process[T](work: Callable[[Callable[[], object]], T]) -> Copy[T]:
    """Starts `work` in a forked copy; `work(told)` may call `told()` for the message this
    side sends with `Copy.tell` (it raises EOFError if none comes)."""
    if not available():
        return Copy()
    ends: list[int] = []
    try:
        ends += os.pipe()
        ends += os.pipe()
        pid = os.fork()
    except OSError:  # out of file descriptors or processes: the caller works alone
        for end in ends:
            os.close(end)
        return Copy()
    inbox_read, inbox_write, read, write = ends
    if pid == 0:  # the copy: work, send the answer, leave without running any clean-up
        status = 1
        try:
            for end in (read, inbox_write, *_INBOXES):
                os.close(end)
            # No collection in the copy: it would write into every object's header, and so
            # copy every page of the heap this process shares with it (a short life, then
            # _exit: nothing to collect for)
            gc.disable()
            # Pickled whole before the first byte is sent: a pipe holds 64 KB, so pickling
            # into it would stop at the first 64 KB until this side reads, and the rest of
            # the pickling would be done while this side waits (3 MB of checked records:
            # 0.03 s of it)
            answer = pickle.dumps(work(_told(inbox_read)), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write, "wb") as out:
                out.write(answer)
            status = 0
        finally:
            os._exit(status)
    os.close(write)
    os.close(inbox_read)
    _INBOXES.add(inbox_write)
    return Copy(pid, inbox_write, read)


def meanwhile[T](work: Callable[[], T]) -> Callable[[], T]:
    """`work` started in a forked copy while this side goes on; call the result for its
    answer, worked out here if there is no copy or it failed (an error `work` raises is then
    raised here, where the caller sees it). A result dropped uncalled reaps its copy."""
    copy = in_another_process(lambda told: work())

    def result() -> T:
        answer = copy.answer()
        return work() if answer is None else answer

    weakref.finalize(result, copy.answer)
    return result
