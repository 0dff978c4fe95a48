"""Writing a trace and reading every topic back, through our reader and through mcap's own."""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from enum import Enum
from pathlib import Path

import numpy as np
import pytest
from mcap.reader import make_reader

from humanoid.trace import CHANNELS, TraceLogHandler, TraceWriter, read_trace, to_jsonable

EVERY_TOPIC_PAYLOAD = {
    "/planner/command": {"text": "make me a coffee", "source": "cli"},
    "/planner/goal": {"predicates": [["filled", "mug_red"]], "text": "a filled mug"},
    "/planner/plan": {"plan_version": 1, "reason": "initial", "subgoals": []},
    "/planner/subgoal": {"event": "start", "index": 0, "subgoal": {"skill": "navigate", "args": {}}},
    "/motion/plan": {
        "skill": "pick",
        "joint_names": ["a"],
        "waypoints": [[0.0], [1.0]],
        "status": "exact_solution",
    },
    "/control/telemetry": {"arm_tracking_error_max": 0.02, "base_linvel": [0.1, 0.0, 0.0], "watchdog": False},
    "/safety/event": {"kind": "fall", "detail": "base height below 0.4 m"},
    "/timing": {"name": "ik", "duration_s": 0.003},
    "/scene/map": {"objects": [{"id": "mug_red", "pos": [0.4, 0.1, 0.8]}], "places": []},
    "/scene/entities": {"deletions": [], "entities": []},
    "/log": {
        "timestamp": {"sec": 1, "nsec": 2},
        "level": 2,
        "message": "hi",
        "name": "x",
        "file": "f.py",
        "line": 3,
    },
}


def test_every_topic_reads_back_in_order(tmp_path: Path) -> None:
    path = tmp_path / "run.mcap"
    with TraceWriter(
        path, {"command": "make me a coffee", "robot": "r", "scene": "kitchen", "seed": 1}
    ) as trace:
        for i, (topic, payload) in enumerate(EVERY_TOPIC_PAYLOAD.items()):
            trace.write(topic, payload, sim_time=0.5 * i)

    read = read_trace(path)

    assert read.damage is None
    assert [m.topic for m in read.messages] == ["/run/meta", *EVERY_TOPIC_PAYLOAD, "/run/end"]
    assert set(CHANNELS) == {m.topic for m in read.messages}
    for i, (topic, payload) in enumerate(EVERY_TOPIC_PAYLOAD.items()):
        got = read.first(topic)
        assert got is not None
        assert got.payload == {**payload, "version": 1, "sim_time": 0.5 * i}
        assert got.publish_time_ns == round(0.5 * i * 1e9)  # sim time
        assert got.log_time_ns > 10**18  # wall time
    assert read.meta["seed"] == 1 and "python" in read.meta["versions"]
    assert read.end is not None and read.end["outcome"] == "succeeded" and read.end["exit_code"] == 0
    assert read.channels["/log"]["schema_name"] == "foxglove.Log"
    assert all(
        c["schema_encoding"] == "jsonschema" and c["message_encoding"] == "json"
        for c in read.channels.values()
    )


def test_mcaps_own_reader_sees_a_valid_indexed_file(sample_run: Path) -> None:
    with open(sample_run, "rb") as f:
        reader = make_reader(f)
        summary = reader.get_summary()
        topics = [channel.topic for _, channel, _ in reader.iter_messages()]
    assert summary is not None and summary.statistics is not None
    assert summary.statistics.message_count == len(topics) == len(read_trace(sample_run).messages)
    assert {s.encoding for s in summary.schemas.values()} == {"jsonschema"}


def test_every_schema_is_json_schema_with_a_version(tmp_path: Path) -> None:
    for spec in CHANNELS.values():
        schema = json.loads(json.dumps(spec.json_schema()))
        assert schema["type"] == "object" and schema["title"] == spec.schema_name
        assert "version" in schema["required"] and "sim_time" in schema["properties"]


def test_topic_filter(sample_run: Path) -> None:
    read = read_trace(sample_run, topics=["/planner/plan"])
    assert [m.payload["plan_version"] for m in read.messages] == [1, 2]


def test_a_topic_outside_the_table_is_kept_on_its_own_channel(tmp_path: Path) -> None:
    path = tmp_path / "t.mcap"
    with TraceWriter(path, {"command": "x"}) as trace:
        trace.write("/planner/event", {"event": "asked_operator"}, sim_time=1.0)
        with pytest.raises(ValueError, match="a trace topic starts with '/'"):
            trace.write("planner/event", {})
    read = read_trace(path)
    assert read.first("/planner/event").payload["event"] == "asked_operator"
    assert read.channels["/planner/event"]["schema_name"] == "humanoid.Extra"
    with open(path, "rb") as f:
        assert "/planner/event" in [c.topic for _, c, _ in make_reader(f).iter_messages()]


def test_log_accepts_level_names_and_fills_in_foxglove_fields(tmp_path: Path) -> None:
    path = tmp_path / "t.mcap"
    with TraceWriter(path, {"command": "x"}) as trace:
        trace.write("/log", {"level": "ERROR", "message": "simulator died", "name": "run"})
        trace.log("warn", "slow")
    first, second = (m.payload for m in read_trace(path).topic("/log"))
    assert first["level"] == 4 and first["file"] == "" and first["line"] == 0
    assert set(first["timestamp"]) == {"sec", "nsec"}
    assert second["level"] == 3 and second["message"] == "slow"


