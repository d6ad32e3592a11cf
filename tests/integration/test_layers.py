#!/usr/bin/env python3
"""The tree shows the architecture (docs/architecture.md): a layer includes only its own headers
and those of the layers below it. A new include that points upwards fails here."""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", ".."))
# Lowest first: each may include the ones before it.
ORDER = ["core", "probe", "sched", "store", "notify", "serve", "monitor", "export", "ui", "cmd"]


def files_of(layer):
    for base in (os.path.join(TOP, "src", layer), os.path.join(TOP, "include", "healthtop", layer)):
        if os.path.isdir(base):
            for name in sorted(os.listdir(base)):
                if name.endswith((".c", ".h")):
                    yield os.path.join(base, name)


def main():
    bad = []
    seen = 0
    for rank, layer in enumerate(ORDER):
        allowed = set(ORDER[:rank + 1])
        for path in files_of(layer):
            seen += 1
            with open(path, encoding="utf-8") as f:
                for n, line in enumerate(f, 1):
                    m = re.match(r'\s*#\s*include\s+"(?:healthtop/)?([a-z]+)/', line)
                    if m and m.group(1) in ORDER and m.group(1) not in allowed:
                        bad.append(f"{os.path.relpath(path, TOP)}:{n}: {layer} includes {m.group(1)}")
    for b in bad:
        print("FAIL", b)
    print(f"{seen - len(bad) if seen >= len(bad) else 0} passed, {len(bad)} failed")
    sys.exit(1 if bad or seen == 0 else 0)


if __name__ == "__main__":
    main()
