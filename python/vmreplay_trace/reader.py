"""Reads binary vmreplay traces (proto/trace.proto, framing in proto/frame.h).

A trace file is the 8-byte magic ``VMRTRACE``, then frames of
``[sync u32 = "VMRF"][kind u8][reserved u8 x3][length u32][XXH3-64 u64][payload]``, all little
endian: one Header, any number of Chunks, one Footer. A Chunk's ``columns`` are (usually
zstd-compressed) one serialized ``ChunkColumns``: column 1 the op code of every event,
2 the thread (delta + zigzag), 3 the timestamp (delta + zigzag), 4 the latency, then one column
per optional field (``vmreplay schema``) holding a value for each event whose op records that
field, in event order, coded ``plain``, ``delta`` (zigzag of the difference to the previous
value of the column within the chunk) or ``signed`` (zigzag). File names are trace-global
string ids; each chunk defines the strings it first uses from ``first_string_id`` on.

The reader is strict, like ``vmreplay dump`` / ``vmreplay check`` without ``--salvage``: the
first damaged frame raises :class:`TraceError` naming the file, the frame, its byte offset and
the event index at which the damage starts. Events before it are still yielded by the
streaming APIs (``chunks()``, ``events()``, ``dump_lines()``).
"""

import builtins
import mmap
import os
import struct

import numpy as np

from . import _pb2
from .schema import load_schema

pb = _pb2.load()

import xxhash  # noqa: E402  (after _pb2 so a missing trace_pb2 is reported first)
import zstandard  # noqa: E402

FILE_MAGIC = b"VMRTRACE"
FRAME_SYNC = 0x46524D56
FRAME_HEADER_SIZE = 20
MAX_FRAME_PAYLOAD = 64 << 20
MAX_EVENTS_PER_CHUNK = 1 << 20
KIND_HEADER, KIND_CHUNK, KIND_FOOTER = 1, 2, 3
_KIND_NAMES = {KIND_HEADER: "header", KIND_CHUNK: "chunk", KIND_FOOTER: "footer"}
_FRAME = struct.Struct("<IBBBBIQ")

_U1 = np.uint64(1)
_U0 = np.uint64(0)


class TraceError(Exception):
    """A trace that cannot be read. ``str(e)`` is one line in the C++ reader's style, e.g.
    ``t.pb: chunk 3 (byte offset 81234, event index 12288): chunk checksum mismatch; 12288
    events before it are intact``. Attributes: ``path``, ``offset`` (byte offset of the frame,
    or None), ``event_index`` (index of the first event the damage affects, or None)."""

    def __init__(self, message, path=None, offset=None, event_index=None):
        super().__init__(message)
        self.path = path
        self.offset = offset
        self.event_index = event_index


class _Damage(Exception):
    """Internal: what is wrong with one chunk, without file context."""


def _unzigzag_u(v):
    """Zigzag-decoded values as the uint64 two's-complement pattern (wrapping, like C++)."""
    return (v >> _U1) ^ (_U0 - (v & _U1))


class Chunk:
    """One decoded chunk, as columns (numpy arrays of length ``n``, one entry per event).

    ``op`` (uint8 op codes), ``thread``, ``ts``, ``lat`` (uint64). ``values[name]`` holds the
    field's column as stored (only the events that record the field, decoded: uint64, or int64
    for signed fields) and ``present[name]`` the boolean mask of the events that record it;
    ``column(name)`` gives the full-length array with 0 where absent. ``file`` holds string
    ids; ``Trace.string(id)`` resolves them.
    """

    __slots__ = ("first_event_index", "n", "op", "thread", "ts", "lat", "values", "present",
                 "offset", "ordinal")

    def column(self, name):
        vals = self.values[name]
        full = np.zeros(self.n, dtype=vals.dtype)
        full[self.present[name]] = vals
        return full


