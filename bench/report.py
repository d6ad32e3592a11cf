#!/usr/bin/env python3
"""Prints the rows the benchmarks recorded (bench/benchlib.py record()) as one Markdown table:
figure, value, goal, reference, ratio, whether the goal holds, and the command that reproduces
it. docs/performance.md keeps this table for the project's machine.

    python3 bench/report.py TABLE.tsv
"""
import sys

from benchlib import FIELDS


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: report.py TABLE.tsv")
    try:
        with open(sys.argv[1]) as f:
            rows = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    except FileNotFoundError:
        raise SystemExit(f"report.py: no figures were recorded ({sys.argv[1]} is missing)")
    print("| " + " | ".join(FIELDS) + " |")
    print("|" + "---|" * len(FIELDS))
    for r in rows:
        r = (r + [""] * len(FIELDS))[:len(FIELDS)]
        print("| " + " | ".join(r[:-1]) + f" | `{r[-1]}` |")
    missed = [r[0] for r in rows if len(r) > 5 and r[5] == "NO"]
    if missed:
        print(f"\n{len(missed)} goal(s) not met: " + "; ".join(missed))


if __name__ == "__main__":
    main()
