"""Which failures are worth a retry: only a database that dropped or is not there yet (a transient
error, as ``db.connection`` tells them apart) is tried again, by the step asking Dagster to
(``RetryRequested``: three times, waiting 2, 4, then 8 seconds); everything else fails once, with a
message that says what was being done and where."""

from collections.abc import Iterator
from contextlib import contextmanager

from dagster import Failure, OpExecutionContext, RetryRequested

from ..db.connection import PermanentDatabaseError, TransientDatabaseError

DATABASE_RETRIES = 3
FIRST_WAIT_SECONDS = 2


def retry_wait(retry_number: int) -> float:
    """Seconds before the next try: doubling, so a restarting server has about 14 s in all."""
    return FIRST_WAIT_SECONDS * 2**retry_number


@contextmanager
def failing_as(context: OpExecutionContext, action: str) -> Iterator[None]:
    try:
        yield
    except (Failure, RetryRequested):
        raise
    except TransientDatabaseError as error:
        raise RetryRequested(max_retries=DATABASE_RETRIES, seconds_to_wait=retry_wait(context.retry_number)) from error
    except PermanentDatabaseError as error:
        raise Failure(description=str(error), allow_retries=False) from None
    except Exception as error:
        raise Failure(description=f"{action} failed: {type(error).__name__}: {error}", allow_retries=False) from error