class Trace:
    """An open binary trace. Use :func:`open`.

    Attributes:
      path     the file name
      header   the ``Header`` protobuf message (trace_pb2.Header)
      schema   the field/op table used to decode (vmreplay_trace.schema.Schema)
    """

    def __init__(self, path, schema=None):
        self.path = os.fspath(path)
        self.schema = schema if schema is not None else load_schema()
        self._strings = {}  # id -> bytes
        self._last_string_id = 0
        self._footer = None
        self._complete = False
        self._zstd = zstandard.ZstdDecompressor()
        try:
            f = builtins.open(self.path, "rb")
        except OSError as e:
            raise TraceError("%s: cannot open: %s" % (self.path, e.strerror), self.path) from None
        with f:
            size = os.fstat(f.fileno()).st_size
            if size == 0:
                raise TraceError("%s: empty file (0 bytes), not a vmreplay trace" % self.path,
                                 self.path, 0)
            self._data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        self._size = size
        self._read_header()

    # -- context manager ---------------------------------------------------------------------
    def close(self):
        if self._data is not None:
            self._data.close()
            self._data = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- framing -----------------------------------------------------------------------------
    def _error(self, what, offset=None, event_index=None, frame=None):
        where = self.path
        if frame is not None:
            where += ": %s (byte offset %d, event index %d)" % (frame, offset, event_index)
        elif offset is not None:
            where += ": byte offset %d" % offset
        return TraceError("%s: %s" % (where, what), self.path, offset, event_index)

    def _frame_header(self, at):
        """Parses the frame header at `at`: (kind, length, checksum), or raises _Damage."""
        if self._size - at < FRAME_HEADER_SIZE:
            raise _Damage("truncated frame header (%d bytes left)" % (self._size - at))
        sync, kind, r0, r1, r2, length, checksum = _FRAME.unpack_from(self._data, at)
        if sync != FRAME_SYNC:
            raise _Damage("no frame sync word")
        if kind < 1 or kind > 3 or r0 or r1 or r2:
            raise _Damage("unknown frame kind %d" % kind)
        if length > MAX_FRAME_PAYLOAD:
            raise _Damage("frame length %d exceeds the 64 MiB limit" % length)
        if length > self._size - at - FRAME_HEADER_SIZE:
            raise _Damage("truncated %s: frame needs %d bytes, %d remain" % (
                _KIND_NAMES[kind], length, self._size - at - FRAME_HEADER_SIZE))
        return kind, length, checksum

    def _read_header(self):
        d = self._data
        if self._size < len(FILE_MAGIC) or d[:len(FILE_MAGIC)] != FILE_MAGIC:
            raise self._error("not a vmreplay trace (bad magic at byte offset 0)")
        at = len(FILE_MAGIC)
        try:
            kind, length, checksum = self._frame_header(at)
        except _Damage as e:
            raise self._error("header (byte offset 8): %s" % e) from None
        if kind != KIND_HEADER:
            raise self._error("header (byte offset 8): first frame is not a header")
        payload = d[at + FRAME_HEADER_SIZE:at + FRAME_HEADER_SIZE + length]
        if xxhash.xxh3_64_intdigest(payload) != checksum:
            raise self._error("header (byte offset 8): checksum mismatch")
        try:
            self.header = pb.Header.FromString(payload)
        except Exception:
            raise self._error("header (byte offset 8): header message does not parse") from None
        major = self.header.format_major
        if major == 0 or major > self.schema.format_major:
            raise self._error("format version %d.%d is not supported by this reader (it reads "
                              "%d.x)" % (major, self.header.format_minor,
                                         self.schema.format_major))
        self._first_frame = at + FRAME_HEADER_SIZE + length

    # -- chunks ------------------------------------------------------------------------------
    def chunks(self):
        """Yields every chunk as a :class:`Chunk` (columns), verifying frame checksums, the
        chunk sequence and the footer; raises TraceError at the first damage."""
        d = self._data
        at = self._first_frame
        next_event = 0
        ordinal = 0
        frame_sums = []
        footer = None
        self._strings = {}
        self._last_string_id = 0
        while True:
            if at == self._size:
                if footer is None:
                    raise self._error("truncated: the file ends without a footer; %d events "
                                      "before it are intact" % next_event, at, next_event,
                                      "footer")
                break
            label = "chunk %d" % ordinal
            try:
                kind, length, checksum = self._frame_header(at)
                payload = d[at + FRAME_HEADER_SIZE:at + FRAME_HEADER_SIZE + length]
                if xxhash.xxh3_64_intdigest(payload) != checksum:
                    raise _Damage("%s checksum mismatch" % _KIND_NAMES[kind])
                if footer is not None:
                    raise _Damage("data after the footer")
                if kind == KIND_HEADER:
                    raise _Damage("a second header frame")
                if kind == KIND_FOOTER:
                    label = "footer"
                    try:
                        footer = pb.Footer.FromString(payload)
                    except Exception:
                        raise _Damage("footer message does not parse") from None
                    if footer.event_count != next_event:
                        raise _Damage("footer counts %d events, the chunks hold %d" % (
                            footer.event_count, next_event))
                    expect = xxhash.xxh3_64_intdigest(
                        struct.pack("<%dQ" % len(frame_sums), *frame_sums))
                    if footer.chunk_count != len(frame_sums) or footer.chunks_checksum != expect:
                        raise _Damage(
                            "footer checksum of the chunk sequence does not match (%d chunks "
                            "expected, %d read)" % (footer.chunk_count, len(frame_sums)))
                    at += FRAME_HEADER_SIZE + length
                    continue
                chunk = self._decode_chunk(payload, next_event)
            except _Damage as e:
                raise self._error("%s; %d events before it are intact" % (e, next_event), at,
                                  next_event, label) from None
            chunk.offset = at
            chunk.ordinal = ordinal
            frame_sums.append(checksum)
            next_event += chunk.n
            ordinal += 1
            at += FRAME_HEADER_SIZE + length
            if chunk.n:
                yield chunk
        self._footer = footer
        self._complete = True

    def _decode_chunk(self, payload, next_event):
        s = self.schema
        try:
            c = pb.Chunk.FromString(payload)
        except Exception:
            raise _Damage("chunk message does not parse") from None
        n = c.event_count
        if n > MAX_EVENTS_PER_CHUNK:
            raise _Damage("chunk claims %d events (limit %d)" % (n, MAX_EVENTS_PER_CHUNK))
        if c.raw_size > (64 << 20):
            raise _Damage("chunk claims %d uncompressed bytes (limit 64 MiB)" % c.raw_size)
        if c.codec == pb.CODEC_ZSTD:
            try:
                params = zstandard.get_frame_parameters(c.columns)
            except zstandard.ZstdError as e:
                raise _Damage("zstd decompression failed: %s" % e) from None
            if params.content_size != c.raw_size:
                raise _Damage("zstd frame size does not match the chunk's raw size %d"
                              % c.raw_size)
            try:
                raw = self._zstd.decompress(c.columns, max_output_size=c.raw_size)
            except zstandard.ZstdError as e:
                raise _Damage("zstd decompression failed: %s" % e) from None
            if len(raw) != c.raw_size:
                raise _Damage("zstd decompression failed: short output")
        elif c.codec == pb.CODEC_NONE:
            raw = c.columns
            if len(raw) != c.raw_size:
                raise _Damage("uncompressed columns size does not match raw size")
        else:
            raise _Damage("unknown codec %d" % c.codec)
        try:
            cols = pb.ChunkColumns.FromString(raw)
        except Exception:
            raise _Damage("chunk columns do not parse") from None
        if c.first_event_index != next_event:
            raise _Damage("chunk starts at event %d, expected %d" % (c.first_event_index,
                                                                    next_event))

        def column(name, expected):
            a = np.array(getattr(cols, name), dtype=np.uint64)
            if a.size != expected:
                raise _Damage("column '%s' holds %d values, the operations need %d"
                              % (name, a.size, expected))
            return a

        op = column("op", n)
        bad = (op == 0) | (op >= s.op_count)
        if bad.any():
            i = int(np.argmax(bad))
            raise _Damage("event %d: unknown operation code %d" % (next_event + i, int(op[i])))
        op = op.astype(np.uint8)
        chunk = Chunk()
        chunk.first_event_index = next_event
        chunk.n = n
        chunk.op = op
        chunk.thread = np.cumsum(_unzigzag_u(column("thread", n)), dtype=np.uint64)
        chunk.ts = np.cumsum(_unzigzag_u(column("timestamp_ns", n)), dtype=np.uint64)
        chunk.lat = column("latency_ns", n)
        present = s.uses[op]  # n x fields
        expected = present.sum(axis=0)
        chunk.values = {}
        chunk.present = {}
        for f in s.fields:
            if f.optional and len(getattr(cols, f.name)) == 0:  # before format 1.3: all 0
                stored = np.zeros(int(expected[f.index]), dtype=np.uint64)
            else:
                stored = column(f.name, int(expected[f.index]))
            if f.coding == "delta":
                v = np.cumsum(_unzigzag_u(stored), dtype=np.uint64)
            elif f.coding == "signed":
                v = _unzigzag_u(stored).view(np.int64)
            else:
                v = stored
            if f.bits < 64 and v.size:
                if f.coding == "signed":
                    lim = 1 << (f.bits - 1)
                    if int(v.min()) < -lim or int(v.max()) >= lim:
                        raise _Damage("a 32-bit field holds a value out of range")
                elif int(v.max()) >> f.bits:
                    raise _Damage("a 32-bit field holds a value out of range")
            chunk.values[f.name] = v
            chunk.present[f.name] = present[:, f.index]
        # Strings: ids ascend without gaps across the trace (proto/chunk_codec.cc).
        strings = list(cols.strings)
        if strings:
            first = cols.first_string_id
            if first <= self._last_string_id:
                raise _Damage("chunk redefines string id %d" % first)
            if first != self._last_string_id + 1:
                raise _Damage("string ids jump from %d to %d" % (self._last_string_id, first))
            for i, text in enumerate(strings):
                self._strings[first + i] = text
            self._last_string_id = first + len(strings) - 1
        if "file" in chunk.values and chunk.values["file"].size:
            top = int(chunk.values["file"].max())
            if top > self._last_string_id:
                raise _Damage("file string id %d is not defined" % top)
        return chunk

    # -- public API --------------------------------------------------------------------------
    def string(self, string_id):
        """The bytes of a trace string id (b"" for 0), as far as the chunks read so far."""
        return self._strings.get(int(string_id), b"")

    @property
    def footer(self):
        """The ``Footer`` message (reads and checks the whole trace on first use)."""
        if not self._complete:
            for _ in self.chunks():
                pass
        return self._footer

    def events(self):
        """Yields one dict per event: ``op`` (name), ``thread``, ``ts``, ``lat``, then the op's
        fields by name in table order (ints; ``file`` as bytes, exactly as recorded)."""
        ops = self.schema.op_names
        op_fields = [tuple(f.name for f in fs) for fs in self.schema.op_fields]
        for chunk in self.chunks():
            its = {}
            for name, vals in chunk.values.items():
                if name == "file":
                    its[name] = iter([self.string(i) for i in vals.tolist()])
                else:
                    its[name] = iter(vals.tolist())
            for code, thread, ts, lat in zip(chunk.op.tolist(), chunk.thread.tolist(),
                                             chunk.ts.tolist(), chunk.lat.tolist()):
                e = {"op": ops[code], "thread": thread, "ts": ts, "lat": lat}
                for name in op_fields[code]:
                    e[name] = next(its[name])
                yield e

    def __iter__(self):
        return self.events()

    def to_dataframe(self, strings="str", max_events=None):
        """All events as a pandas DataFrame, one row per event (the index is the event index).

        Columns: ``op`` (categorical of op names), ``thread``, ``ts``, ``lat`` (uint64), then
        every field of the schema in table order as a nullable integer column (UInt64 / UInt32,
        Int32 for the signed ``fd`` and ``line``); a field an event's op does not record is
        <NA>. ``file`` holds the file name: str (bytes decoded as UTF-8 with surrogateescape,
        so ``s.encode("utf-8", "surrogateescape")`` gives the recorded bytes back) when
        ``strings="str"``, bytes when ``strings="bytes"``; <NA>/None where absent.
        ``max_events`` stops after that many events (whole chunks are decoded).
        """
        import pandas as pd

        s = self.schema
        parts = []
        total = 0
        for chunk in self.chunks():
            parts.append(chunk)
            total += chunk.n
            if max_events is not None and total >= max_events:
                break

        def cat(get, dtype):
            if not parts:
                return np.zeros(0, dtype=dtype)
            return np.concatenate([get(c) for c in parts]).astype(dtype, copy=False)

        op = cat(lambda c: c.op, np.uint8)
        data = {
            "op": pd.Categorical.from_codes(op.astype(np.int16), categories=s.op_names),
            "thread": cat(lambda c: c.thread, np.uint64),
            "ts": cat(lambda c: c.ts, np.uint64),
            "lat": cat(lambda c: c.lat, np.uint64),
        }
        for f in s.fields:
            present = cat(lambda c: c.present[f.name], bool)
            values = cat(lambda c: c.column(f.name), np.int64 if f.signed else np.uint64)
            if f.text == "string":
                col = np.full(len(values), None, dtype=object)
                ids = values[present].tolist()
                if strings == "bytes":
                    col[present] = [self.string(i) for i in ids] if ids else []
                else:
                    col[present] = [self.string(i).decode("utf-8", "surrogateescape")
                                    for i in ids] if ids else []
                    col = pd.array(col, dtype="string")
                data[f.name] = col
                continue
            if f.signed:
                dtype, np_dtype = ("Int32", np.int32) if f.bits == 32 else ("Int64", np.int64)
            else:
                dtype, np_dtype = ("UInt32", np.uint32) if f.bits == 32 else ("UInt64",
                                                                              np.uint64)
            data[f.name] = pd.arrays.IntegerArray(values.astype(np_dtype), ~present) \
                if hasattr(pd.arrays, "IntegerArray") else pd.array(values, dtype=dtype)
        df = pd.DataFrame(data)
        if max_events is not None:
            df = df.iloc[:max_events]
        df.index.name = "event"
        return df

    def summary(self):
        """Counts from one pass over the trace: a dict with ``events``, ``chunks``, ``ops``
        ({name: count}, by count), ``threads`` ({thread id: count}), ``first_ts``, ``last_ts``
        (ns, relative to header.start_time_unix_ns), ``recorded_failures`` (events whose
        ``error`` field is non-zero) and ``footer`` (the Footer message)."""
        s = self.schema
        op_counts = np.zeros(s.op_count, dtype=np.int64)
        threads = {}
        events = chunks = failures = 0
        first_ts = last_ts = None
        for c in self.chunks():
            events += c.n
            chunks += 1
            op_counts += np.bincount(c.op, minlength=s.op_count)
            t, k = np.unique(c.thread, return_counts=True)
            for tid, cnt in zip(t.tolist(), k.tolist()):
                threads[tid] = threads.get(tid, 0) + cnt
            if "error" in c.values:
                failures += int(np.count_nonzero(c.values["error"]))
            first_ts = int(c.ts[0]) if first_ts is None else first_ts
            last_ts = int(c.ts[-1])
        ops = {s.op_names[i]: int(op_counts[i]) for i in np.argsort(-op_counts, kind="stable")
               if op_counts[i]}
        return {"events": events, "chunks": chunks, "ops": ops, "threads": threads,
                "first_ts": first_ts, "last_ts": last_ts, "recorded_failures": failures,
                "footer": self._footer}

    def dump_lines(self, header=True, footer=True):
        """Yields the text form ``vmreplay dump`` writes, one line (without newline) at a time:
        the header line, one line per event, and the footer line (proto/text_format.md)."""
        from . import text

        if header:
            yield text.format_header_line(self.header)
        for chunk in self.chunks():
            yield from text.chunk_lines(chunk, self)
        if footer and self._footer is not None:
            yield text.format_footer_line(self._footer)


def open(path, schema=None):  # noqa: A001  (vmreplay_trace.open, like builtins.open)
    """Opens a binary trace and reads its header. Raises TraceError if it is not readable."""
    return Trace(path, schema=schema)
