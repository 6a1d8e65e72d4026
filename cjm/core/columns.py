"""Column-wise forms of the per-value rules of cjm.core.contracts, for whole Arrow batches.

Why exact copies rather than look-alikes: a mention's id is the key previously loaded
rows are found by, so an id computed here must be byte for byte what `stable_id` gives,
or a re-run would insert every row a second time. DuckDB hashes the same UTF-8 bytes
Python does; the string rules (Python's `str.strip` and `str.lower`, which know more
whitespace and case pairs than SQL does) run as Arrow kernels on ASCII values, where
both agree, and in Python on the rare others.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from functools import cache

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

# What Python's str.strip() removes among ASCII characters (str.isspace).
PY_ASCII_WHITESPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
_HMAC_BLOCK = 64  # bytes, SHA-256's block size
_lock = threading.Lock()


@cache
def _duckdb() -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB per process for the hashing; each call takes a cursor."""
    return duckdb.connect(":memory:")


def _hash_sql(expression: str, values: pa.Array, params: dict[str, object]) -> pa.Array:
    table = pa.table({"v": values.cast(pa.string())})
    with _lock:
        cursor = _duckdb().cursor()
    try:
        cursor.register("_values", table)
        out = cursor.execute(f"select {expression} as h from _values", params).arrow()
    finally:
        cursor.close()
    column = out.column("h") if isinstance(out, pa.Table) else out.read_all().column("h")
    return column.combine_chunks().cast(pa.string())


def stable_ids(source: str, native_ids: pa.Array) -> pa.Array:
    """`stable_id(source, native_id)` of every value; null where the native id is null."""
    return _hash_sql(
        "case when v is null then null else substr(sha256($prefix || v), 1, 32) end",
        native_ids,
        {"prefix": f"{source}\x1f"},
    )


def hash_customer_ids(raw_ids: pa.Array, secret: bytes) -> pa.Array:
    """`hash_customer_id(raw_id, secret)` of every value (HMAC-SHA256 spelled out, RFC 2104).

    The id is stripped and lower-cased by Python's rules first, as the per-value form does.
    """
    key = hashlib.sha256(secret).digest() if len(secret) > _HMAC_BLOCK else secret
    key = key.ljust(_HMAC_BLOCK, b"\0")
    inner = bytes(b ^ 0x36 for b in key)
    outer = bytes(b ^ 0x5C for b in key)
    normalized = lowered(cleaned(raw_ids))
    return _hash_sql(
        "case when v is null then null else substr(sha256($outer || unhex(sha256($inner || "
        "encode(v)))), 1, 32) end",
        normalized,
        {"inner": inner, "outer": outer},
    )


def _by_python_rule(
    values: pa.Array, ascii_kernel: Callable[[pa.Array], pa.Array], rule: Callable[[str], str]
) -> pa.Array:
    """`rule` on every value: the Arrow kernel where the value is ASCII, Python elsewhere."""
    values = values.cast(pa.string())
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    out = ascii_kernel(values)
    other = pc.invert(pc.string_is_ascii(values)).fill_null(False)
    if pc.any(other).as_py():
        rows = pc.indices_nonzero(other)
        fixed = [rule(v) for v in values.take(rows).to_pylist()]
        out = pc.replace_with_mask(out, other, pa.array(fixed, pa.string()))
    return out


def cleaned(values: pa.Array) -> pa.Array:
    """`clean_str` of every string: stripped, and null when nothing is left."""
    stripped = _by_python_rule(
        values, lambda a: pc.utf8_trim(a, characters=PY_ASCII_WHITESPACE), str.strip
    )
    return pc.if_else(pc.equal(pc.utf8_length(stripped), 0), None, stripped)


def lowered(values: pa.Array) -> pa.Array:
    """`str.lower` of every string."""
    return _by_python_rule(values, pc.ascii_lower, str.lower)
