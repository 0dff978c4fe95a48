"""Which runs the viewer offers: one trace, a directory of traces, or a scenario report.

Each run is indexed (`run_index.index_run`) the first time the page asks for it and kept
until its file changes, so a live run's trace is re-read as it grows.
"""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from humanoid.trace.reader import TraceError, iter_trace
from humanoid.viewer.run_index import index_run

_REPORT_SUFFIXES = (".json", ".xml", ".txt", ".md", ".csv")
_MCAP_WORD = re.compile(r"[^\s\"'<>()\[\],|=]+\.mcap\b")


@dataclass(frozen=True)
class RunEntry:
    id: str
    path: Path
    name: str  # what the run list shows: the path below the folder served, without 'trace.mcap'


def _traces_in_report(report: Path) -> list[Path]:
    """Trace paths a scenario report names (any string ending in .mcap), relative to the report."""
    text = report.read_text(errors="replace")
    found: list[str] = []
    if report.suffix == ".json":
        try:
            stack: list[Any] = [json.loads(text)]
        except ValueError as exc:
            raise TraceError(f"{report} is not a trace and not a JSON scenario report: {exc}") from None
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, str) and item.endswith(".mcap"):
                found.append(item)
        found.reverse()
    else:  # JUnit XML (a `trace` property), a table: pick the paths out of the text
        found = _MCAP_WORD.findall(text)
    paths = []
    for name in dict.fromkeys(found):
        path = Path(name)
        if not path.is_absolute():
            # relative to the report, else to where the suite ran (here)
            path = report.parent / name if (report.parent / name).exists() or not path.exists() else path
        paths.append(path)
    return paths


def discover(source: str | os.PathLike[str]) -> list[Path]:
    """The traces `source` means: itself, the .mcap files under a directory, or a report's.

    Raises `TraceError` with a sentence a person can act on when there is nothing to show.
    """
    path = Path(source)
    if not path.exists():
        raise TraceError(f"{path}: no such file or directory")
    if path.is_dir():
        traces = sorted(path.rglob("*.mcap"), key=lambda p: (p.stat().st_mtime, str(p)))
        if not traces:
            raise TraceError(f"{path} holds no .mcap traces (looked in every folder under it)")
        return traces
    if path.suffix in _REPORT_SUFFIXES:
        traces = _traces_in_report(path)
        if not traces:
            raise TraceError(f"{path} names no .mcap traces; give a trace, a folder of traces or a report")
        return traces
    next(iter(iter_trace(path)), None)  # raises TraceError now if the file is not MCAP
    return [path]


class RunCatalogue:
    """The runs on offer and their indexes (thread-safe: indexing runs in worker threads)."""

    def __init__(self, source: str | os.PathLike[str]) -> None:
        self.source = Path(source)
        self._lock = threading.Lock()
        self._cache: dict[Path, tuple[tuple[float, int], dict[str, Any]]] = {}
        self._entries: list[RunEntry] = []
        self.refresh()

    def refresh(self) -> list[RunEntry]:
        paths = discover(self.source)
        with self._lock:
            known = {e.path: e.id for e in self._entries}
            entries = []
            for path in paths:
                # ids stay stable across refreshes so the page's links keep working
                run_id = known.get(path) or str(len(known) + len(entries))
                entries.append(RunEntry(run_id, path, _name(path, self.source)))
            self._entries = entries
            return list(entries)

    def entries(self) -> list[RunEntry]:
        with self._lock:
            return list(self._entries)

    def get(self, run_id: str) -> RunEntry | None:
        return next((e for e in self.entries() if e.id == run_id), None)

    def summary(self, entry: RunEntry) -> dict[str, Any]:
        """What the run list shows; the command comes from the first message, cheaply."""
        row: dict[str, Any] = {"id": entry.id, "path": str(entry.path), "name": entry.name}
        try:
            stat = entry.path.stat()
            row.update(size_bytes=stat.st_size, mtime=stat.st_mtime)
            with self._lock:
                cached = self._cache.get(entry.path)
            if cached is not None:
                view = cached[1]
                row.update(
                    command=view["header"]["command"], outcome=view["outcome"], damaged=bool(view["damage"])
                )
            else:
                first = next(iter(iter_trace(entry.path, topics=["/run/meta"])), None)
                row["command"] = first.payload.get("command") if first else None
        except (OSError, TraceError) as exc:
            row["error"] = str(exc)
        return row

    def index(self, entry: RunEntry) -> dict[str, Any]:
        stat = entry.path.stat()
        key = (stat.st_mtime, stat.st_size)
        with self._lock:
            cached = self._cache.get(entry.path)
        if cached is not None and cached[0] == key:
            return cached[1]
        view = index_run(entry.path)
        view.update(id=entry.id, name=entry.name)
        with self._lock:
            self._cache[entry.path] = (key, view)
        return view


def _name(path: Path, source: Path) -> str:
    """`coffee/seed0` for `<folder>/coffee/seed0/trace.mcap` (a suite's layout), `x.mcap` for x.mcap.

    Relative to the folder served, or to the report's folder; a lone `trace.mcap` is named
    after its folder.
    """
    base = source if source.is_dir() else source.parent
    try:
        parts = list(path.relative_to(base).parts)
    except ValueError:  # a report naming a trace elsewhere
        parts = list(path.parts[-3:])
    if parts and parts[-1] == "trace.mcap":
        parts = parts[:-1] or [path.parent.name]
    return "/".join(parts) or path.name
