"""`humanoid trace serve`: a local web page for the runs' traces (aiohttp, nothing from a CDN).

The page (`static/`) asks a small JSON API for what it draws:

    GET /api/runs                 the runs on offer (id, name, command, outcome once indexed)
    GET /api/runs/{id}            one run, indexed in a streaming pass (run_index.index_run)
    GET /api/runs/{id}/clip       the video rendered from the run, when there is one
    GET /api/compare?a=ID&b=ID    two runs' subgoals lined up, and where they diverged

It binds to 127.0.0.1 unless told otherwise: a trace holds the operator's commands and
the robot's surroundings, which are nobody else's business.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
import webbrowser
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

from aiohttp import web

from humanoid.trace.reader import TraceError
from humanoid.viewer.catalogue import RunCatalogue, RunEntry
from humanoid.viewer.compare import compare_runs

STATIC = Path(__file__).resolve().parent / "static"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
CATALOGUE = web.AppKey("catalogue", RunCatalogue)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _entry(request: web.Request, key: str = "run_id") -> RunEntry:
    catalogue = request.app[CATALOGUE]
    run_id = request.match_info.get(key) or request.query.get(key, "")
    entry = catalogue.get(run_id)
    if entry is None:
        catalogue.refresh()  # a run written since the page opened
        entry = catalogue.get(run_id)
    if entry is None:
        raise web.HTTPNotFound(text=f"no run {run_id!r}; see /api/runs")
    return entry


async def _indexed(request: web.Request, entry: RunEntry) -> dict[str, Any]:
    # Indexing reads the whole file: off the event loop, so other requests keep flowing.
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, partial(request.app[CATALOGUE].index, entry))


async def page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


async def runs(request: web.Request) -> web.Response:
    catalogue = request.app[CATALOGUE]
    try:
        entries = catalogue.refresh()
    except TraceError as exc:
        return _error(404, str(exc))
    rows = [catalogue.summary(e) for e in entries]
    return web.json_response({"source": str(catalogue.source), "runs": rows})


async def run(request: web.Request) -> web.Response:
    entry = _entry(request)
    try:
        return web.json_response(await _indexed(request, entry))
    except (TraceError, OSError) as exc:
        return _error(422, str(exc))


async def clip(request: web.Request) -> web.StreamResponse:
    entry = _entry(request)
    view = await _indexed(request, entry)
    video = Path(view["clip_path"]) if view.get("clip_path") else None
    if video is None or not video.is_file():
        raise web.HTTPNotFound(text="this run recorded no video (humanoid run --video)")
    return web.FileResponse(video)


async def compare(request: web.Request) -> web.Response:
    a, b = _entry(request, "a"), _entry(request, "b")
    try:
        left, right = await _indexed(request, a), await _indexed(request, b)
    except (TraceError, OSError) as exc:
        return _error(422, str(exc))
    return web.json_response(compare_runs(left, right))


def make_app(source: str | os.PathLike[str]) -> web.Application:
    """The viewer's web application over `source` (a trace, a folder of traces or a report)."""
    app = web.Application()
    app[CATALOGUE] = RunCatalogue(source)
    app.router.add_get("/", page)
    app.router.add_get("/api/runs", runs)
    app.router.add_get("/api/runs/{run_id}", run)
    app.router.add_get("/api/runs/{run_id}/clip", clip)
    app.router.add_get("/api/compare", compare)
    app.router.add_static("/static/", STATIC)
    return app


def serve(
    source: str | os.PathLike[str],
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    open_browser: bool = False,
) -> int:
    """Serve the viewer until Ctrl-C; returns an exit code (2: nothing to show)."""
    try:
        app = make_app(source)
    except TraceError as exc:
        print(f"humanoid trace serve: {exc}", file=sys.stderr)
        return 2
    url = f"http://{host}:{port}/"
    entries = app[CATALOGUE].entries()
    print(
        f"trace viewer: {len(entries)} run{'s' * (len(entries) != 1)} from {source} at {url}  (Ctrl-C stops)"
    )
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: listening on {host}: anyone who can reach this machine can read these traces")
    if open_browser:
        webbrowser.open(url)
    try:
        web.run_app(app, host=host, port=port, print=None, handle_signals=True)
    except OSError as exc:
        print(f"humanoid trace serve: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return 0


@contextlib.contextmanager
def running_server(source: str | os.PathLike[str], host: str = DEFAULT_HOST) -> Iterator[str]:
    """Serve the viewer from a background thread on a free port; yields its base URL.

    For tests and benchmarks, which drive the page from the same process (the event loop
    lives entirely in the thread, so the caller may run its own, as Playwright does).
    """
    app = make_app(source)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, handle_signals=False)
    started: dict[str, Any] = {}
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(runner.setup())
            loop.run_until_complete(web.TCPSite(runner, host, 0).start())
            started["port"] = runner.addresses[0][1]
        except Exception as exc:  # handed to the caller below
            started["error"] = exc
        ready.set()
        if "port" in started:
            loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=run, name="trace-viewer", daemon=True)
    thread.start()
    ready.wait(30)
    if "port" not in started:
        raise RuntimeError(f"the trace viewer did not start: {started.get('error', 'timed out')}")
    try:
        yield f"http://{host}:{started['port']}"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
