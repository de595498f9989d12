"""Deterministic simulation of the consensus core (VOPR-style; consensus.md §4.2–§4.4, issue 4).

Run ``python -m tests.sim --nodes 3,4,5,7 --seeds N --seed-start S``. A seed fixes everything:
network schedule, faults, Byzantine behaviour, timers and keys; a failing seed reruns identically.
"""
