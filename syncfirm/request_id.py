"""One id per request, carried into the tasks it queues and onto every log line.

The id comes from the `X-Request-ID` header a proxy sets (kept when it is a plain token of
at most 64 characters), else a new one; the response carries it back. A task queued while a
request is handled keeps the request's id (django-q2's `pre_enqueue` puts it in the task,
`pre_execute` sets it in the worker), so one search finds a click and the sync it started.
A task queued by the schedule gets an id of its own.
"""

import logging
import re
import uuid
from contextvars import ContextVar

HEADER = "X-Request-ID"
_GIVEN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
current: ContextVar[str] = ContextVar("request_id", default="")


def new_id() -> str:
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get(HEADER, "")
        request_id = given if _GIVEN.match(given) else new_id()
        token = current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current.reset(token)
        response[HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Puts `request_id` on every record (empty outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current.get()
        return True


def stamp_task(sender, task: dict, **kwargs) -> None:
    """django-q2 `pre_enqueue`: the task remembers who asked for it."""
    task["request_id"] = current.get() or new_id()


def adopt_task(sender, func, task: dict, **kwargs) -> None:
    """django-q2 `pre_execute`, in the worker: its log lines carry the asker's id."""
    current.set(task.get("request_id") or new_id())


def release_task(sender, func, task: dict, **kwargs) -> None:
    """django-q2 `post_execute_in_worker`: the worker's next lines are not this task's."""
    current.set("")
