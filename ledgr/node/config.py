"""Node configuration: one TOML file, every setting overridable from the environment.

The file is read with :mod:`tomllib` into frozen dataclasses; unknown keys and wrong types are
rejected with a one-line :class:`~ledgr.errors.ConfigError` that names the setting. Every scalar
setting ``[section] name`` can be overridden by the environment variable ``LEDGR_SECTION_NAME``
(top-level settings: ``LEDGR_NAME``); ``p2p.peers`` takes a JSON list there. Relative paths are
resolved against the directory holding the config file, so a node directory can be moved whole.
See ``configs/node.example.toml`` for every setting with its meaning.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledgr.errors import ConfigError

ENV_PREFIX = "LEDGR_"
MAX_CONFIG_BYTES = 1 << 20


@dataclass(frozen=True)
class PeerConfig:
    """A validator peer: the URL of its peer endpoint and the validator key it must prove it holds."""

    url: str
    public_key: str


@dataclass(frozen=True)
class ApiConfig:
    host: str = "127.0.0.1"
    port: int = 8700
    max_body_bytes: int = 1 << 20
    max_wait_s: float = 30.0
    # issuer/verifier API (docs/api.md): the network's public address for statusListCredential URLs
    # (empty: this node's own http://host:port), reads open to anyone unless private_reads,
    # keystore passphrase from a file or an environment variable, per-token/IP rate limits,
    # and the canonicalize+hash worker pool (processes, bounded queue).
    public_base_url: str = ""
    private_reads: bool = False
    keystore_passphrase_file: str = ""
    keystore_passphrase_env: str = "LEDGR_KEYSTORE_PASSPHRASE"
    rate_per_s: float = 200.0
    rate_burst: int = 400
    signing_workers: int = 1
    signing_queue: int = 2000
    access_log: bool = True
    tls_cert_file: str = ""
    tls_key_file: str = ""


@dataclass(frozen=True)
class P2PConfig:
    host: str = "127.0.0.1"
    port: int = 8701
    peers: tuple[PeerConfig, ...] = ()
    queue_messages: int = 4096
    max_message_bytes: int = 8 << 20
    handshake_timeout_ms: int = 5000
    reconnect_initial_ms: int = 100
    reconnect_max_ms: int = 5000
    tls_cert_file: str = ""
    tls_key_file: str = ""
    tls_ca_file: str = ""


@dataclass(frozen=True)
class ConsensusConfig:
    timeout_propose_ms: int = 1000
    timeout_propose_delta_ms: int = 500
    timeout_prevote_ms: int = 500
    timeout_prevote_delta_ms: int = 250
    timeout_precommit_ms: int = 500
    timeout_precommit_delta_ms: int = 250
    timeout_silent_proposer_ms: int = 50
    heartbeat_ms: int = 30000
    max_clock_skew_ms: int = 2000
    strict: bool = False


@dataclass(frozen=True)
class MempoolConfig:
    max_ops: int = 20000
    max_bytes: int = 64 << 20
    max_op_bytes: int = 64 << 10
    block_max_ops: int = 500
    block_max_bytes: int = 4 << 20
    batch_wait_ms: int = 0


@dataclass(frozen=True)
class SyncConfig:
    batch_blocks: int = 64
    request_timeout_ms: int = 5000
    join_distance: int = 2
    state_sync: bool = True
    state_sync_min_heights: int = 1000
    state_sync_chunk_entries: int = 4096
    backfill: bool = True
    backfill_pause_ms: int = 100


@dataclass(frozen=True)
class StoreConfig:
    """``fault_delay_ms``: fault injection only (see ``ledgr.node.writer``); 0 in production."""

    fault_delay_ms: int = 0


@dataclass(frozen=True)
class RoleConfig:
    """``[node] role``: ``validator`` (votes when its key is in the height's set) or ``observer``
    (follows the chain by block sync, serves reads and proofs, never votes or takes writes)."""

    role: str = "validator"


@dataclass(frozen=True)
class LogConfig:
    format: str = "auto"
    level: str = "info"


@dataclass(frozen=True)
class NodeConfig:
    """Everything a node process needs; ``path`` is the file it came from (for relative paths)."""

    name: str = "node"
    data_dir: Path = Path("data")
    genesis_file: Path = Path("genesis.json")
    validator_key_file: Path = Path("validator.key")
    api: ApiConfig = field(default_factory=ApiConfig)
    p2p: P2PConfig = field(default_factory=P2PConfig)
    consensus: ConsensusConfig = field(default_factory=ConsensusConfig)
    mempool: MempoolConfig = field(default_factory=MempoolConfig)
    sync: SyncConfig = field(default_factory=SyncConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    log: LogConfig = field(default_factory=LogConfig)
    node: RoleConfig = field(default_factory=RoleConfig)
    path: Path | None = None


_LOG_FORMATS = ("auto", "json", "console")
_ZERO_OK = frozenset({"batch_wait_ms", "fault_delay_ms", "backfill_pause_ms"})
FAULT_DISK_DELAY_ENV = "LEDGR_FAULT_DISK_DELAY_MS"
_LOG_LEVELS = ("debug", "info", "warning", "error")
ROLES = ("validator", "observer")


def load_config(path: str | Path, environ: Mapping[str, str] | None = None) -> NodeConfig:
    """Read ``path`` (TOML), apply ``LEDGR_*`` overrides from ``environ`` and validate."""
    file = Path(path)
    try:
        if file.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{file}: config file larger than {MAX_CONFIG_BYTES} bytes")
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {file} does not exist") from exc
    except OSError as exc:
        raise ConfigError(f"cannot read config file {file}: {exc.strerror}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file} is not valid TOML: {exc}") from exc
    return config_from_mapping(raw, base_dir=file.resolve().parent,
                               environ=os.environ if environ is None else environ, path=file.resolve())


def config_from_mapping(raw: Mapping[str, Any], base_dir: Path, environ: Mapping[str, str],
                        path: Path | None = None) -> NodeConfig:
    """Build a validated :class:`NodeConfig` from parsed TOML plus environment overrides."""
    if FAULT_DISK_DELAY_ENV in environ and "LEDGR_STORE_FAULT_DELAY_MS" not in environ:
        environ = {**environ, "LEDGR_STORE_FAULT_DELAY_MS": environ[FAULT_DISK_DELAY_ENV]}
    merged = _apply_env(dict(raw), environ)
    built: NodeConfig = _build(NodeConfig, merged, "")
    config = dataclasses.replace(
        built,
        data_dir=_resolve(base_dir, built.data_dir),
        genesis_file=_resolve(base_dir, built.genesis_file),
        validator_key_file=_resolve(base_dir, built.validator_key_file),
        api=_with_resolved_files(base_dir, built.api),
        p2p=_with_resolved_files(base_dir, built.p2p),
        path=path,
    )
    _validate(config)
    return config


def _resolve(base: Path, value: Path) -> Path:
    return value if value.is_absolute() else (base / value)


S = typing.TypeVar("S")


def _with_resolved_files(base: Path, section: S) -> S:
    """``section`` with its ``tls_*_file`` settings made absolute (empty means not set)."""
    changes: dict[str, Any] = {
        f.name: str(_resolve(base, Path(getattr(section, f.name))))
        for f in dataclasses.fields(section)  # type: ignore[arg-type]
        if f.name.startswith("tls_") and f.name.endswith("_file") and getattr(section, f.name)}
    return dataclasses.replace(section, **changes)  # type: ignore[type-var]


def _apply_env(raw: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """Overlay ``LEDGR_SECTION_NAME`` variables on the parsed file (strings, typed later)."""
    hints = typing.get_type_hints(NodeConfig)
    for f in dataclasses.fields(NodeConfig):
        if f.name == "path":
            continue
        kind = hints[f.name]
        if dataclasses.is_dataclass(kind) and isinstance(kind, type):
            for sub in dataclasses.fields(kind):
                key = f"{ENV_PREFIX}{f.name}_{sub.name}".upper()
                if key in environ:
                    section = dict(raw.get(f.name) or {})
                    section[sub.name] = _EnvValue(environ[key], key)
                    raw[f.name] = section
        else:
            key = f"{ENV_PREFIX}{f.name}".upper()
            if key in environ:
                raw[f.name] = _EnvValue(environ[key], key)
    return raw


@dataclass(frozen=True)
class _EnvValue:
    """A value that came from the environment: still a string, converted to the field's type."""

    text: str
    variable: str


def _build(cls: type[Any], raw: Any, where: str) -> Any:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"[{where}] must be a table")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.name != "path"}
    unknown = sorted(set(raw) - names)
    if unknown:
        prefix = f"{where}." if where else ""
        raise ConfigError(f"unknown setting {prefix}{unknown[0]}")
    values: dict[str, Any] = {}
    for name, value in raw.items():
        setting = f"{where}.{name}" if where else name
        values[name] = _convert(hints[name], value, setting)
    return cls(**values)


