"""Exploration (issue 20): from a log of `ner_seed_ensemble.py` (every combination), the mean entity F1 of each size
with and without a given tagger among the members.

    python bench/exploration/ner_ensemble_groups.py bench/results/exploration/ner_ensemble_mixed.log full-wd07
"""

import statistics
import sys


def main(log, name):
    by_size = {}
    for line in open(log, encoding="utf-8"):
        members, figure = line.rstrip("\n").rsplit(": entity F1 ", 1)
        members = members.split(" + ")
        with_it = any(member.endswith(name) for member in members)
        by_size.setdefault(len(members), {True: [], False: []})[with_it].append(float(figure))
    for size, groups in sorted(by_size.items()):
        parts = [f"{'with' if key else 'without'} {name}: {statistics.mean(groups[key]):.2f} over {len(groups[key])}"
                 for key in (True, False) if groups[key]]
        print(f"{size} members: mean entity F1 " + "; ".join(parts))


if __name__ == "__main__":
    main(*sys.argv[1:])
