#!/usr/bin/env python3
"""Checks python/vmreplay_trace against the vmreplay binary on every bundled trace.

    VMREPLAY=build/replayer/vmreplay VMREPLAY_SOURCE_DIR=. PYTHONPATH=build/python \
        python3 tests/python/test_reader.py [VMREPLAY [SOURCE_DIR]]

For every traces/**/*.pb: `python3 -m vmreplay_trace dump`'s text equals `vmreplay dump`'s
byte for byte (header line, every event line, footer line); the DataFrame has as many rows as
`vmreplay info` counts events. Also: the bundled schema.json equals `vmreplay schema`,
read_results() reads a real `vmreplay TRACE --json`, and a trace with one byte flipped inside a
chunk raises TraceError with the message `vmreplay dump` prints (file, byte offset, event index).

Exits 77 (ctest SKIP_RETURN_CODE) when a module the package needs is missing.
Standard library only, besides the package under test.
"""

import glob
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

REQUIRED = ("numpy", "pandas", "zstandard", "xxhash", "google.protobuf")


def _missing_modules():
    import importlib

    missing = []
    for name in REQUIRED:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


def _config():
    argv = [a for a in sys.argv[1:] if not a.startswith("-")]
    here = os.path.dirname(os.path.abspath(__file__))
    source = (argv[1] if len(argv) > 1 else None) or os.environ.get("VMREPLAY_SOURCE_DIR") or \
        os.path.normpath(os.path.join(here, "..", ".."))
    binary = (argv[0] if argv else None) or os.environ.get("VMREPLAY") or \
        shutil.which("vmreplay")
    return binary, source


VMREPLAY, SOURCE_DIR = _config()
# Trace families that must each contribute at least one trace (none may vanish silently).
FAMILIES = ("synth", "clr", "linux", "imported", "windows", "wine")


def run(*args, check=True):
    p = subprocess.run([VMREPLAY] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       cwd=SOURCE_DIR)
    if check and p.returncode != 0:
        raise AssertionError("vmreplay %s: exit %d: %s" % (" ".join(args), p.returncode,
                                                          p.stderr.decode(errors="replace")))
    return p


def all_traces():
    return sorted(glob.glob(os.path.join(SOURCE_DIR, "traces", "**", "*.pb"), recursive=True))


def chunk_frames(data):
    """(offset, payload length) of every chunk frame of a trace file."""
    off, out = 8, []
    while off < len(data):
        _, kind, _, _, _, length, _ = struct.unpack_from("<IBBBBIQ", data, off)
        if kind == 2:
            out.append((off, length))
        off += 20 + length
    return out


class ReaderTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        import vmreplay_trace

        cls.vt = vmreplay_trace
        cls.tmp = tempfile.mkdtemp(prefix="vmreplay_trace_test.")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_schema_json_is_current(self):
        printed = json.loads(run("schema").stdout)
        bundled = os.path.join(os.path.dirname(self.vt.__file__), "schema.json")
        with open(bundled, encoding="utf-8") as f:
            self.assertEqual(json.load(f), printed,
                             "%s is stale: regenerate it with `vmreplay schema > "
                             "python/vmreplay_trace/schema.json`" % bundled)

    def test_every_family_has_traces(self):
        traces = all_traces()
        for family in FAMILIES:
            self.assertTrue(any(os.sep + family + os.sep in t for t in traces),
                            "no traces/%s/*.pb under %s" % (family, SOURCE_DIR))

    def test_dump_matches_vmreplay_dump(self):
        traces = all_traces()
        self.assertGreater(len(traces), 0)
        for path in traces:
            name = os.path.relpath(path, SOURCE_DIR)
            with self.subTest(trace=name):
                expected = run("dump", path).stdout.decode("ascii").split("\n")
                with self.vt.open(path) as t:
                    got = list(t.dump_lines())
                self.assertEqual(expected[-1], "")  # text ends with a newline
                expected = expected[:-1]
                self.assertEqual(got[0], expected[0], "%s: header line differs" % name)
                self.assertEqual(len(got), len(expected), "%s: line count differs" % name)
                for i, (g, e) in enumerate(zip(got[1:-1], expected[1:-1])):
                    if g != e:
                        self.fail("%s: event %d differs:\n  vmreplay: %s\n  python:   %s"
                                  % (name, i, e, g))
                self.assertEqual(got[-1], expected[-1], "%s: footer line differs" % name)

    def test_cli_dump_is_byte_identical(self):
        path = os.path.join(SOURCE_DIR, "traces", "synth", "server-gc.pb")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [os.path.dirname(os.path.dirname(self.vt.__file__))] +
            os.environ.get("PYTHONPATH", "").split(os.pathsep)))
        p = subprocess.run([sys.executable, "-m", "vmreplay_trace", "dump", path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
        self.assertEqual(p.stdout, run("dump", path).stdout)

    def test_dataframe_rows_match_info(self):
        for path in all_traces():
            name = os.path.relpath(path, SOURCE_DIR)
            with self.subTest(trace=name):
                info = run("info", path).stdout.decode()
                m = re.search(r"^events\s+(\d+) in (\d+) threads", info, re.M)
                self.assertIsNotNone(m, "%s: no 'events N in M threads' line in vmreplay "
                                        "info:\n%s" % (name, info))
                with self.vt.open(path) as t:
                    df = t.to_dataframe()
                    self.assertEqual(len(df), int(m.group(1)))
                    self.assertEqual(df["thread"].nunique(), int(m.group(2)))
                    self.assertEqual(t.footer.event_count, len(df))
                    # Every field an op records is present, every other one is <NA>.
                    s = t.schema
                    for code in set(df["op"].cat.codes.tolist()):
                        rows = df[df["op"].cat.codes == code]
                        for f in s.fields:
                            na = rows[f.name].isna()
                            if s.uses[code, f.index]:
                                self.assertFalse(na.any(), (name, s.op_names[code], f.name))
                            else:
                                self.assertTrue(na.all(), (name, s.op_names[code], f.name))

    def test_events_agree_with_dataframe(self):
        path = os.path.join(SOURCE_DIR, "traces", "synth", "server-gc.pb")
        with self.vt.open(path) as t:
            df = t.to_dataframe(max_events=5000)
            events = []
            for e in t.events():
                events.append(e)
                if len(events) == 5000:
                    break
        for i in (0, 1, 9, 999, 4999):
            e, row = events[i], df.iloc[i]
            self.assertEqual(e["op"], row["op"])
            for k, v in e.items():
                if k == "op":
                    continue
                want = row[k].encode("utf-8", "surrogateescape") if k == "file" else int(row[k])
                self.assertEqual(v, want, (i, k))
            line = self.vt.format_event(e, t.schema)
            self.assertTrue(line.startswith(e["op"] + " thread="), line)

    def test_read_results(self):
        path = os.path.join(SOURCE_DIR, "traces", "synth", "server-gc.pb")
        out = os.path.join(self.tmp, "run.json")
        p = run(path, "--backend=sim", "--backend=arena", "--latency=off", "--json")
        with open(out, "wb") as f:
            f.write(p.stdout)
        res = self.vt.read_results(out)
        self.assertEqual(res.schema, "vmreplay.replay/2")
        self.assertEqual(len(res.runs), 2)
        self.assertEqual(len(res.runs), len(res.doc["runs"]))
        for col in ("backend", "manager", "platform", "heap", "events", "peak_commit_bytes",
                    "threads.mode"):
            self.assertIn(col, res.runs.columns)
        with self.vt.open(path) as t:
            n = t.footer.event_count
        self.assertTrue((res.runs["events"] == n).all())
        with open(out, "rb") as f:
            self.assertEqual(len(self.vt.read_results(f).runs), 2)
        with self.assertRaises(ValueError):
            self.vt.read_results('{"schema": "something/else"}')

    def test_corrupted_chunk_raises_trace_error(self):
        src = os.path.join(SOURCE_DIR, "traces", "synth", "server-gc.pb")
        with open(src, "rb") as f:
            data = bytearray(f.read())
        frames = chunk_frames(data)
        self.assertGreater(len(frames), 2)
        offset, length = frames[2]
        data[offset + 20 + length // 2] ^= 0x40
        bad = os.path.join(self.tmp, "bad.pb")
        with open(bad, "wb") as f:
            f.write(data)
        p = run("dump", bad, check=False)
        self.assertNotEqual(p.returncode, 0)
        with self.vt.open(bad) as t:
            lines = []
            with self.assertRaises(self.vt.TraceError) as cm:
                for line in t.dump_lines():
                    lines.append(line)
        msg = str(cm.exception)
        self.assertIn("byte offset %d" % offset, msg)
        self.assertIn(bad, msg)
        self.assertIn("event index", msg)
        self.assertEqual(cm.exception.offset, offset)
        # The same words vmreplay prints, and the same intact events before the damage.
        self.assertIn(msg, p.stderr.decode())
        self.assertEqual("\n".join(lines) + "\n", p.stdout.decode())
        with self.vt.open(bad) as t, self.assertRaises(self.vt.TraceError):
            t.to_dataframe()

    def test_truncated_and_not_a_trace(self):
        src = os.path.join(SOURCE_DIR, "traces", "imported", "mtrace_sample.pb")
        with open(src, "rb") as f:
            data = f.read()
        cut = os.path.join(self.tmp, "cut.pb")
        with open(cut, "wb") as f:
            f.write(data[:-5])
        with self.vt.open(cut) as t, self.assertRaises(self.vt.TraceError) as cm:
            t.to_dataframe()
        self.assertIn("byte offset", str(cm.exception))
        junk = os.path.join(self.tmp, "junk.pb")
        with open(junk, "wb") as f:
            f.write(b"not a trace at all")
        with self.assertRaises(self.vt.TraceError) as cm:
            self.vt.open(junk)
        self.assertIn("bad magic at byte offset 0", str(cm.exception))


def main():
    missing = _missing_modules()
    if missing:
        print("SKIP: python modules missing: %s" % ", ".join(missing))
        return 77
    try:
        import vmreplay_trace  # noqa: F401
    except ImportError as e:
        print("error: vmreplay_trace does not import (%s); PYTHONPATH must name the directory "
              "holding vmreplay_trace/ (with trace_pb2.py generated, python/build_pb2.sh)" % e)
        return 1
    if not VMREPLAY or not os.access(VMREPLAY, os.X_OK):
        print("error: no vmreplay binary: set VMREPLAY or pass it as the first argument")
        return 2
    argv = [sys.argv[0]] + [a for a in sys.argv[1:] if a.startswith("-")]
    prog = unittest.main(argv=argv, exit=False, verbosity=2)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