def test_close_takes_an_outcome_mapping(tmp_path: Path) -> None:
    path = tmp_path / "t.mcap"
    trace = TraceWriter(path, {"command": "x"})
    trace.close({"exit_code": 1, "success": False, "reason": "mug not found", "real_time_factor": 2.5})
    end = read_trace(path).end
    assert end is not None
    assert (end["outcome"], end["exit_code"], end["reason"], end["real_time_factor"]) == (
        "failed",
        1,
        "mug not found",
        2.5,
    )
    assert end["wall_time_s"] >= 0


class Mode(Enum):
    FAST = "fast"


@dataclasses.dataclass
class Sample:
    q: np.ndarray
    mode: Mode


def test_numpy_dataclasses_enums_and_nan_serialise(tmp_path: Path) -> None:
    path = tmp_path / "t.mcap"
    with TraceWriter(path, {"command": "x", "seed": np.int64(3)}) as trace:
        trace.write(
            "/control/telemetry",
            {
                "q": np.arange(3, dtype=np.float32),
                "m": np.eye(2),
                "n": np.int32(4),
                "b": np.bool_(True),
                "f": np.float64(0.25),
                "nan": float("nan"),
                "sample": Sample(np.zeros(2), Mode.FAST),
                "path": Path("/tmp/x"),
                "tuple": (1, 2),
            },
            sim_time=np.float64(1.5),
        )
    payload = read_trace(path).first("/control/telemetry").payload
    assert payload["q"] == [0.0, 1.0, 2.0] and payload["m"] == [[1.0, 0.0], [0.0, 1.0]]
    assert payload["n"] == 4 and payload["b"] is True and payload["f"] == 0.25
    assert payload["nan"] is None  # JSON has no NaN
    assert payload["sample"] == {"q": [0.0, 0.0], "mode": "fast"}
    assert payload["path"] == "/tmp/x" and payload["tuple"] == [1, 2] and payload["sim_time"] == 1.5
    assert read_trace(path).meta["seed"] == 3
    assert to_jsonable(object()).startswith("<object")  # unknown objects never raise


def test_sim_time_taken_from_payload_when_not_given(tmp_path: Path) -> None:
    path = tmp_path / "t.mcap"
    with TraceWriter(path, {"command": "x"}) as trace:
        trace.write("/control/telemetry", {"sim_time": 2.0, "tracking_error_rad": 0.1})
    message = read_trace(path).first("/control/telemetry")
    assert message.sim_time == 2.0 and message.publish_time_ns == 2_000_000_000


def test_write_after_close_is_dropped_and_close_is_idempotent(tmp_path: Path) -> None:
    trace = TraceWriter(tmp_path / "t.mcap", {"command": "x"})
    trace.close()
    trace.close("failed")
    assert trace.write("/timing", {"name": "late", "duration_s": 1.0}) is False
    assert [m.topic for m in read_trace(trace.path).messages] == ["/run/meta", "/run/end"]


def test_an_exception_inside_the_context_is_the_outcome(tmp_path: Path) -> None:
    path = tmp_path / "t.mcap"
    with pytest.raises(RuntimeError), TraceWriter(path, {"command": "x"}):
        raise RuntimeError("bridge down")
    end = read_trace(path).end
    assert end == {**end, "outcome": "error", "exit_code": 1, "reason": "RuntimeError: bridge down"}


def test_threads_can_write_at_once(tmp_path: Path) -> None:
    path = tmp_path / "t.mcap"
    with TraceWriter(path, {"command": "x"}) as trace:

        def telemetry(worker: int) -> None:
            for i in range(200):
                trace.write("/control/telemetry", {"worker": worker, "i": i}, sim_time=i * 0.02)

        threads = [threading.Thread(target=telemetry, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    read = read_trace(path)
    assert read.damage is None
    samples = read.topic("/control/telemetry")
    assert len(samples) == 800
    assert sorted(m.sequence for m in read.messages) == list(range(len(read.messages)))
    for w in range(4):  # each thread's messages stay in its own order
        assert [m.payload["i"] for m in samples if m.payload["worker"] == w] == list(range(200))


def test_python_logging_goes_to_the_log_channel(tmp_path: Path) -> None:
    path = tmp_path / "t.mcap"
    logger = logging.getLogger("humanoid.test_trace")
    logger.propagate = False
    with TraceWriter(path, {"command": "x"}) as trace:
        handler = TraceLogHandler(trace)
        logger.addHandler(handler)
        try:
            logger.warning("gripper %s slow", "left")
        finally:
            logger.removeHandler(handler)
    log = read_trace(path).first("/log").payload
    assert (
        log["level"] == 3 and log["message"] == "gripper left slow" and log["name"] == "humanoid.test_trace"
    )
    assert log["file"].endswith("test_trace_write_read.py") and log["line"] > 0
    assert set(log["timestamp"]) == {"sec", "nsec"}


def test_a_payload_that_contains_itself_still_writes(tmp_path: Path) -> None:
    loop: dict = {"name": "loop"}
    loop["self"] = loop
    assert "too deeply nested" in json.dumps(to_jsonable(loop))
