"""The operator's trace viewer: `humanoid trace serve` serves a local page over runs' traces.

`run_index.index_run` reads one trace in a streaming pass into what the page draws,
`catalogue` finds the runs (a trace, a folder, a scenario report), `compare` lines two runs
up, `server` is the aiohttp app, and `static/` the page (with uPlot vendored, no CDN).
"""

from humanoid.viewer.run_index import index_run
from humanoid.viewer.server import make_app, serve

__all__ = ["index_run", "make_app", "serve"]
