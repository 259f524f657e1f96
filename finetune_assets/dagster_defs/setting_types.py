"""What each setting accepts, declared once as the type of the field it sets. The same type checks a
value the environment gives as text when the code location loads (``settings``) and a value the
launchpad gives as run config when a run starts, with the same words.

Two kinds of error, told apart by their type so that the load can name the variable the way a user
reads it: ``not_accepted`` (the value is not of the accepted form; the message says what is) and
``not_usable`` (the form is right, but nothing can be built from it, and the message says why).
"""

import json
import re
from collections.abc import Callable
from typing import Annotated, Any

from dagster import EnvVar
from pydantic import AfterValidator, BeforeValidator, Field, ValidationError, WrapValidator
from pydantic_core import PydanticCustomError

from ..core.line_formats import FORMATS
from ..core.redaction import RedactionPatternError, configured_rules
from ..core.splits import SPLIT_KEYS
from ..db.connection import TIMEOUT_ACCEPTED, timeout_problem, url_problem
from .executor import EXECUTORS
from .partitions import START_DATE

NOT_ACCEPTED = "not_accepted"
NOT_USABLE = "not_usable"
TRUE_WORDS = ("true", "1", "yes")
FALSE_WORDS = ("false", "0", "no")

# ASCII digits only: Python's int() and float() also take "٣", "1_000", "inf" and "nan".
WHOLE = re.compile(r"[0-9]+")
DECIMAL = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def not_usable(what: str) -> PydanticCustomError:
    return PydanticCustomError(NOT_USABLE, "{what}", {"what": what})


def _not_accepted(accepted: str) -> PydanticCustomError:
    return PydanticCustomError(NOT_ACCEPTED, "accepted: {accepted}", {"accepted": accepted})


def _accepting(accepted: str, read_text: Callable[[str], Any]) -> WrapValidator:
    """Any failure of the checks inside becomes one message saying what is accepted; ``read_text``
    turns the environment's text into the value the launchpad would give (raising ValueError)."""

    def check(value: Any, inner: Callable[[Any], Any]) -> Any:
        try:
            return inner(read_text(value.strip()) if isinstance(value, str) else value)
        except (ValueError, ValidationError):
            raise _not_accepted(accepted) from None

    return WrapValidator(check)


def _digits(form: re.Pattern) -> Callable[[str], str]:
    def read(text: str) -> str:
        if not form.fullmatch(text):
            raise ValueError(text)
        return text

    return read


def _word(text: str) -> bool:
    if text.lower() not in TRUE_WORDS + FALSE_WORDS:
        raise ValueError(text)
    return text.lower() in TRUE_WORDS


def _number(kind: type, accepted: str, **bounds: float) -> Any:
    finite = {"allow_inf_nan": False} if kind is float else {}
    form = WHOLE if kind is int else DECIMAL
    return Annotated[kind, Field(**bounds, **finite), _accepting(accepted, _digits(form))]


Fraction = _number(float, "a number from 0 to 1, such as 0.1", ge=0, le=1)
PositiveWhole = _number(int, "a whole number above 0, such as 16385", gt=0)
Count = _number(int, "a whole number, 0 or above, such as 3", ge=0)
Threshold = _number(float, "a number above 0 and at most 1, such as 0.85", gt=0, le=1)
Factor = _number(float, "a number above 1, such as 2", gt=1)
Days = _number(float, "a number of days, 0 or above, such as 7 or 0.5", ge=0)
Flag = Annotated[bool, _accepting(f"{', '.join(TRUE_WORDS)} or {', '.join(FALSE_WORDS)}", _word)]


def _timeout(seconds: float) -> float:
    # PostgreSQL rounds to whole milliseconds, and 0 ms switches a timeout off.
    if timeout_problem(seconds):
        raise ValueError(seconds)
    return seconds


Seconds = Annotated[
    float, Field(allow_inf_nan=False), AfterValidator(_timeout), _accepting(TIMEOUT_ACCEPTED, _digits(DECIMAL))
]


def _executor(name: str) -> str:
    if name not in EXECUTORS:
        raise ValueError(name)
    return name


Executor = Annotated[str, _accepting(", ".join(EXECUTORS), _executor)]


def _declared_start(text: str) -> str:
    """The partitions are declared in code as their modules are imported, before any setting is read,
    so a different first week cannot come from a setting; a deployment that still sets it hears so."""
    if text.strip() != START_DATE:
        raise PydanticCustomError(
            NOT_ACCEPTED,
            "the first week is declared in code (START_DATE in finetune_assets/dagster_defs/partitions.py, "
            "{start}): unset it, or change START_DATE there",
            {"start": START_DATE},
        )
    return START_DATE


DeclaredStart = Annotated[str, AfterValidator(_declared_start)]


def _format_list(value: Any) -> Any:
    return [name.strip() for name in value.split(",") if name.strip()] if isinstance(value, str) else value


def _known_formats(names: list[str]) -> list[str]:
    if unknown := [name for name in names if name not in FORMATS]:
        raise not_usable(f"unknown format(s) {unknown}: choose from {', '.join(FORMATS)}")
    if not names:
        raise not_usable(f"name at least one of {', '.join(FORMATS)}")
    return names


Formats = Annotated[list[str], AfterValidator(_known_formats), BeforeValidator(_format_list)]


def _known_split_key(name: str) -> str:
    if name.strip() not in SPLIT_KEYS:
        raise not_usable(f"{name!r} is not one of {', '.join(SPLIT_KEYS)}")
    return name.strip()


SplitKey = Annotated[str, AfterValidator(_known_split_key)]

PATTERNS_ACCEPTED = 'a JSON object of names to RE2 patterns, such as {"employee_id": "E\\\\d{6}"}'


def _pattern_object(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        patterns = json.loads(value)
    except ValueError:
        raise _not_accepted(PATTERNS_ACCEPTED) from None
    if not isinstance(patterns, dict) or not all(isinstance(v, str) for v in patterns.values()):
        raise _not_accepted(PATTERNS_ACCEPTED)
    return patterns


def _compiling(patterns: dict[str, str]) -> dict[str, str]:
    try:
        # Only what configuration adds: the built-in rules are tested, and compiling them would cost
        # every process that loads the code location a third of a second.
        configured_rules(patterns)
    except RedactionPatternError as error:
        raise not_usable(str(error)) from None
    return patterns


RedactionPatterns = Annotated[dict[str, str], AfterValidator(_compiling), BeforeValidator(_pattern_object)]


def _usable_url(url: Any) -> Any:
    # An EnvVar is read when a run starts; Dagster builds the resource again then, and checks it here.
    if isinstance(url, str) and not isinstance(url, EnvVar) and (problem := url_problem(url)):
        raise not_usable(f"{problem} (its value is not shown); unset it to use the demo database")
    return url


DatabaseUrl = Annotated[str | None, BeforeValidator(_usable_url)]
