"""Streaming a query's rows as Arrow batches, in bounded memory.

On PostgreSQL with psycopg the statement runs inside ``COPY (…) TO STDOUT`` and Arrow's CSV reader
parses the stream in C++: no Python object per row. Elsewhere (SQLite, the embedded default) rows
come from a server-side cursor in batches. Both read the same SQLAlchemy Core statement.
"""

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy import Connection, Select

BATCH_ROWS = 20_000
CSV_BLOCK_BYTES = 8 << 20


def stream_query(connection: Connection, statement: Select, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
        return _copy_as_csv(connection, statement, schema)
    return _fetch_batches(connection, statement, schema)


def _fetch_batches(connection: Connection, statement: Select, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    result = connection.execution_options(yield_per=BATCH_ROWS).execute(statement)
    for rows in result.partitions():
        columns = zip(*rows)
        arrays = [pa.array(values, type=field.type) for values, field in zip(columns, schema)]
        yield pa.RecordBatch.from_arrays(arrays, schema=schema)


class _CopyReader:
    """A file-like view of a psycopg COPY stream, for Arrow's reader."""

    def __init__(self, copy):
        self._chunks = iter(copy)
        self._buffer = bytearray()
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            size = len(self._buffer)
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def at_end(self) -> bool:
        if not self._buffer:
            self._buffer += next(self._chunks, b"")
        return not self._buffer

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.closed = True


def _copy_as_csv(connection: Connection, statement: Select, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    compiled = statement.compile(dialect=connection.dialect)
    # Timestamps leave the server in UTC, whatever its TimeZone setting, so Arrow reads them exactly.
    connection.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
    cursor = connection.connection.driver_connection.cursor()
    sql = f"COPY ({compiled}) TO STDOUT WITH (FORMAT csv)"
    with cursor.copy(sql, compiled.params) as copy:
        stream = _CopyReader(copy)
        if stream.at_end():  # Arrow refuses an empty CSV; no rows is a fine answer here
            return
        reader = pa_csv.open_csv(
            stream,
            read_options=pa_csv.ReadOptions(column_names=schema.names, block_size=CSV_BLOCK_BYTES, use_threads=False),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types=schema,
                # COPY writes NULL as an empty unquoted field and '' as a quoted one.
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
                true_values=["t"],
                false_values=["f"],
            ),
        )
        for batch in reader:
            yield batch
