"""The text form ``vmreplay dump`` writes (proto/text_format.md, proto/text_format.cc).

Event lines: ``OPNAME thread=N ts=N lat=N`` then the op's fields as ``name=value`` in table
order, with the token ``->`` before the outcome fields (schema "outcome"); hex fields as
``0x`` + lowercase hex, signed ones sign-extended, ``file`` quoted with the one byte escape of
proto/portable/byte_escape.h. Header and footer lines: the message in protobuf's single-line
text format wrapped as ``header { ... }`` / ``footer { ... }``, every string and bytes value in
that same escape (C++ TextFormat::Printer in single-line mode with an escaping value printer).
"""

import numpy as np

_ESCAPE = []
for _c in range(256):
    if _c in (0x22, 0x5C):
        _ESCAPE.append("\\" + chr(_c))
    elif _c == 0x0A:
        _ESCAPE.append("\\n")
    elif _c == 0x09:
        _ESCAPE.append("\\t")
    elif _c < 0x20 or _c >= 0x7F:
        _ESCAPE.append("\\x%02x" % _c)
    else:
        _ESCAPE.append(chr(_c))
del _c


def escape_bytes(value):
    """Escapes bytes (or a str, taken as UTF-8 with surrogateescape) as the text form does."""
    if isinstance(value, str):
        value = value.encode("utf-8", "surrogateescape")
    return "".join([_ESCAPE[b] for b in value])


def quote(value):
    return '"' + escape_bytes(value) + '"'


# -- header / footer: protobuf text format, single line ---------------------------------------

def _scalar_text(field, value):
    from google.protobuf.descriptor import FieldDescriptor as FD

    t = field.type
    if t in (FD.TYPE_STRING, FD.TYPE_BYTES):
        return quote(value)
    if t == FD.TYPE_ENUM:
        ev = field.enum_type.values_by_number.get(value)
        return ev.name if ev is not None else str(value)
    if t == FD.TYPE_BOOL:
        return "true" if value else "false"
    if t in (FD.TYPE_FLOAT, FD.TYPE_DOUBLE):
        return repr(value)  # no such field in trace.proto today
    return str(value)


def _message_text(msg, out):
    for field, value in msg.ListFields():  # set fields, in field-number order
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            key_f = field.message_type.fields_by_name["key"]
            val_f = field.message_type.fields_by_name["value"]
            for key in sorted(value):  # TextFormat prints map entries sorted by key
                out.append(field.name + " { ")
                out.append("key: " + _scalar_text(key_f, key) + " ")
                v = value[key]
                if val_f.message_type is not None:
                    out.append("value { ")
                    _message_text(v, out)
                    out.append("} ")
                else:
                    out.append("value: " + _scalar_text(val_f, v) + " ")
                out.append("} ")
            continue
        items = value if field.label == field.LABEL_REPEATED else [value]
        for v in items:
            if field.message_type is not None:
                out.append(field.name + " { ")
                _message_text(v, out)
                out.append("} ")
            else:
                out.append(field.name + ": " + _scalar_text(field, v) + " ")


def format_message_line(keyword, msg):
    out = [keyword, " { "]
    _message_text(msg, out)
    out.append("}")
    return "".join(out)


def format_header_line(header):
    """``header { ... }`` exactly as vmreplay dump prints it."""
    return format_message_line("header", header)


def format_footer_line(footer):
    """``footer { ... }`` exactly as vmreplay dump prints it."""
    return format_message_line("footer", footer)


# -- event lines -----------------------------------------------------------------------------

def _op_formats(schema):
    """Per op code: (%-format string, field tuple). The format takes thread, ts, lat, then
    the op's field values (file as its already quoted text)."""
    formats = []
    for code, op in enumerate(schema.ops):
        if op is None:
            formats.append(None)
            continue
        parts = [op.name.replace("%", "%%"), " thread=%d ts=%d lat=%d"]
        arrow = False
        for f in schema.fields:
            if f.outcome and not arrow:  # " ->" before the first outcome's slot
                parts.append(" ->")
                arrow = True
            if not schema.uses[code, f.index]:
                continue
            if f.text == "string":
                parts.append(" %s=%%s" % f.name)
            elif f.text == "origin":  # " origin=NAME", left out when 0 (a hooked call)
                parts.append("%s")
            elif f.signed or f.text == "decimal":
                parts.append(" %s=%%d" % f.name)
            else:
                parts.append(" %s=0x%%x" % f.name)
        if not arrow:
            parts.append(" ->")
        formats.append(("".join(parts), schema.op_fields[code]))
    return formats


_format_cache = {}


def _formats_for(schema):
    key = id(schema)
    if key not in _format_cache:
        _format_cache[key] = (schema, _op_formats(schema))
    return _format_cache[key][1]


# CallOrigin in proto/event.h.
ORIGIN_NAMES = ("hooked", "libc", "heap", "loader", "other")


def origin_text(name, value):
    if value == 0:
        return ""
    return " %s=%s" % (name, ORIGIN_NAMES[value] if value < len(ORIGIN_NAMES) else value)


def chunk_lines(chunk, trace):
    """The event lines of one decoded chunk (a list of str, in event order).

    Vectorised per op: the rows of each op are gathered with numpy and formatted with one
    %-format, then put back in event order."""
    schema = trace.schema
    formats = _formats_for(schema)
    n = chunk.n
    lines = [None] * n
    full = {}
    quoted = {}
    for code in np.unique(chunk.op).tolist():
        fmt, fields = formats[code]
        idx = np.flatnonzero(chunk.op == code)
        cols = [chunk.thread[idx].tolist(), chunk.ts[idx].tolist(), chunk.lat[idx].tolist()]
        for f in fields:
            if f.name not in full:
                full[f.name] = chunk.column(f.name)
            vals = full[f.name][idx].tolist()
            if f.text == "string":
                out = []
                for i in vals:
                    q = quoted.get(i)
                    if q is None:
                        q = quoted[i] = quote(trace.string(i))
                    out.append(q)
                vals = out
            elif f.text == "origin":
                vals = [origin_text(f.name, v) for v in vals]
            cols.append(vals)
        rendered = [fmt % row for row in zip(*cols)]
        for pos, line in zip(idx.tolist(), rendered):
            lines[pos] = line
    return lines


def format_event(event, schema):
    """One event dict (as Trace.events() yields) as its text line."""
    fmt, fields = _formats_for(schema)[schema.op_names.index(event["op"])]
    row = [event["thread"], event["ts"], event["lat"]]
    for f in fields:
        v = event[f.name]
        row.append(quote(v) if f.text == "string" else origin_text(f.name, v)
                   if f.text == "origin" else v)
    return fmt % tuple(row)
