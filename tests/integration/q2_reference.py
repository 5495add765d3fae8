#!/usr/bin/env python3
"""An independent, plain implementation of DEBS 2014 Query 2 (../shared/specs/debs14.md),
written straight from the spec to cross-check strom's output on real samples. Medians are
compared exactly, as integers in half-milliwatts.

usage: q2_reference.py INPUT OUTDIR   (input: clean CSV; writes q2-1h.csv and q2-24h.csv)
"""
import bisect
import collections
import sys


def thousandths(text):
    whole, _, frac = text.partition(".")
    return int(whole) * 1000 + int((frac + "000")[:3])


def median2(values):
    n = len(values)
    return 2 * values[n // 2] if n % 2 else values[n // 2 - 1] + values[n // 2]


def main():
    path, outdir = sys.argv[1], sys.argv[2]
    by_second = collections.OrderedDict()
    with open(path) as f:
        for line in f:
            fid, ts, value, prop, plug, hh, house = line.rstrip("\r\n").split(",")
            if prop == "1":
                by_second.setdefault(int(ts), []).append(
                    ((int(house), int(hh), int(plug)), thousandths(value)))
    for window, name in ((3600, "q2-1h.csv"), (86400, "q2-24h.csv")):
        everything = []                     # sorted values in the window
        per_plug = collections.defaultdict(list)
        fifo = collections.deque()          # (ts, plug, value) in arrival order
        last = {}
        out = []
        for t, readings in by_second.items():
            for plug, v in readings:
                bisect.insort(everything, v)
                bisect.insort(per_plug[plug], v)
                fifo.append((t, plug, v))
            while fifo and fifo[0][0] <= t - window:
                _, plug, v = fifo.popleft()
                everything.pop(bisect.bisect_left(everything, v))
                lst = per_plug[plug]
                lst.pop(bisect.bisect_left(lst, v))
                if not lst:
                    del per_plug[plug]
            m = median2(everything)
            houses = collections.defaultdict(lambda: [0, 0])
            for plug, lst in per_plug.items():
                houses[plug[0]][0] += 1
                houses[plug[0]][1] += median2(lst) > m
            for house in sorted(houses):
                n_in, n_over = houses[house]
                hundredths = (20000 * n_over + n_in) // (2 * n_in)
                if last.get(house) != hundredths:
                    last[house] = hundredths
                    out.append("%d,%d,%d,%d.%02d\n" % (t - window + 1, t, house,
                                                       hundredths // 100, hundredths % 100))
        with open("%s/%s" % (outdir, name), "w") as f:
            f.writelines(out)


main()
