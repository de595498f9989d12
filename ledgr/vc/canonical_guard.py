"""Bound RDFC-1.0's blank-node work before the dataset reaches native code.

RDFC-1.0 (§4.8 Hash N-Degree Quads) permutes every group of blank nodes that share a first-degree
hash and relate to a node the same way; a symmetric blank-node graph (a clique, or identical objects
each holding identical children) makes that factorial. pyoxigraph has no work limit and Python
cannot interrupt native code, so a crafted credential of a few kilobytes could pin a core for hours.
RDFC-1.0 §4.1 anticipates this ("implementations … can limit the … work performed"). Measured with
pyoxigraph 0.5 on this project's machine: two identical objects holding 10 identical children each
run > 20 s; an 8-clique of blank nodes 2 s; a complete bipartite K6,6 10 s; a 6×6 torus 25 s.

This guard recomputes the first-degree *equivalence classes* (not the hashes themselves: the same
text as §4.7 with ``_:a``/``_:z`` substitution, compared as strings), which is linear in the
statements. Documents whose blank nodes are all distinguishable — nearly every credential — stop
there. The N-degree step only runs on ambiguous nodes, and its recursion only walks through ambiguous
neighbours (distinguishable ones already hold canonical labels), so the work is estimated per
connected group of ambiguous nodes: the square of the group's size (each of its nodes starts a walk
through the group) times the product, over its nodes, of the orderings §4.8 step 5.4 tries (the
factorials of each related-group size). When the sum over all groups exceeds :data:`MAX_PERMUTATIONS`,
or a group is larger than :data:`MAX_AMBIGUOUS_BLANK_NODES`, the document is refused. The estimate is
deliberately conservative: it refuses some symmetric graphs that would in fact canonicalize quickly
(e.g. a 4×4 torus of blank nodes). Credentials whose repeated objects sit under distinguishable
parents pass: each repeated object forms a small group of its own, and only many identical children
*inside* identical objects multiply the estimate. Searching circulant and random symmetric graphs
found no accepted dataset that took pyoxigraph more than about 0.13 s.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from math import factorial, prod

from ledgr.errors import TooLarge

MAX_AMBIGUOUS_BLANK_NODES = 64
MAX_PERMUTATIONS = 20_000
MAX_GROUP = 8

Quad = tuple[str, str, str, str]


def _first_degree_text(node: str, quads: list[Quad], mentions: list[int]) -> str:
    lines = []
    for index in mentions:
        terms = quads[index]
        lines.append(" ".join("_:a" if t == node else "_:z" if t[:2] == "_:" else t for t in terms))
    lines.sort()
    return "\n".join(lines)


def _components(ambiguous: list[str], quads: list[Quad], mentions: dict[str, list[int]]) -> list[list[str]]:
    """The sets of ambiguous blank nodes linked through shared statements (union-find)."""
    parent = {node: node for node in ambiguous}

    def root(node: str) -> str:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for node in ambiguous:
        for index in mentions[node]:
            subject, _, obj, graph = quads[index]
            for term in (subject, obj, graph):
                if term != node and term in parent:
                    parent[root(term)] = root(node)
    groups: dict[str, list[str]] = defaultdict(list)
    for node in ambiguous:
        groups[root(node)].append(node)
    return list(groups.values())


def _permutations(node: str, quads: list[Quad], mentions: list[int], classes: dict[str, str]) -> int:
    """How many orderings §4.8 step 5.4 tries for ``node``: the product of its related groups' factorials."""
    groups: Counter[tuple[int, str, str]] = Counter()
    for index in mentions:
        subject, predicate, obj, graph = quads[index]
        for position, term in enumerate((subject, obj, graph)):
            if term != node and term[:2] == "_:":
                groups[(position, predicate, classes[term])] += 1
    if any(size > MAX_GROUP for size in groups.values()):
        return MAX_PERMUTATIONS + 1
    return prod(factorial(size) for size in groups.values())


def _refuse(reason: str, limit: int) -> TooLarge:
    return TooLarge(f"document's blank nodes are too symmetric to canonicalize within limits ({reason}); "
                    "RDFC-1.0 could run away on it", limit=limit)


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
    total = 0
    for component in _components(ambiguous, quads, mentions):
        if len(component) > MAX_AMBIGUOUS_BLANK_NODES:
            raise _refuse(f"{len(component)} connected indistinguishable blank nodes",
                          MAX_AMBIGUOUS_BLANK_NODES)
        work = len(component) ** 2
        for node in component:
            work *= _permutations(node, quads, mentions[node], classes)
            if total + work > MAX_PERMUTATIONS:
                raise _refuse(f"more than {MAX_PERMUTATIONS} estimated RDFC-1.0 steps", MAX_PERMUTATIONS)
        total += work
