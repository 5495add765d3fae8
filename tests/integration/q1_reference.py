#!/usr/bin/env python3
"""An independent, plain implementation of DEBS 2014 Query 1 (../shared/specs/debs14.md),
written straight from the spec to cross-check strom's output on real samples.

usage: q1_reference.py INPUT OUTDIR [T0]   (input: clean CSV; writes the ten q1-*.csv files)
"""
import sys

SIZES = [60, 300, 900, 3600, 7200]


def thousandths(text):
    whole, _, frac = text.partition(".")
    return int(whole) * 1000 + int((frac + "000")[:3])


def main():
    path, outdir = sys.argv[1], sys.argv[2]
    t0 = int(sys.argv[3]) if len(sys.argv) > 3 else 1377986401
    rows = []
    with open(path) as f:
        for line in f:
            fid, ts, value, prop, plug, hh, house = line.rstrip("\r\n").split(",")
            if prop == "1":
                rows.append((int(ts), int(house), int(hh), int(plug), thousandths(value)))
    # per size: full[(key, slice)] = average of a finished slice; cur[key] = (slice, sum, n)
    # where key is ('p', house, hh, plug); houses are derived from plugs
    out = {s: ([], []) for s in SIZES}
    slices = {s: {} for s in SIZES}  # (house, hh, plug) -> {slice: [sum, n]}

    def avg_of(acc):
        return acc[0] / acc[1]

    def update(b):
        for s in SIZES:
            k = 86400 // s
            i = (b - 1 - t0) // s
            target = t0 + (i + 2) * s
            houses = {}
            for plug in sorted(slices[s]):
                per = slices[s][plug]
                if i not in per:
                    continue
                a = avg_of(per[i])
                houses.setdefault(plug[0], []).append((plug, a))
                hist = sorted(avg_of(per[j]) for j in range(i + 2 - k, -1, -k) if j in per)
                out[s][1].append((target, plug, pred(a, hist)))
            for house in sorted(houses):
                a = 0.0
                for _, pa in houses[house]:  # in (household, plug) order
                    a += pa
                hist = []
                for j in range(i + 2 - k, -1, -k):
                    parts = [avg_of(slices[s][p][j]) for p in sorted(slices[s])
                             if p[0] == house and j in slices[s][p]]
                    if parts:
                        h = 0.0
                        for x in parts:
                            h += x
                        hist.append(h)
                out[s][0].append((target, house, pred(a, sorted(hist))))

    def pred(a, hist):
        if not hist:
            med = a
        elif len(hist) % 2:
            med = hist[len(hist) // 2]
        else:
            med = (hist[len(hist) // 2 - 1] + hist[len(hist) // 2]) / 2.0
        return (a + med) / 2.0

    next_b = t0 + 30
    last_b = None
    for ts, house, hh, plug, mw in rows:
        while next_b <= ts:  # the first reading at or after b reaches it
            update(next_b)
            last_b = next_b
            next_b += 30
        for s in SIZES:
            acc = slices[s].setdefault((house, hh, plug), {}).setdefault((ts - t0) // s, [0, 0])
            acc[0] += mw
            acc[1] += 1
    if rows and rows[-1][0] + 1 != last_b:
        update(rows[-1][0] + 1)
    for s in SIZES:
        minutes = s // 60
        with open("%s/q1-house-%dmin.csv" % (outdir, minutes), "w") as f:
            for target, house, p in out[s][0]:
                f.write("%d,%d,%.3f\n" % (target, house, p / 1000.0))
        with open("%s/q1-plug-%dmin.csv" % (outdir, minutes), "w") as f:
            for target, (house, hh, plug), p in out[s][1]:
                f.write("%d,%d,%d,%d,%.3f\n" % (target, house, hh, plug, p / 1000.0))


main()
