"""The source tables as the database has them, compared with ``schema.py`` before a week's first query:
a drifted column fails with its table, its name, the type expected and the type found, instead of an
operator or CSV error from deep inside the query."""

import re

from sqlalchemy import Connection, inspect

from .schema import metadata

# Types that read the same through the queries: a string of any length, an integer of any width.
SAME_FAMILY = {
    "CHARACTER VARYING": "TEXT",
    "VARCHAR": "TEXT",
    "CHARACTER": "TEXT",
    "CHAR": "TEXT",
    "BPCHAR": "TEXT",
    "SMALLINT": "INTEGER",
    "BIGINT": "INTEGER",
}


class SourceSchemaError(ValueError):
    """A source table differs from schema.py; the message names each difference."""


def _family(type_name: str) -> str:
    bare = re.sub(r"\(.*?\)", "", type_name.upper()).strip()
    return SAME_FAMILY.get(bare, bare)


def schema_differences(connection: Connection, tables: tuple[str, ...]) -> list[str]:
    """Each way the named tables differ from schema.py: a missing table or column, or another type."""
    inspector = inspect(connection)
    dialect = connection.dialect
    differences = []
    for name in tables:
        if not inspector.has_table(name):
            differences.append(f"table {name} is missing")
            continue
        found = {column["name"]: column["type"].compile(dialect=dialect) for column in inspector.get_columns(name)}
        for column in metadata.tables[name].columns:
            expected = column.type.compile(dialect=dialect)
            if column.name not in found:
                differences.append(f"{name}.{column.name} is missing (expected {expected})")
            elif _family(found[column.name]) != _family(expected):
                differences.append(f"{name}.{column.name}: expected {expected}, found {found[column.name]}")
    return differences


def check_source_schema(connection: Connection, tables: tuple[str, ...]) -> None:
    """On PostgreSQL (the embedded SQLite demo is built from schema.py and types nothing strictly)."""
    if connection.dialect.name != "postgresql":
        return
    if differences := schema_differences(connection, tables):
        raise SourceSchemaError("the source tables differ from finetune_assets/db/schema.py: " + "; ".join(differences))
