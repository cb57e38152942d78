"""The trace format's field and operation table (``vmreplay schema``, schema vmreplay.schema/1).

The C++ side has one table (``VMREPLAY_EVENT_FIELDS`` and ``kOpInfo`` in proto/event.h);
``vmreplay schema`` prints it as JSON, and this package decodes columns from a copy of that
JSON (``schema.json`` next to this file, regenerated with
``vmreplay schema > python/vmreplay_trace/schema.json``; tests/python/test_reader.py fails if
the copy differs from what the binary prints). ``$VMREPLAY_SCHEMA`` names another file to use.
"""

import json
import os

import numpy as np

SCHEMA_ID = "vmreplay.schema/1"

# Column numbers of the always-present columns of ChunkColumns (trace.proto).
OP_COLUMN, THREAD_COLUMN, TIMESTAMP_COLUMN, LATENCY_COLUMN = 1, 2, 3, 4

# Fallbacks for schema JSON printed before `vmreplay schema` had "bits" and "outcome" (commit
# 11526f8): the width of each Event member (proto/event.h; unlisted fields are 64-bit), used to
# refuse values the C++ decoder refuses ("a 32-bit field holds a value out of range"), and the
# first outcome field, before which the text form writes " ->" (text_format.cc).
_EVENT_H_32BIT = {
    "flags", "protect", "level", "fd", "file", "line", "hresult", "error", "old_protect",
    "q_alloc_protect", "q_state", "q_protect", "q_type", "load",
}

FIRST_OUTCOME_FIELD = "result"


class Field:
    """One optional event field: a column of ChunkColumns."""

    __slots__ = ("name", "column", "coding", "text", "bits", "outcome", "optional", "index")

    def __init__(self, index, entry, outcome_default):
        self.index = index
        self.name = entry["name"]
        self.column = int(entry["column"])
        self.coding = entry["coding"]  # "plain" | "delta" | "signed"
        self.text = entry["text"]  # "decimal" | "hex" | "string" | "origin"
        self.bits = int(entry.get("bits", 32 if self.name in _EVENT_H_32BIT else 64))
        # An observed outcome (after "->" in the text form) rather than an argument.
        self.outcome = bool(entry.get("outcome", outcome_default))
        # A column older traces leave out (read as 0): `origin`, since format 1.3.
        self.optional = bool(entry.get("optional", False))

    @property
    def signed(self):
        return self.coding == "signed"

    def __repr__(self):
        return "Field(%s, column=%d, %s, %s, %d-bit%s)" % (
            self.name, self.column, self.coding, self.text, self.bits,
            ", outcome" if self.outcome else "")


class Op:
    """One operation: its code, its text-form name and the fields it records (table order)."""

    __slots__ = ("code", "name", "fields")

    def __init__(self, entry):
        self.code = int(entry["code"])
        self.name = entry["name"]
        self.fields = tuple(entry["fields"])

    def __repr__(self):
        return "Op(%d, %s, %s)" % (self.code, self.name, list(self.fields))


class Schema:
    """The parsed table. ``fields`` in column order; ``ops`` indexed by code (0 is None)."""

    def __init__(self, doc, source="<schema>"):
        if doc.get("schema") != SCHEMA_ID:
            raise ValueError("%s: not a %s document (schema %r)" % (source, SCHEMA_ID,
                                                                   doc.get("schema")))
        self.source = source
        self.doc = doc
        self.format_major = int(doc["format_major"])
        self.format_minor = int(doc["format_minor"])
        names = [e["name"] for e in doc["fields"]]
        first_outcome = names.index(FIRST_OUTCOME_FIELD) if FIRST_OUTCOME_FIELD in names \
            else len(names)
        self.fields = [Field(i, e, i >= first_outcome) for i, e in enumerate(doc["fields"])]
        self.field_by_name = {f.name: f for f in self.fields}
        op_list = [Op(e) for e in doc["ops"]]
        self.op_count = max(op.code for op in op_list) + 1
        self.ops = [None] * self.op_count
        for op in op_list:
            self.ops[op.code] = op
            for name in op.fields:
                if name not in self.field_by_name:
                    raise ValueError("%s: op %s uses unknown field %r" % (source, op.name, name))
        self.op_names = [op.name if op else "Unknown" for op in self.ops]
        # uses[op, field]: does the op record the field.
        self.uses = np.zeros((self.op_count, len(self.fields)), dtype=bool)
        for op in op_list:
            for name in op.fields:
                self.uses[op.code, self.field_by_name[name].index] = True
        # The fields of each op in table order (what the text form and the columns use).
        self.op_fields = [
            tuple(f for f in self.fields if op is not None and self.uses[op.code, f.index])
            for op in self.ops
        ]

    def __repr__(self):
        return "Schema(format %d.%d, %d fields, %d ops, from %s)" % (
            self.format_major, self.format_minor, len(self.fields), self.op_count - 1,
            self.source)


_DEFAULT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schema.json")
_cache = {}


def load_schema(path=None):
    """Loads a schema JSON: ``path``, else ``$VMREPLAY_SCHEMA``, else the bundled schema.json."""
    path = path or os.environ.get("VMREPLAY_SCHEMA") or _DEFAULT_PATH
    path = os.path.abspath(path)
    if path not in _cache:
        with open(path, "r", encoding="utf-8") as f:
            _cache[path] = Schema(json.load(f), source=path)
    return _cache[path]
