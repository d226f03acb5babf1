"""What every accounting adapter does with the rows it reads: each parsed on its own, one that
cannot be read (`numbers.BadValue`) kept aside with its reason so it never stops the read of
the others, and a record asked for by id refused in words when it cannot be read."""

from collections.abc import Callable, Iterable
from typing import ClassVar

from . import retries
from .numbers import BadValue
from .records import Unreadable


class ReadsRecords:
    unreadable: list[Unreadable]
    # How the provider's row names the record that could not be read (its id and number).
    bad_record: ClassVar[Callable[[str, object, BadValue], Unreadable]]

    def _each[T](self, rows: Iterable, parse: Callable[[dict], T], kind: str) -> list[T]:
        parsed = []
        for row in rows:
            try:
                parsed.append(parse(row))
            except BadValue as error:
                self.unreadable.append(type(self).bad_record(kind, row, error))
        return parsed

    def _one[T](self, row: dict, parse: Callable[[dict], T], kind: str) -> T:
        try:
            return parse(row)
        except BadValue as error:
            raise retries.ProviderError(str(type(self).bad_record(kind, row, error))) from error


def as_object(value: object, field: str) -> dict:
    """A JSON object where one belongs (None: empty), else BadValue."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadValue(field, "", "is not an object")
    return value
