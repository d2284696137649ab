"""Batch wire format: outbox records as columns, each column in its cheapest lossless form,
then xz (or gzip, for receivers without lzma such as Node) over the JSON (sync/PROTOCOL.md).

Why columns: a batch of answers repeats the same keys thousands of times and its values are
near-copies of each other (ids differing by a counter, timestamps seconds apart, a monotonic
reading that moves in step with the wall clock). Stored as columns and turned into deltas and
residuals, most of that becomes constants and small numbers that compress to almost nothing.
Every batch a ledger seals is checked by decoding it again.

A decoded batch is ``{"v", "box", "batch", "first", "last", "callbacks"?, "records": [...]}``
with each record a :class:`Record`.

Inside: ``_batch`` (grouping, header, binary part), ``_search`` (each column's cheapest
form) and ``_cost`` (the price it is judged by), ``forms/`` (one module per column form:
its encode, plan reuse and decode), ``_numbers`` / ``_time`` / ``_varints`` (value
helpers), ``_compression``.
"""

from ._batch import FORMAT_VERSION, batch_encoder, decode_batch, encode_batch
from ._compression import COMPRESSIONS, compress, decompress
from ._record import CodecError, Record

__all__ = ["COMPRESSIONS", "FORMAT_VERSION", "CodecError", "Record", "batch_encoder",
           "compress", "decode_batch", "decompress", "encode_batch"]
