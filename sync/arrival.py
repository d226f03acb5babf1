"""The daily probe's second half: did a change made in one system reach the other within the
client's window? Measured on records that changed anyway (the probe writes nothing): each
linked customer changed in the last day in the CRM or the books, and the first sync run
that looked at it afterwards. A change no run looked at within the window (plus the time a
run takes) is late; health says how many and which.

Pure: changes and the runs' looks in, the late ones out; `health_record.check_arrivals`
reads the providers and the runs.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

# A scheduled pull starts once per window and takes a while: a change is late only when no
# run looked at it within the window and this much more.
RUN_TIME = timedelta(minutes=10)


@dataclass(frozen=True)
class Change:
    origin: str  # the system it was made in, as people say it ("HubSpot")
    name: str
    key: str  # "crm:<id>" or "books:<id>": how a run's outcome names the record
    changed_at: datetime


@dataclass(frozen=True)
class Late:
    change: Change
    lag: timedelta | None  # None: no run has looked at it yet


def late_changes(
    changes: list[Change], looked: dict[str, list[datetime]], now: datetime, window: timedelta
) -> list[Late]:
    """`looked`: record key → when runs that looked at it finished."""
    allowed = window + RUN_TIME
    out = []
    for change in changes:
        after = [at for at in looked.get(change.key, []) if at >= change.changed_at]
        if after:
            lag = min(after) - change.changed_at
            if lag > allowed:
                out.append(Late(change, lag))
        elif now - change.changed_at > allowed:
            out.append(Late(change, None))
    return out
