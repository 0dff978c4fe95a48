"""Reads a run's trace back, message by message, including the traces of runs that crashed.

A crashed run leaves a file with no footer, perhaps ending in half a record. The reader walks
the MCAP records itself (reusing mcap's record parsers) so that it knows each record's byte
offset: it returns every message before the damage and a `Damage` note saying where the file
stops making sense and why, instead of raising. Only a file that is not MCAP at all raises
`TraceError`.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import IO, Any

from mcap.data_stream import ReadDataStream
from mcap.opcode import Opcode
from mcap.records import (
    Attachment,
    AttachmentIndex,
    Channel,
    Chunk,
    ChunkIndex,
    DataEnd,
    Footer,
    Header,
    McapRecord,
    Message,
    MessageIndex,
    Metadata,
    MetadataIndex,
    Schema,
    Statistics,
    SummaryOffset,
)
from mcap.stream_reader import breakup_chunk

MAGIC = b"\x89MCAP0\r\n"
_RECORD_PREFIX = 9  # opcode (1 byte) + length (8 bytes)

_PARSERS = {
    Opcode.HEADER: Header.read,
    Opcode.FOOTER: Footer.read,
    Opcode.SCHEMA: Schema.read,
    Opcode.CHANNEL: Channel.read,
    Opcode.CHUNK: Chunk.read,
    Opcode.MESSAGE_INDEX: MessageIndex.read,
    Opcode.CHUNK_INDEX: ChunkIndex.read,
    Opcode.ATTACHMENT: Attachment.read,
    Opcode.ATTACHMENT_INDEX: AttachmentIndex.read,
    Opcode.STATISTICS: Statistics.read,
    Opcode.METADATA: Metadata.read,
    Opcode.METADATA_INDEX: MetadataIndex.read,
    Opcode.SUMMARY_OFFSET: SummaryOffset.read,
    Opcode.DATA_END: DataEnd.read,
}


class TraceError(Exception):
    """The file can't be read as a trace at all (missing, not MCAP)."""


@dataclass(frozen=True)
class Damage:
    """Where a trace stops being readable and why.

    `kind` is 'unclosed' (the file ends cleanly after a record but has no footer: the writer
    never closed it), 'truncated' (the file ends inside a record) or 'corrupt' (a record
    can't be parsed). `in_summary` is true when the damage is after the data section, so no
    message was lost.
    """

    offset: int
    kind: str
    reason: str
    in_summary: bool = False

    def describe(self) -> str:
        return f"byte {self.offset}: {self.reason}"


@dataclass(frozen=True)
class TraceMessage:
    """One message of the trace, decoded."""

    topic: str
    payload: dict[str, Any]
    log_time_ns: int
    publish_time_ns: int
    sequence: int
    offset: int  # byte offset of the record in the file (of its chunk, for chunked files)

    @property
    def sim_time(self) -> float | None:
        value = self.payload.get("sim_time")
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@dataclass
class Trace:
    """Everything read from one trace file, in file order (the writer's order)."""

    path: Path
    messages: list[TraceMessage] = field(default_factory=list)
    damage: Damage | None = None
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)  # topic -> schema info
    skipped_messages: int = 0  # on channels that are not JSON
    size_bytes: int = 0

    def topic(self, topic: str) -> list[TraceMessage]:
        return [m for m in self.messages if m.topic == topic]

    def first(self, topic: str) -> TraceMessage | None:
        return next((m for m in self.messages if m.topic == topic), None)

    @property
    def meta(self) -> dict[str, Any]:
        found = self.first("/run/meta")
        return found.payload if found else {}

    @property
    def end(self) -> dict[str, Any] | None:
        ends = self.topic("/run/end")
        return ends[-1].payload if ends else None

    @property
    def complete(self) -> bool:
        return self.damage is None


