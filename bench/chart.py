#!/usr/bin/env python3
"""Latency against dataset size, as an SVG with no dependencies: bench/chart.py POINTS.csv OUT.svg

POINTS.csv rows: sims,series,ms (one row per measured point; series names become the legend).
The x axis is logarithmic (SIM count), the y axis linear (milliseconds, from 0).
"""
import csv
import math
import sys
from collections import defaultdict

W, H = 760, 440
LEFT, RIGHT, TOP, BOTTOM = 70, 220, 40, 60
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


def main(src, out):
    series = defaultdict(list)
    for row in csv.DictReader(open(src)):
        series[row["series"]].append((int(row["sims"]), float(row["ms"])))
    xs = sorted({x for pts in series.values() for x, _ in pts})
    ymax = max(y for pts in series.values() for _, y in pts)
    ytop = nice(ymax * 1.15)
    lx0, lx1 = math.log10(xs[0]), math.log10(xs[-1])
    span = (lx1 - lx0) or 1

    def px(x):
        return LEFT + (math.log10(x) - lx0) / span * (W - LEFT - RIGHT)

    def py(y):
        return H - BOTTOM - y / ytop * (H - TOP - BOTTOM)

    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
         f'<rect width="{W}" height="{H}" fill="white"/>',
         f'<text x="{LEFT}" y="22" font-size="15">simgate on Postgres: latency against the number of SIMs (1 connection)</text>']
    for i in range(6):
        y = ytop * i / 5
        o.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{py(y):.1f}" y2="{py(y):.1f}" stroke="#ddd"/>')
        o.append(f'<text x="{LEFT - 8}" y="{py(y) + 4:.1f}" text-anchor="end">{y:g}</text>')
    for x in xs:
        o.append(f'<line x1="{px(x):.1f}" x2="{px(x):.1f}" y1="{TOP}" y2="{H - BOTTOM}" stroke="#eee"/>')
        o.append(f'<text x="{px(x):.1f}" y="{H - BOTTOM + 18}" text-anchor="middle">{x:,}</text>')
    o.append(f'<text x="{(LEFT + W - RIGHT) / 2}" y="{H - 15}" text-anchor="middle">SIMs in the database (log scale)</text>')
    o.append(f'<text x="18" y="{(TOP + H - BOTTOM) / 2}" transform="rotate(-90 18 {(TOP + H - BOTTOM) / 2})" text-anchor="middle">milliseconds</text>')
    o.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{H - BOTTOM}" y2="{H - BOTTOM}" stroke="black"/>')
    o.append(f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{H - BOTTOM}" stroke="black"/>')
    for i, (name, pts) in enumerate(sorted(series.items())):
        c = COLOURS[i % len(COLOURS)]
        pts.sort()
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)
        o.append(f'<polyline points="{path}" fill="none" stroke="{c}" stroke-width="2"/>')
        for x, y in pts:
            o.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3.5" fill="{c}"><title>{name}: {y} ms at {x:,} SIMs</title></circle>')
        ly = TOP + 10 + i * 20
        o.append(f'<line x1="{W - RIGHT + 15}" x2="{W - RIGHT + 35}" y1="{ly}" y2="{ly}" stroke="{c}" stroke-width="2"/>')
        o.append(f'<text x="{W - RIGHT + 40}" y="{ly + 4}">{name}</text>')
    o.append("</svg>")
    open(out, "w").write("\n".join(o) + "\n")


def nice(v):
    """The next 1, 2 or 5 times a power of ten at or above v."""
    if v <= 0:
        return 1
    p = 10 ** math.floor(math.log10(v))
    return next(m * p for m in (1, 2, 5, 10) if m * p >= v)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
