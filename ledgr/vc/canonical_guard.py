"""Bound RDFC-1.0's blank-node work before the dataset reaches native code.

RDFC-1.0 (§4.8 Hash N-Degree Quads) permutes every group of blank nodes that share a first-degree
hash and relate to a node the same way; a symmetric blank-node graph (a clique, or identical objects
each holding identical children) makes that factorial. pyoxigraph has no work limit and Python
cannot interrupt native code, so a crafted credential of a few kilobytes could pin a core for hours.
RDFC-1.0 §4.1 anticipates this ("implementations … can limit the … work performed"). Measured with
pyoxigraph 0.5: two identical objects holding 10 identical empty children each run > 20 s; an
8-clique of blank nodes takes 2 s.

This guard recomputes the first-degree *equivalence classes* (not the hashes themselves: the same
text as §4.7 with ``_:a``/``_:z`` substitution, compared as strings), which is linear in the
statements. Documents whose blank nodes are all distinguishable — nearly every credential — stop
there. Otherwise the permutations the N-degree step would enumerate are estimated (the product of
the factorials of each related-group size, summed over ambiguous nodes) and refused above
:data:`MAX_PERMUTATIONS`, as is a large number of ambiguous nodes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from math import factorial, prod

from ledgr.errors import TooLarge

MAX_AMBIGUOUS_BLANK_NODES = 64
MAX_PERMUTATIONS = 20_000

Quad = tuple[str, str, str, str]


def _first_degree_text(node: str, quads: list[Quad], mentions: list[int]) -> str:
    lines = []
    for index in mentions:
        terms = quads[index]
        lines.append(" ".join("_:a" if t == node else "_:z" if t[:2] == "_:" else t for t in terms))
    lines.sort()
    return "\n".join(lines)


def check_blank_node_work(quads: list[Quad]) -> None:
    """Raise :class:`TooLarge` when canonicalizing these blank-node statements could run away."""
    if len(quads) < 2:
        return
    mentions: dict[str, list[int]] = defaultdict(list)
    for index, (subject, _, obj, graph) in enumerate(quads):
        for term in {subject, obj, graph}:
            if term[:2] == "_:":
                mentions[term].append(index)
    if len(mentions) < 3:
        return
    classes = {node: _first_degree_text(node, quads, indexes) for node, indexes in mentions.items()}
    sizes = Counter(classes.values())
    ambiguous = [node for node in mentions if sizes[classes[node]] > 1]
    if not ambiguous:
        return
    if len(ambiguous) > MAX_AMBIGUOUS_BLANK_NODES:
        raise TooLarge(f"document has {len(ambiguous)} indistinguishable blank nodes (limit "
                       f"{MAX_AMBIGUOUS_BLANK_NODES}); canonicalizing it could run away",
                       limit=MAX_AMBIGUOUS_BLANK_NODES)
    work = 0
    for node in ambiguous:
        groups: Counter[tuple[int, str, str]] = Counter()
        for index in mentions[node]:
            subject, predicate, obj, graph = quads[index]
            for position, term in enumerate((subject, obj, graph)):
                if term != node and term[:2] == "_:":
                    groups[(position, predicate, classes[term])] += 1
        work += prod(factorial(size) for size in groups.values())
        if work > MAX_PERMUTATIONS:
            raise TooLarge("document's blank nodes are too symmetric to canonicalize within limits "
                           f"(more than {MAX_PERMUTATIONS} RDFC-1.0 permutations)", limit=MAX_PERMUTATIONS)