def _convert(kind: Any, value: Any, setting: str) -> Any:
    if isinstance(value, _EnvValue):
        return _convert_env(kind, value, setting)
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        return _build(kind, value, setting)
    origin = typing.get_origin(kind)
    if origin is tuple:
        (item_kind, _ellipsis) = typing.get_args(kind)
        if not isinstance(value, list):
            raise ConfigError(f"{setting} must be a list")
        return tuple(_convert(item_kind, item, f"{setting}[{i}]") for i, item in enumerate(value))
    if kind is Path:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{setting} must be a non-empty path string")
        return Path(value)
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{setting} must be true or false")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{setting} must be an integer")
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{setting} must be a number")
        return float(value)
    if kind is str:
        if not isinstance(value, str):
            raise ConfigError(f"{setting} must be a string")
        return value
    if isinstance(kind, types.UnionType):
        raise ConfigError(f"{setting} cannot be set")
    raise ConfigError(f"{setting} has an unsupported type")


def _convert_env(kind: Any, value: _EnvValue, setting: str) -> Any:
    text = value.text.strip()
    try:
        if kind is bool:
            lowered = text.lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        if kind is int:
            return int(text)
        if kind is float:
            return float(text)
        if kind is Path:
            return _convert(Path, text, setting)
        if kind is str:
            return text
        if typing.get_origin(kind) is tuple:
            return _convert(kind, json.loads(text), setting)
    except (ValueError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{value.variable}={value.text!r} is not a valid value for {setting}") from exc
    raise ConfigError(f"{setting} cannot be set from the environment")


def _positive(value: int | float, setting: str) -> None:
    if value <= 0:
        raise ConfigError(f"{setting} must be greater than 0 (got {value})")


def _validate(config: NodeConfig) -> None:
    for section in (config.api, config.p2p, config.consensus, config.mempool, config.sync, config.store):
        name = type(section).__name__.removesuffix("Config").lower()
        for f in dataclasses.fields(section):
            value = getattr(section, f.name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                if f.name in _ZERO_OK:
                    if value < 0:
                        raise ConfigError(f"{name}.{f.name} must not be negative (got {value})")
                    continue
                _positive(value, f"{name}.{f.name}")
    for setting, port in (("api.port", config.api.port), ("p2p.port", config.p2p.port)):
        if not 0 < port < 65536:
            raise ConfigError(f"{setting} must be between 1 and 65535 (got {port})")
    if config.api.port == config.p2p.port and config.api.host == config.p2p.host:
        raise ConfigError("api.port and p2p.port must differ")
    for i, peer in enumerate(config.p2p.peers):
        if not peer.url.startswith(("ws://", "wss://")):
            raise ConfigError(f"p2p.peers[{i}].url must start with ws:// or wss:// (got {peer.url!r})")
    if config.mempool.block_max_ops > config.mempool.max_ops:
        raise ConfigError("mempool.block_max_ops must not exceed mempool.max_ops")
    if config.mempool.max_op_bytes > config.mempool.block_max_bytes:
        raise ConfigError("mempool.max_op_bytes must not exceed mempool.block_max_bytes")
    if config.log.format not in _LOG_FORMATS:
        raise ConfigError(f"log.format must be one of {', '.join(_LOG_FORMATS)} (got {config.log.format!r})")
    if config.node.role not in ROLES:
        raise ConfigError(f"node.role must be one of {', '.join(ROLES)} (got {config.node.role!r})")
    if config.log.level not in _LOG_LEVELS:
        raise ConfigError(f"log.level must be one of {', '.join(_LOG_LEVELS)} (got {config.log.level!r})")
