"""Writes a run's trace: one MCAP file of JSON messages that survives the run dying.

Crash safety comes first. The file is written without chunks, so every message is a
self-contained record at the end of the file, and the OS file is flushed after each one: a
process killed at any point leaves every message written before it readable (`read_trace`
reports the missing footer). `close()` adds `/run/end` and the MCAP summary and footer.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import logging
import math
import os
import platform
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from mcap.writer import CompressionType, IndexType, Writer

from humanoid import __version__
from humanoid.trace.channels import (
    CHANNELS,
    LOG_LEVELS,
    MESSAGE_ENCODING,
    SCHEMA_ENCODING,
    ChannelSpec,
    extra_channel,
)

_MAX_DEPTH = 64  # deeper than any real payload; stops a structure that contains itself


def to_jsonable(value: Any, _depth: int = 0) -> Any:
    """Turn `value` into plain JSON types; never raises, so tracing can't break a run.

    numpy arrays and scalars become lists and numbers, dataclasses and objects with
    `to_dict()`/`model_dump()` become dicts, enums their values, non-finite floats null
    (JSON has no NaN); anything else unknown becomes its repr.
    """
    if _depth > _MAX_DEPTH:
        return "<too deeply nested>"
    d = _depth + 1
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int) and not isinstance(value, enum.Enum):
        return int(value)
    if isinstance(value, float):  # numpy.float64 is a float too
        return float(value) if math.isfinite(value) else None
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value, d)
    if isinstance(value, dict):
        return {str(to_jsonable(k, d)): to_jsonable(v, d) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v, d) for v in value]
    # numpy (and torch) without importing them: arrays have tolist(), scalars item().
    if hasattr(value, "dtype"):
        if getattr(value, "shape", ()) != () and hasattr(value, "tolist"):
            return to_jsonable(value.tolist(), d)
        if hasattr(value, "item"):
            return to_jsonable(value.item(), d)
    for method in ("to_dict", "model_dump"):
        fn = getattr(value, method, None)
        if callable(fn):
            try:
                return to_jsonable(fn(), d)
            except Exception:
                break
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name), d) for f in dataclasses.fields(value)}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return value.hex()
    try:
        return repr(value)
    except Exception:
        return f"<unprintable {type(value).__name__}>"


def _software_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    versions = {"humanoid": __version__, "python": platform.python_version()}
    for package in ("mcap", "numpy", "mujoco", "onnxruntime"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            pass
    return versions


def _start_mcap(file: IO[bytes]) -> tuple[Writer, dict[str, int]]:
    """Start an MCAP file with every trace channel registered; returns topic -> channel id."""
    # No chunks: a chunk only reaches the file when it is complete, so a crash would lose
    # it. Message indexes need chunks, so they are off; the summary keeps the channel list
    # and statistics, and readers read unindexed files front to back.
    mcap = Writer(
        file,
        use_chunking=False,
        compression=CompressionType.NONE,
        index_types=IndexType.METADATA | IndexType.ATTACHMENT,
    )
    mcap.start(profile="", library=f"humanoid-trace/{__version__}")
    channel_ids = {topic: _register(mcap, spec) for topic, spec in CHANNELS.items()}
    return mcap, channel_ids


def _register(mcap: Writer, spec: ChannelSpec) -> int:
    schema_id = mcap.register_schema(
        name=spec.schema_name,
        encoding=SCHEMA_ENCODING,
        data=json.dumps(spec.json_schema()).encode(),
    )
    return mcap.register_channel(
        topic=spec.topic,
        message_encoding=MESSAGE_ENCODING,
        schema_id=schema_id,
        metadata={"version": str(spec.version)},
    )


def _run_metadata(meta: dict[str, Any]) -> dict[str, str]:
    # The run's key facts as an MCAP metadata record, which Foxglove shows in its file info.
    return {k: str(meta.get(k)) for k in ("command", "robot", "scene", "seed", "start_wall_time")}


class TraceWriter:
    """One run's trace file. Thread-safe: control telemetry may arrive from another thread.

    `meta` describes the run (command, config, robot, scene, seed, versions); it is written
    as `/run/meta` straight away, with the start wall time and software versions added.
    `fsync=True` also forces every message to disk (survives power loss, costs a syscall per
    message); the default flush is enough for a crashed or killed process.
    """

    def __init__(self, path: str | os.PathLike[str], meta: dict[str, Any], *, fsync: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fsync = fsync
        self._lock = threading.Lock()
        self._closed = False
        self._sequence = 0
        self._start_ns = time.time_ns()
        self._start_monotonic = time.monotonic()
        self._last_sim_time: float | None = None
        self._file: IO[bytes] = open(self.path, "wb")  # closed in close()
        self._mcap, self._channel_ids = _start_mcap(self._file)
        self.meta = self._complete_meta(meta)
        self._mcap.add_metadata("run", _run_metadata(self.meta))
        self.write("/run/meta", self.meta)

    def _complete_meta(self, meta: dict[str, Any]) -> dict[str, Any]:
        complete = dict(meta)
        complete.setdefault("command", "")
        complete.setdefault("config", {})
        for key in ("robot", "scene", "seed"):
            complete.setdefault(key, None)
        complete["versions"] = {**_software_versions(), **dict(meta.get("versions") or {})}
        start = datetime.datetime.fromtimestamp(self._start_ns / 1e9, tz=datetime.UTC)
        complete["start_wall_time"] = start.isoformat()
        complete["start_wall_time_ns"] = self._start_ns
        return complete

    @property
    def closed(self) -> bool:
        return self._closed

    def write(self, topic: str, payload: dict[str, Any], sim_time: float | None = None) -> bool:
        """Append one message; returns False (and drops it) once the trace is closed.

        `sim_time` (seconds) becomes the message's publish time and the payload's `sim_time`;
        without it a numeric `sim_time` already in the payload is used. Log time is wall time.
        """
        if not isinstance(topic, str) or not topic.startswith("/"):
            raise ValueError(
                f"a trace topic starts with '/', got {topic!r}; the trace's topics are: {', '.join(CHANNELS)}"
            )
        # A topic outside the table is kept on a channel of its own rather than lost or fatal.
        spec = CHANNELS.get(topic) or extra_channel(topic)
        body = to_jsonable(payload)
        if not isinstance(body, dict):
            raise TypeError(f"a trace payload must be a dict, got {type(payload).__name__} for {topic}")
        if sim_time is None and isinstance(body.get("sim_time"), int | float):
            sim_time = body["sim_time"]
        sim_time = float(sim_time) if sim_time is not None and math.isfinite(sim_time) else None
        body["sim_time"] = sim_time
        body.setdefault("version", spec.version)
        if topic == "/log":
            _as_foxglove_log(body)
        data = json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
        with self._lock:
            return self._append(topic, data, sim_time)

    def _append(self, topic: str, data: bytes, sim_time: float | None) -> bool:
        # Caller holds the lock.
        if self._closed:
            return False
        if topic not in self._channel_ids:
            self._channel_ids[topic] = _register(self._mcap, CHANNELS.get(topic) or extra_channel(topic))
        log_time = time.time_ns()
        publish_time = round(sim_time * 1e9) if sim_time is not None and sim_time >= 0 else log_time
        if sim_time is not None and (self._last_sim_time is None or sim_time > self._last_sim_time):
            self._last_sim_time = sim_time  # the latest sim time, for /run/end
        self._mcap.add_message(
            channel_id=self._channel_ids[topic],
            log_time=log_time,
            data=data,
            publish_time=publish_time,
            sequence=self._sequence,
        )
        self._sequence += 1
        self._flush()
        return True

    def _flush(self) -> None:
        self._file.flush()
        if self._fsync:
            os.fsync(self._file.fileno())

    # Conveniences that fix the payload shapes of the common events (see channels.py).

    def log(
        self,
        level: str | int,
        message: str,
        *,
        name: str = "",
        file: str = "",
        line: int = 0,
        sim_time: float | None = None,
    ) -> bool:
        """Write a `/log` message in foxglove.Log shape; `level` is a name ('INFO') or 0-5."""
        payload = {"level": level, "message": message, "name": name, "file": file, "line": max(0, int(line))}
        return self.write("/log", payload, sim_time)

    def timing(self, name: str, duration_s: float, sim_time: float | None = None, **details: Any) -> bool:
        return self.write("/timing", {"name": name, "duration_s": duration_s, "details": details}, sim_time)

    def close(
        self, outcome: str | Mapping[str, Any] = "succeeded", exit_code: int = 0, reason: str = ""
    ) -> None:
        """Write `/run/end`, the summary and the footer, and close the file. Idempotent.

        `outcome` is a word ('succeeded', 'failed', 'error', 'interrupted') or a mapping with
        `outcome` or `success`, `exit_code`, `reason` and any other facts to keep in `/run/end`.
        """
        end: dict[str, Any] = {}
        if isinstance(outcome, Mapping):
            end.update(outcome)
            exit_code = int(end.get("exit_code", exit_code))
            reason = str(end.get("reason", reason))
            if "outcome" not in end:
                end["outcome"] = "succeeded" if end.get("success", exit_code == 0) else "failed"
            outcome = str(end["outcome"])
        with self._lock:
            if self._closed:
                return
            # Under the same lock as the end, so no telemetry sneaks in after /run/end.
            end.update(
                outcome=outcome,
                exit_code=int(exit_code),
                reason=reason,
                sim_time=self._last_sim_time,
                version=CHANNELS["/run/end"].version,
            )
            end.setdefault("wall_time_s", time.monotonic() - self._start_monotonic)
            try:
                self._append("/run/end", json.dumps(to_jsonable(end)).encode(), self._last_sim_time)
                self._mcap.finish()
                self._flush()
            finally:
                self._closed = True
                self._file.close()

    def __enter__(self) -> TraceWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.close()
        elif isinstance(exc, KeyboardInterrupt):
            self.close("interrupted", 130, "interrupted (Ctrl-C)")
        else:
            self.close("error", 1, f"{type(exc).__name__}: {exc}")


_LEVEL_NAMES = {**LOG_LEVELS, "WARN": LOG_LEVELS["WARNING"], "CRITICAL": LOG_LEVELS["FATAL"]}


def _as_foxglove_log(body: dict[str, Any]) -> None:
    """Fill in what foxglove.Log needs, so `write("/log", {"level": "ERROR", ...})` also works."""
    level = body.get("level", 0)
    if not isinstance(level, int):
        level = LOG_LEVELS.get(
            str(level).upper().replace("WARN", "WARNING").replace("WARNINGING", "WARNING"), 0
        )
    body["level"] = level
    if not isinstance(body.get("timestamp"), dict):
        now = time.time_ns()
        body["timestamp"] = {"sec": now // 1_000_000_000, "nsec": now % 1_000_000_000}
    body["message"] = str(body.get("message", ""))
    for key in ("name", "file"):
        body.setdefault(key, "")
    body.setdefault("line", 0)


class TraceLogHandler(logging.Handler):
    """Copies Python log records into the trace's `/log` channel (attach it to a logger)."""

    def __init__(self, trace: TraceWriter, level: int = logging.INFO) -> None:
        super().__init__(level)
        self.trace = trace

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.trace.log(
                {logging.DEBUG: 1, logging.INFO: 2, logging.WARNING: 3, logging.ERROR: 4}.get(
                    record.levelno, 5 if record.levelno > logging.ERROR else 0
                ),
                record.getMessage(),
                name=record.name,
                file=record.pathname,
                line=record.lineno or 0,
            )
        except Exception:
            self.handleError(record)


def recover_trace(source: str | os.PathLike[str], dest: str | os.PathLike[str]) -> int:
    """Rewrite a crashed run's trace as a complete MCAP file, with summary and footer.

    For tools that insist on a footer (mcap's `make_reader`, indexed viewers). Every message
    `read_trace` can read is kept with its original times and sequence numbers; no `/run/end`
    is invented, so the copy still shows that the run did not finish. Returns how many
    messages were kept.
    """
    from humanoid.trace.reader import iter_trace  # the reader never imports the writer

    if Path(source).resolve() == Path(dest).resolve():
        raise ValueError(f"recover_trace would overwrite its source {source}; give another destination")
    kept = 0
    with open(dest, "wb") as file:
        mcap, channel_ids = _start_mcap(file)
        for message in iter_trace(source):
            channel_id = channel_ids.get(message.topic)
            if channel_id is None:
                continue
            if message.topic == "/run/meta":
                mcap.add_metadata("run", _run_metadata(message.payload))
            mcap.add_message(
                channel_id=channel_id,
                log_time=message.log_time_ns,
                data=json.dumps(message.payload, separators=(",", ":")).encode(),
                publish_time=message.publish_time_ns,
                sequence=message.sequence,
            )
            kept += 1
        mcap.finish()
    return kept
