"""Typed keys for what the app shares with its handlers."""

from __future__ import annotations

from aiohttp import web

from ledgr.node.runtime import Node

NODE = web.AppKey("node", Node)


def node_of(request: web.Request) -> Node:
    return request.app[NODE]
