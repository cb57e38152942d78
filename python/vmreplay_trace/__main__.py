"""``python3 -m vmreplay_trace dump TRACE [-o OUT]``: the text form, as ``vmreplay dump``
prints it (byte for byte); ``python3 -m vmreplay_trace summary TRACE``: op and thread counts."""

import argparse
import sys

from . import TraceError, open as open_trace


def _dump(args):
    out = open(args.output, "w", encoding="ascii", newline="\n") if args.output else sys.stdout
    status = 0
    try:
        with open_trace(args.trace) as t:
            buf = []
            try:
                for line in t.dump_lines():
                    buf.append(line)
                    if len(buf) >= 65536:
                        out.write("\n".join(buf) + "\n")
                        buf = []
            except TraceError as e:
                out.write("".join(l + "\n" for l in buf))
                buf = []
                raise e
            out.write("".join(l + "\n" for l in buf))
    except TraceError as e:
        print("vmreplay_trace: error: %s" % e, file=sys.stderr)
        status = 1
    finally:
        if out is not sys.stdout:
            out.close()
        else:
            out.flush()
    return status


def _summary(args):
    try:
        with open_trace(args.trace) as t:
            s = t.summary()
    except TraceError as e:
        print("vmreplay_trace: error: %s" % e, file=sys.stderr)
        return 1
    print("events   %d in %d chunks, %d threads" % (s["events"], s["chunks"], len(s["threads"])))
    for name, count in s["ops"].items():
        print("  %-44s %8d %6.1f%%" % (name, count, 100.0 * count / max(s["events"], 1)))
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(prog="python3 -m vmreplay_trace")
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump", help="write a trace in the text form (as vmreplay dump)")
    d.add_argument("trace")
    d.add_argument("-o", "--output")
    d.set_defaults(run=_dump)
    s = sub.add_parser("summary", help="events per operation")
    s.add_argument("trace")
    s.set_defaults(run=_summary)
    args = p.parse_args(argv)
    try:
        return args.run(args)
    except BrokenPipeError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
