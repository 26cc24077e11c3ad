"""Compressed input and output: zstd (the zstandard package) or gzip, input told by its magic.

`drvtape export --compress` writes zstd; import and ingest read plain, zstd and gzip files
alike. Damage inside the compressed stream is a DrvtapeError naming the file.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

import zstandard

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_LEVEL = 3  # zstd's default: ~300 MB/s here, a JSONL export ~12x smaller
DAMAGE = (zstandard.ZstdError, gzip.BadGzipFile, EOFError, zlib.error)


def compression_of(stream: io.BufferedReader) -> str | None:
    """'zstd', 'gzip' or None (plain), from the stream's first bytes (peeked, not consumed)."""
    head = stream.peek(4)[:4]
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    return None


def decompressed(stream: BinaryIO) -> BinaryIO:
    """The stream's bytes, decompressed when its magic says it is compressed."""
    if not hasattr(stream, "peek"):  # e.g. a BytesIO standing in for stdin
        stream = io.BufferedReader(stream)
    kind = compression_of(stream)
    if kind == "zstd":
        return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(stream, read_across_frames=True,
                                                                          closefd=False), 1 << 20)
    if kind == "gzip":
        return gzip.GzipFile(fileobj=stream, mode="rb")
    return stream


@contextmanager
def zstd_writer(stream: BinaryIO) -> Iterator[BinaryIO]:
    """A binary stream that writes zstd into stream (left open), the frame ended on exit."""
    with zstandard.ZstdCompressor(level=ZSTD_LEVEL).stream_writer(stream, closefd=False) as writer:
        yield writer
