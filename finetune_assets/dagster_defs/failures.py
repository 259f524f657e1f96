"""Which failures are worth a retry: the RetryPolicy retries anything, but only a dropped
connection deserves it; a bad path or a bad file fails once, with a message that says where."""

from collections.abc import Iterator
from contextlib import contextmanager

from dagster import Backoff, Failure, Jitter, RetryPolicy

from ..db.connection import PermanentDatabaseError, TransientDatabaseError

# For every step and check that touches the database: a restarting server or a dropped link usually
# passes within seconds; the wrapper below lets only those errors reach the policy.
DATABASE_RETRY = RetryPolicy(max_retries=3, delay=2, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS)


@contextmanager
def fail_without_retry_unless_transient(action: str) -> Iterator[None]:
    try:
        yield
    except (TransientDatabaseError, Failure):
        raise
    except PermanentDatabaseError as error:
        raise Failure(description=str(error), allow_retries=False) from None
    except Exception as error:
        raise Failure(description=f"{action} failed: {type(error).__name__}: {error}", allow_retries=False) from error
