"""A batch of CRM records mapped and validated, on the other core while this side reads the
books into the matcher (a large first sync: 20,000 records take about half a second to map
and validate, the books' matcher about a second; side by side, the checking costs nothing).

Pure: records in, (values, problems) out, the same as one `check_customer` after another; no
database, no provider. The copy is `linkage.parallel`'s (off unless SYNCFIRM_LINKAGE_FORK=1,
and only for a batch of `linkage.matcher.PARALLEL_FROM` or more); without it the records are
checked here, when asked for.
"""

from collections.abc import Callable, Mapping, Sequence

from .linkage import parallel
from .linkage.matcher import PARALLEL_FROM
from .mapping import FieldMap, map_record
from .validation import check_customer

# One record to check: its properties and the field map they are read through.
Record = tuple[Mapping[str, object], FieldMap]
Result = tuple[dict[str, str], list[str]]  # the normalised values and the problems found


def check_all(
    records: Sequence[Record], country: str, limits: Mapping[str, int] | None = None
) -> list[Result]:
    out = []
    for properties, field_map in records:
        checked = check_customer(map_record(properties, field_map), country, limits)
        out.append((checked.values, checked.problems))
    return out


def check_all_meanwhile(
    records: Sequence[Record], country: str, limits: Mapping[str, int] | None = None
) -> Callable[[], list[Result]]:
    """`check_all`, started on the other core for a large batch; call the result for it (a
    field map that is malformed raises there, as it would here)."""
    if len(records) < PARALLEL_FROM:
        return lambda: check_all(records, country, limits)
    return parallel.meanwhile(lambda: check_all(records, country, limits))
