"""Running a node: the runtime plus its HTTP API in one asyncio process, until SIGTERM/SIGINT.

Used by ``ledgr node run``. Binding errors (a port in use) become one-line
:class:`~ledgr.errors.ConfigError`s; a fatal runtime error (e.g. the double-sign guard) stops the
process with that error.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import signal

from aiohttp import web

from ledgr.api.app import create_app
from ledgr.errors import ConfigError, LedgrError
from ledgr.node import tls
from ledgr.node.config import NodeConfig
from ledgr.node.lockfile import DataDirLock
from ledgr.node.logs import configure_logging, get_logger
from ledgr.node.runtime import Node

log = get_logger("ledgr.server")


async def serve(config: NodeConfig) -> None:
    lock = DataDirLock(config.data_dir)
    lock.acquire()
    try:
        await _serve_locked(config)
    finally:
        lock.release()


async def _serve_locked(config: NodeConfig) -> None:
    node = Node(config)
    runner = web.AppRunner(create_app(node), access_log=None, handle_signals=False)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        try:
            await node.start()
        except OSError as exc:
            raise _bind_error(exc, "p2p", config.p2p.host, config.p2p.port) from exc
        site = web.TCPSite(runner, config.api.host, config.api.port, reuse_address=True,
                           ssl_context=tls.server_context(config.api.tls_cert_file,
                                                          config.api.tls_key_file, "api"))
        try:
            await site.start()
        except OSError as exc:
            raise _bind_error(exc, "api", config.api.host, config.api.port) from exc
        api_scheme = "https" if config.api.tls_cert_file else "http"
        p2p_scheme = "wss" if config.p2p.tls_cert_file else "ws"
        log.info("node_listening", api=f"{api_scheme}://{config.api.host}:{config.api.port}",
                 p2p=f"{p2p_scheme}://{config.p2p.host}:{config.p2p.port}/p2p", chain_id=node.chain.chain_id,
                 height=node.chain.height)
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait([stopper, node.main_task()], return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if node.fatal is not None:
            raise node.fatal
        log.info("node_stopping")
    finally:
        with contextlib.suppress(Exception):
            await runner.cleanup()
        await node.stop()


def _bind_error(exc: OSError, what: str, host: str, port: int) -> LedgrError:
    if exc.errno == errno.EADDRINUSE:
        return ConfigError(f"{what} port {port} on {host} is already in use")
    return ConfigError(f"cannot listen on {host}:{port} ({what}): {exc.strerror}")


def run_node(config: NodeConfig) -> None:
    """Blocking entry point: uvloop when installed, plain asyncio otherwise."""
    configure_logging(config.log.format, config.log.level, node=config.name)
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(config))
        return
    uvloop.run(serve(config))
