"""A crashed run's trace still reads: truncated, corrupted and killed-mid-write files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from mcap.reader import make_reader

from humanoid.trace import TraceError, format_timeline, read_trace, recover_trace


def _cut(source: Path, at: int, dest: Path) -> Path:
    dest.write_bytes(source.read_bytes()[:at])
    return dest


def test_a_file_cut_anywhere_keeps_the_messages_before_the_cut(sample_run: Path, tmp_path: Path) -> None:
    whole = read_trace(sample_run)
    size = sample_run.stat().st_size
    # Every record boundary and a point inside every record, plus a sweep over the summary.
    offsets = sorted({m.offset for m in whole.messages} | {m.offset + 5 for m in whole.messages})
    cuts = [c for c in offsets if c < size] + list(range(offsets[-1], size, 211)) + [size - 1]
    seen = set()
    for at in cuts:
        cut = read_trace(_cut(sample_run, at, tmp_path / "cut.mcap"))
        assert cut.damage is not None, at
        seen.add((cut.damage.kind, cut.damage.in_summary))
        assert cut.damage.offset <= at
        # Exactly the messages whose records end before the cut.
        assert [m.payload for m in cut.messages] == [
            m.payload for m in whole.messages if m.offset < cut.damage.offset
        ]
        if cut.damage.in_summary:
            assert len(cut.messages) == len(whole.messages)
    assert {("unclosed", False), ("truncated", False), ("truncated", True)} <= seen


def test_a_cut_inside_a_record_says_where_and_what(sample_run: Path, tmp_path: Path) -> None:
    third = read_trace(sample_run).messages[3]
    cut = read_trace(_cut(sample_run, third.offset + 30, tmp_path / "cut.mcap"))
    assert len(cut.messages) == 3
    assert cut.damage is not None and cut.damage.kind == "truncated" and cut.damage.offset == third.offset
    assert "ends inside a MESSAGE record" in cut.damage.reason


def test_a_corrupt_record_stops_reading_there(sample_run: Path, tmp_path: Path) -> None:
    fifth = read_trace(sample_run).messages[5]
    data = bytearray(sample_run.read_bytes())
    data[fifth.offset] = 0x42  # not an MCAP opcode
    broken = tmp_path / "broken.mcap"
    broken.write_bytes(bytes(data))
    read = read_trace(broken)
    assert len(read.messages) == 5
    assert read.damage is not None and read.damage.kind == "corrupt" and read.damage.offset == fifth.offset


def test_bad_json_in_a_message_is_damage_not_a_crash(sample_run: Path, tmp_path: Path) -> None:
    second = read_trace(sample_run).messages[1]
    data = bytearray(sample_run.read_bytes())
    data[second.offset + 9 + 22] = ord("#")  # first byte of the JSON body
    broken = tmp_path / "broken.mcap"
    broken.write_bytes(bytes(data))
    read = read_trace(broken)
    assert len(read.messages) == 1
    assert read.damage is not None and "not valid JSON" in read.damage.reason


def test_recover_rewrites_a_crashed_trace_for_tools_that_need_a_footer(
    sample_run: Path, tmp_path: Path
) -> None:
    whole = read_trace(sample_run)
    crashed = _cut(sample_run, whole.messages[8].offset + 3, tmp_path / "crashed.mcap")
    recovered = tmp_path / "recovered.mcap"

    assert recover_trace(crashed, recovered) == 8
    again = read_trace(recovered)
    assert again.damage is None and again.end is None  # whole file, but no invented /run/end
    assert [(m.topic, m.payload, m.log_time_ns, m.publish_time_ns) for m in again.messages] == [
        (m.topic, m.payload, m.log_time_ns, m.publish_time_ns) for m in whole.messages[:8]
    ]
    with open(recovered, "rb") as f:
        assert len(list(make_reader(f).iter_messages())) == 8
    with pytest.raises(ValueError, match="overwrite its source"):
        recover_trace(crashed, crashed)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty"),
        (b"hello, this is a text file\n", "starts with b'hello, t'"),
        (b"\x89MCA", "only 4 bytes"),
    ],
)
def test_a_file_that_is_not_mcap_raises_trace_error(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    with pytest.raises(TraceError, match="is not an MCAP trace") as error:
        read_trace(path)
    assert expected in str(error.value)


def test_a_missing_file_raises_trace_error(tmp_path: Path) -> None:
    with pytest.raises(TraceError, match="no such file"):
        read_trace(tmp_path / "nope.mcap")


_CHILD = """
import os, sys, threading
from humanoid.trace import TraceWriter

trace = TraceWriter(sys.argv[1], {"command": "make me a coffee", "seed": 1})
trace.write("/planner/command", {"text": "make me a coffee"}, sim_time=0.0)
trace.write("/planner/plan", {"plan_version": 1, "reason": "initial", "subgoals": []}, sim_time=0.0)
if sys.argv[2] == "exit":
    for i in range(20):
        trace.write("/control/telemetry", {"i": i}, sim_time=i * 0.02)
    os._exit(3)  # dies mid-run: no close, no atexit, no flush of Python buffers
# "kill": a telemetry thread writes flat out until the parent SIGKILLs us.
def telemetry():
    i = 0
    while True:
        trace.write("/control/telemetry", {"i": i, "pad": "x" * 200}, sim_time=i * 0.02)
        i += 1
threading.Thread(target=telemetry, daemon=True).start()
while True:
    trace.write("/timing", {"name": "step", "duration_s": 0.001})
    if len(sys.argv) > 3:
        print("ready", flush=True)
        sys.argv.pop()
"""


def _run_child(path: Path, mode: str, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(_CHILD), str(path), mode, *extra],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_a_process_that_exits_without_closing_leaves_a_readable_trace(tmp_path: Path) -> None:
    path = tmp_path / "crashed.mcap"
    child = _run_child(path, "exit")
    assert child.wait(timeout=60) == 3
    read = read_trace(path)
    assert [m.topic for m in read.messages[:3]] == ["/run/meta", "/planner/command", "/planner/plan"]
    assert [m.payload["i"] for m in read.topic("/control/telemetry")] == list(range(20))
    assert read.damage is not None and read.damage.kind == "unclosed"
    assert read.damage.offset == path.stat().st_size
    assert "the run probably crashed" in format_timeline(read)


def test_a_process_killed_while_two_threads_write_leaves_a_readable_trace(tmp_path: Path) -> None:
    path = tmp_path / "killed.mcap"
    child = _run_child(path, "kill", "report")
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=60)
    read = read_trace(path)  # must not raise, wherever the kill landed
    assert read.damage is not None and read.damage.kind in ("unclosed", "truncated")
    assert read.messages[0].topic == "/run/meta" and len(read.topic("/timing")) >= 1
    samples = [m.payload["i"] for m in read.topic("/control/telemetry")]
    assert samples == list(range(len(samples)))
