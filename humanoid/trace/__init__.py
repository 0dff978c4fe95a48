"""Run traces: every run writes one MCAP file of JSON messages that opens in Foxglove.

`TraceWriter` writes it (crash-safe: flushed after every message), `read_trace` reads it
back (tolerating a crashed run's damaged tail), `format_timeline` shows it to a person. The
channels and their schemas are listed in `channels.py` and in docs/trace-format.md.
"""

from humanoid.trace.channels import CHANNELS, ChannelSpec
from humanoid.trace.reader import Damage, Trace, TraceError, TraceMessage, TraceStream, iter_trace, read_trace
from humanoid.trace.timeline import format_timeline, main_show, timeline_json
from humanoid.trace.writer import TraceLogHandler, TraceWriter, recover_trace, to_jsonable

__all__ = [
    "CHANNELS",
    "ChannelSpec",
    "Damage",
    "Trace",
    "TraceError",
    "TraceLogHandler",
    "TraceMessage",
    "TraceStream",
    "TraceWriter",
    "format_timeline",
    "iter_trace",
    "main_show",
    "read_trace",
    "recover_trace",
    "timeline_json",
    "to_jsonable",
]
