#!/usr/bin/env python3
"""Plots committed bytes over time, computed from a trace's own events.

    python3 python/examples/plot_commit.py TRACE -o commit.png [--vmreplay BIN]

The replay JSON (`vmreplay TRACE --json`) has only the peak and final commit, no time series
(the series is in --perfetto / --report output), so the curve is computed here from the
recorded calls: successful VirtualAlloc with MEM_COMMIT commits the pages of [addr, addr+size)
(of the new reservation when it also reserves), VirtualFree MEM_DECOMMIT decommits pages,
MEM_RELEASE drops the whole reservation. Pages are counted once however often they are
committed, as Windows charges them. Linux traces (no Win32 calls) get mapped bytes instead:
mmap adds, munmap removes, mremap moves pages. With --vmreplay, the recorded peak is compared
with the simulator's peak_commit_bytes from a `--backend=sim --json` replay.
"""

import argparse
import os
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

try:
    import vmreplay_trace as vt
except ImportError:  # not on PYTHONPATH: the package next to this example (python/)
    sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import vmreplay_trace as vt

MEM_COMMIT, MEM_RESERVE = 0x1000, 0x2000
MEM_DECOMMIT, MEM_RELEASE = 0x4000, 0x8000


def _ints(rows, *columns):
    """Python ints (the nullable UInt64 columns hand out numpy.uint64, which turns into a float
    when mixed with Python ints)."""
    return [[int(v) for v in rows[c].to_numpy(dtype="uint64", na_value=0)] for c in columns]


def _pages(addr, size, page):
    first = addr // page
    last = (addr + size + page - 1) // page
    return range(first, last)


def win32_commit(df, page):
    """(ts, committed bytes) after each successful VirtualAlloc / VirtualFree."""
    rows = df[df["op"].isin(["VirtualAlloc", "VirtualFree"])]
    reservations = {}  # base page -> range of pages
    committed = set()
    ts, values = [], []
    for op, t, addr, size, flags, result, error in zip(
            rows["op"], *_ints(rows, "ts", "addr", "size", "flags", "result", "error")):
        if error != 0:
            continue
        if op == "VirtualAlloc":
            if result == 0:
                continue
            if flags & MEM_RESERVE:
                reservations[result // page] = _pages(result, size, page)
            if flags & MEM_COMMIT:
                committed.update(_pages(result, size, page))
        elif flags & MEM_RELEASE:
            committed.difference_update(reservations.pop(addr // page, ()))
        elif flags & MEM_DECOMMIT:
            if size == 0:
                committed.difference_update(reservations.get(addr // page, ()))
            else:
                committed.difference_update(_pages(addr, size, page))
        ts.append(t)
        values.append(len(committed) * page)
    return ts, values


def linux_mapped(df, page):
    """(ts, mapped bytes) after each successful mmap / munmap / mremap."""
    rows = df[df["op"].isin(["mmap", "munmap", "mremap"])]
    mapped = set()
    ts, values = [], []
    for op, t, addr, size, new_size, result, error in zip(
            rows["op"], *_ints(rows, "ts", "addr", "size", "new_size", "result", "error")):
        if error != 0:
            continue
        if op == "mmap":
            mapped.update(_pages(result, size, page))
        elif op == "munmap":
            mapped.difference_update(_pages(addr, size, page))
        else:
            mapped.difference_update(_pages(addr, size, page))
            mapped.update(_pages(result, new_size, page))
        ts.append(t)
        values.append(len(mapped) * page)
    return ts, values


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("trace")
    ap.add_argument("-o", "--output", default="commit.png")
    ap.add_argument("--vmreplay", help="vmreplay binary: compare with a sim replay's peak")
    args = ap.parse_args()

    with vt.open(args.trace) as t:
        page = t.header.page_size or 4096
        df = t.to_dataframe()
    if df["op"].isin(["VirtualAlloc", "VirtualFree"]).any():
        ts, values = win32_commit(df, page)
        what = "committed"
    else:
        ts, values = linux_mapped(df, page)
        what = "mapped"
    if not values:
        print("%s: no VirtualAlloc/VirtualFree or mmap/munmap calls to plot" % args.trace)
        return 1
    peak = max(values)
    print("%s: %d calls, peak %s %.1f MiB, end %.1f MiB" % (
        args.trace, len(values), what, peak / 2**20, values[-1] / 2**20))
    if args.vmreplay:
        out = subprocess.run([args.vmreplay, args.trace, "--backend=sim", "--latency=off",
                              "--json"], stdout=subprocess.PIPE, check=True).stdout
        run = vt.read_results(out.decode()).runs.iloc[0]
        print("vmreplay sim replay: peak_commit_bytes %.1f MiB, commit_end_bytes %.1f MiB" % (
            run["peak_commit_bytes"] / 2**20, run["commit_end_bytes"] / 2**20))

    fig, ax = plt.subplots(figsize=(9, 4))
    ax.step([x / 1e9 for x in ts], [v / 2**20 for v in values], where="post", lw=1)
    ax.set_xlabel("time since first event (s)")
    ax.set_ylabel("%s (MiB)" % what)
    ax.set_title("%s: %s bytes (peak %.1f MiB)" % (os.path.basename(args.trace), what,
                                                  peak / 2**20))
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(args.output, dpi=110)
    print("wrote %s" % args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