class TraceStream:
    """Iterates a trace's messages straight from the file; `damage` is set once iteration ends.

    Holds one record in memory at a time. `topics` limits which messages are decoded and
    yielded.
    """

    def __init__(self, path: str | os.PathLike[str], topics: Iterable[str] | None = None) -> None:
        self.path = Path(path)
        self.topics = frozenset(topics) if topics is not None else None
        self.damage: Damage | None = None
        self.channels: dict[str, dict[str, Any]] = {}
        self.skipped_messages = 0
        self.size_bytes = 0
        if not self.path.exists():
            raise TraceError(f"{self.path}: no such file")
        if not self.path.is_file():
            raise TraceError(f"{self.path} is not an MCAP trace: it is not a regular file")

    def __iter__(self) -> Iterator[TraceMessage]:
        self.damage, self.channels, self.skipped_messages = None, {}, 0  # each pass starts afresh
        with open(self.path, "rb") as f:
            self.size_bytes = os.fstat(f.fileno()).st_size
            self._check_magic(f)
            yield from self._messages(f)

    def _check_magic(self, f: IO[bytes]) -> None:
        head = f.read(len(MAGIC))
        if head == MAGIC:
            return
        if not head:
            raise TraceError(f"{self.path} is not an MCAP trace: the file is empty")
        if MAGIC.startswith(head):
            raise TraceError(
                f"{self.path} is not an MCAP trace: it holds only {len(head)} bytes, "
                "less than the MCAP magic (the run died before writing anything)"
            )
        raise TraceError(
            f"{self.path} is not an MCAP trace: it starts with {head!r}, not the MCAP magic {MAGIC!r}"
        )

    def _messages(self, f: IO[bytes]) -> Iterator[TraceMessage]:
        schemas: dict[int, Schema] = {}
        channels: dict[int, Channel] = {}
        in_summary = False
        while True:
            offset = f.tell()
            prefix = f.read(_RECORD_PREFIX)
            if not prefix:
                self._damaged(offset, "unclosed", "the file ends without an MCAP footer", in_summary)
                return
            if len(prefix) < _RECORD_PREFIX:
                self._damaged(
                    offset,
                    "truncated",
                    f"the file ends inside a record header ({len(prefix)} of 9 bytes)",
                    in_summary,
                )
                return
            opcode, length = struct.unpack("<BQ", prefix)
            parse = _PARSERS.get(opcode) if opcode != Opcode.MESSAGE else None
            if opcode != Opcode.MESSAGE and parse is None and opcode < 0x80:
                # 0x80-0xFF are reserved for private records; anything else is garbage.
                self._damaged(offset, "corrupt", f"unknown record opcode 0x{opcode:02x}", in_summary)
                return
            remaining = self.size_bytes - offset - _RECORD_PREFIX
            if length > remaining:  # a live run's file may have grown since we opened it
                self.size_bytes = os.fstat(f.fileno()).st_size
                remaining = self.size_bytes - offset - _RECORD_PREFIX
            if length > remaining:
                self._damaged(
                    offset,
                    "truncated",
                    f"the file ends inside a {_opcode_name(opcode)} record "
                    f"({remaining} of {length} bytes present)",
                    in_summary,
                )
                return
            body = f.read(length)
            if len(body) < length:  # the file shrank while we read it
                self._damaged(
                    offset, "truncated", f"the file ends inside a {_opcode_name(opcode)} record", in_summary
                )
                return
            try:
                record = self._parse(opcode, body)
                # A chunk (from other writers; ours writes none) holds schemas, channels, messages.
                records = breakup_chunk(record, validate_crc=True) if isinstance(record, Chunk) else [record]
            except Exception as exc:  # any parse failure means the bytes are not a valid record
                self._damaged(
                    offset,
                    "corrupt",
                    f"a {_opcode_name(opcode)} record can't be parsed ({exc!r})",
                    in_summary,
                )
                return
            if isinstance(record, Footer):
                tail = f.read(len(MAGIC))
                if tail != MAGIC:
                    self._damaged(
                        f.tell() - len(tail), "truncated", "the closing MCAP magic is missing", True
                    )
                return
            if isinstance(record, DataEnd):
                in_summary = True
            for inner in records:
                if isinstance(inner, Schema):
                    schemas[inner.id] = inner
                elif isinstance(inner, Channel) and inner.id not in channels:
                    channels[inner.id] = inner
                    schema = schemas.get(inner.schema_id)
                    self.channels[inner.topic] = {
                        "schema_name": schema.name if schema else "",
                        "schema_encoding": schema.encoding if schema else "",
                        "message_encoding": inner.message_encoding,
                        "version": inner.metadata.get("version"),
                    }
                elif isinstance(inner, Message):
                    decoded = self._decode(inner, channels, offset)
                    if isinstance(decoded, Damage):
                        self.damage = decoded
                        return
                    if decoded is not None:
                        yield decoded

    def _parse(self, opcode: int, body: bytes) -> McapRecord | None:
        stream = ReadDataStream(BytesIO(body))
        if opcode == Opcode.MESSAGE:
            return Message.read(stream, len(body))
        parse = _PARSERS.get(opcode)
        return parse(stream) if parse else None

    def _decode(
        self, message: Message, channels: dict[int, Channel], offset: int
    ) -> TraceMessage | Damage | None:
        channel = channels.get(message.channel_id)
        if channel is None:
            return Damage(
                offset, "corrupt", f"a message names channel {message.channel_id}, which was never declared"
            )
        if self.topics is not None and channel.topic not in self.topics:
            return None
        if channel.message_encoding != "json":
            self.skipped_messages += 1
            return None
        try:
            payload = json.loads(message.data)
        except ValueError as exc:
            return Damage(offset, "corrupt", f"a message on {channel.topic} is not valid JSON ({exc})")
        if not isinstance(payload, dict):
            payload = {"value": payload}
        return TraceMessage(
            topic=channel.topic,
            payload=payload,
            log_time_ns=message.log_time,
            publish_time_ns=message.publish_time,
            sequence=message.sequence,
            offset=offset,
        )

    def _damaged(self, offset: int, kind: str, reason: str, in_summary: bool) -> None:
        if in_summary:
            reason += " (in the summary section, after the last message: no message was lost)"
        self.damage = Damage(offset, kind, reason, in_summary)


def _opcode_name(opcode: int) -> str:
    try:
        return Opcode(opcode).name
    except ValueError:
        return f"0x{opcode:02x}"


def iter_trace(path: str | os.PathLike[str], topics: Iterable[str] | None = None) -> TraceStream:
    """Stream a trace's messages without holding them all; see `TraceStream.damage` afterwards."""
    return TraceStream(path, topics)


def read_trace(path: str | os.PathLike[str], topics: Iterable[str] | None = None) -> Trace:
    """Read a trace's messages (optionally only `topics`) in file order.

    Never raises for a damaged file: the messages before the damage come back with
    `Trace.damage` set. Raises `TraceError` when the file is missing or not MCAP.
    """
    stream = TraceStream(path, topics)
    messages = list(stream)
    return Trace(
        path=stream.path,
        messages=messages,
        damage=stream.damage,
        channels=stream.channels,
        skipped_messages=stream.skipped_messages,
        size_bytes=stream.size_bytes,
    )
