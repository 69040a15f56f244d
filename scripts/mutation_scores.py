"""Per-module mutation scores from the results `mutmut run` left in mutants/.

A mutant counts as killed when a test failed (or timed out) with it in place;
"no tests" means no selected test ran the mutated function, which counts
against the score like a survivor. Exits non-zero below the 90 % target so
`make mutation` says plainly when a module slips.
"""

import json
import sys
from collections import Counter
from pathlib import Path

TARGET = 90.0
KILLED = {1, 3, 36, 24, -24, 152, 255}  # a failing test, or a timeout
SURVIVED = {0}
NO_TESTS = {5, 33}
SKIPPED = {34, 37}  # skipped, or caught by a type checker


def main(root: Path = Path("mutants")) -> int:
    metas = sorted(root.rglob("*.py.meta"))
    if not metas:
        print("No results in mutants/: run `make mutation`.")
        return 1
    print(f"{'module':40} {'killed':>7} {'survived':>9} {'no tests':>9} {'total':>6} {'score':>7}")
    failed = False
    for meta in metas:
        module = str(meta.relative_to(root)).removesuffix(".meta")
        codes = json.loads(meta.read_text("utf-8"))["exit_code_by_key"]
        counts = Counter()
        for code in codes.values():
            if code in KILLED:
                counts["killed"] += 1
            elif code in SURVIVED:
                counts["survived"] += 1
            elif code in NO_TESTS:
                counts["no tests"] += 1
            elif code in SKIPPED:
                counts["skipped"] += 1
            else:
                counts["other"] += 1
        total = sum(counts.values()) - counts["skipped"]
        score = 100.0 * counts["killed"] / total if total else 100.0
        failed |= score < TARGET
        print(
            f"{module:40} {counts['killed']:7} {counts['survived']:9} "
            f"{counts['no tests']:9} {total:6} {score:6.1f}%"
            + (f"  ({counts['other']} not checked or suspicious)" if counts["other"] else "")
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
