"""Every provider call goes through here: the shared retry policy, the token refreshed on a
401, the per-connection rate-limit slot, and the outcome recorded on the connection.

Apart from `actions.py` so that `refresh.py` (which marks a connection for
re-authorisation through `actions`) and this module import each other in one direction.
"""

from syncfirm.metrics import PROVIDER_CALLS

from . import retries
from .actions import record_error, record_success
from .models import Connection
from .ratelimit import slot
from .refresh import access_token_for


def call_for_connection(
    connection: Connection,
    attempt,
    describe: str,
    *,
    retry_transient: bool = True,
    attempts: int | None = None,
):
    """Run a provider call under the shared retry policy (refreshing the token on a 401) and
    record the outcome on the connection, so a failure is never silent. `attempts=1` is
    for a page that must answer now rather than wait out a provider's trouble."""

    def limited():
        with slot(connection.system, connection.external_id):
            try:
                result = attempt()
            except BaseException as error:
                PROVIDER_CALLS.labels(connection.system, _outcome(error)).inc()
                raise
            PROVIDER_CALLS.labels(connection.system, "ok").inc()
            return result

    try:
        result = retries.call(
            limited,
            on_unauthorised=lambda: access_token_for(connection, force=True),
            describe=describe,
            retry_transient=retry_transient,
            attempts=attempts or retries.MAX_ATTEMPTS,
        )
    except retries.ProviderError as error:
        record_error(connection, str(error))
        raise
    record_success(connection)
    return result


def _outcome(error: BaseException) -> str:
    """How a call ended, for the metrics: the provider's answer in a word."""
    if isinstance(error, retries.RateLimited):
        return "throttled"
    if isinstance(error, retries.Transient):
        return "server_error"
    if isinstance(error, retries.Unauthorised):
        return "unauthorised"
    if isinstance(error, retries.NotFound):
        return "not_found"
    return "refused"
