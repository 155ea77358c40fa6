"""Exploration (issue 20): ways to combine the members of finished NER ensemble runs, scored on eng.testa.

    python bench/exploration/ner_combine.py RUN_DIR ...

For each run (all its members together) prints entity F1 for each rule:
  potentials   Viterbi over the mean of the members' emissions and transition/start/end scores (the app's rule)
  marginals    each member's posterior tag marginals (forward-backward), averaged; Viterbi over their logs with
               only the transitions that some member allows (IOB2: I-X follows B-X or I-X)
  log-marginals  the same over the mean of the log marginals
  votes        each member's own Viterbi path; the entity spans that a majority of members predict
"""

import collections
import pathlib
import sys

import numpy as np
from scipy.special import logsumexp

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from ner_seed_ensemble import scores_of, viterbi  # noqa: E402

from apps.ner.metrics import conlleval, entities  # noqa: E402


def marginals(emissions, transitions, start, end):
    """Posterior tag marginals [n, K] of a linear-chain CRF."""
    n = len(emissions)
    alpha = np.zeros_like(emissions)
    beta = np.zeros_like(emissions)
    alpha[0] = start + emissions[0]
    for t in range(1, n):
        alpha[t] = logsumexp(alpha[t - 1][:, None] + transitions, axis=0) + emissions[t]
    beta[-1] = end
    for t in range(n - 2, -1, -1):
        beta[t] = logsumexp(transitions + (emissions[t + 1] + beta[t + 1])[None, :], axis=1)
    log_z = logsumexp(alpha[-1] + end)
    return np.exp(alpha + beta - log_z)


def allowed_transitions(tags):
    """0 where IOB2 allows tag j after tag i, -inf where not; and the same for the first tag."""
    k = len(tags)
    pair = np.zeros((k, k))
    first = np.zeros(k)
    for j, tag in enumerate(tags):
        if tag.startswith("I-"):
            first[j] = -np.inf
            for i, prev in enumerate(tags):
                if prev == "O" or prev[2:] != tag[2:]:
                    pair[i, j] = -np.inf
    return pair, first


def from_entities(selected, n):
    """IOB2 tags [n] of non-overlapping chunks (type, start, end)."""
    tags = ["O"] * n
    for kind, start, stop in selected:
        tags[start] = f"B-{kind}"
        for i in range(start + 1, stop):
            tags[i] = f"I-{kind}"
    return tags


def combine(members, tags):
    gold = [[tags[i] for i in row] for row in members[0]["gold"]]
    pair, first = allowed_transitions(tags)
    predicted = collections.defaultdict(list)
    crf = [np.mean([m["crf"][i] for m in members], axis=0) for i in range(3)]
    for s in range(len(gold)):
        emission = np.mean([m["emissions"][s] for m in members], axis=0)
        predicted["potentials"].append([tags[i] for i in viterbi(emission, *crf)])
        probabilities = [marginals(m["emissions"][s], *m["crf"]) for m in members]
        logs = np.log(np.mean(probabilities, axis=0) + 1e-12)
        predicted["marginals"].append([tags[i] for i in viterbi(logs, pair, first, np.zeros(len(tags)))])
        logs = np.mean([np.log(p + 1e-12) for p in probabilities], axis=0)
        predicted["log-marginals"].append([tags[i] for i in viterbi(logs, pair, first, np.zeros(len(tags)))])
        paths = [[tags[i] for i in viterbi(m["emissions"][s], *m["crf"])] for m in members]
        counts = collections.Counter(chunk for path in paths for chunk in entities(path))
        chosen = [chunk for chunk, votes in counts.items() if 2 * votes > len(members)]
        predicted["votes"].append(from_entities(chosen, len(gold[s])))
    return {rule: 100 * conlleval(gold, rows)["f1"] for rule, rows in predicted.items()}


def main(run_dirs):
    for run_dir in run_dirs:
        members = scores_of(run_dir)
        figures = combine(members, members[0]["tags"])
        print(f"{pathlib.Path(run_dir).name}: " + ", ".join(f"{rule} {f1:.2f}" for rule, f1 in figures.items()),
              flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
