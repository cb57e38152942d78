"""Replay results: the JSON ``vmreplay TRACE --json`` writes (replayer/report/replay_report.h).

Schema ``vmreplay.replay/2``: ``{"schema", "trace", "runs": [cell, ...]}``, one cell per
manager x platform x heap, each with scalars (events, peak_commit_bytes, ...), small objects
(threads, foreign_mappings, platform_calls, syscalls, manager_figures, notifications,
latency_ns: {OP: {count, mean, p50, p90, p99, p999, max}}) and lists (first_divergences,
notes). ``vmreplay.replay/1`` (before cells; "backend" only) is read too, as vmreplay diff does.
"""

import io
import json
import os

SCHEMAS = ("vmreplay.replay/2", "vmreplay.replay/1")


class ReplayResults:
    """``doc``: the whole JSON document (dict). ``trace``: the trace path it names.
    ``runs``: a pandas DataFrame, one row per cell, the nested objects flattened with dots
    (``threads.mode``, ``platform_calls.VirtualAlloc commit``, ``latency_ns.HostAlloc.p99``);
    lists (``first_divergences``, ``notes``) stay Python lists; null is <NA>/NaN.
    ``latency``: a long DataFrame of latency_ns, one row per (cell, op)."""

    def __init__(self, doc):
        self.doc = doc
        self.schema = doc.get("schema")
        self.trace = doc.get("trace")
        self._runs = None
        self._latency = None

    def __getitem__(self, key):
        return self.doc[key]

    @property
    def cells(self):
        return self.doc["runs"]

    @property
    def runs(self):
        if self._runs is None:
            import pandas as pd

            rows = []
            for run in self.cells:
                row = {}
                _flatten(run, "", row)
                rows.append(row)
            self._runs = pd.DataFrame(rows)
        return self._runs

    @property
    def latency(self):
        if self._latency is None:
            import pandas as pd

            rows = []
            for run in self.cells:
                for op, h in (run.get("latency_ns") or {}).items():
                    rows.append(dict(backend=run.get("backend"), manager=run.get("manager"),
                                     platform=run.get("platform"), heap=run.get("heap"),
                                     op=op, **h))
            self._latency = pd.DataFrame(rows)
        return self._latency

    def __repr__(self):
        return "ReplayResults(%s, %r, %d cells)" % (self.schema, self.trace, len(self.cells))


def _flatten(obj, prefix, out):
    for k, v in obj.items():
        key = prefix + k
        if isinstance(v, dict):
            _flatten(v, key + ".", out)
        else:
            out[key] = v


def read_results(source):
    """Reads replay results from a path, a file object, or the JSON text itself (a str that
    starts with "{"). Raises ValueError if it is not a vmreplay.replay document."""
    if hasattr(source, "read"):
        text = source.read()
        name = getattr(source, "name", "<file>")
    elif isinstance(source, str) and source.lstrip().startswith("{"):
        text, name = source, "<string>"
    else:
        name = os.fspath(source)
        with io.open(name, "r", encoding="utf-8") as f:
            text = f.read()
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    doc = json.loads(text)
    if not isinstance(doc, dict) or doc.get("schema") not in SCHEMAS:
        raise ValueError("%s: not a vmreplay replay result (schema %r; expected one of %s)"
                         % (name, doc.get("schema") if isinstance(doc, dict) else None,
                            ", ".join(SCHEMAS)))
    return ReplayResults(doc)
