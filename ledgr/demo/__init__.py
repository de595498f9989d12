"""Demos: ``python -m ledgr.demo`` runs the three-node network demo (the README's main job);
``python -m ledgr.demo offline`` runs the offline credential demo (no node, no network)."""
