"""Headless clips of a simulated run (`--video`): MuJoCo's offscreen renderer + PyAV (H.264).

Rendering goes through EGL or OSMesa (`MUJOCO_GL`), which must be set before MuJoCo is
imported: `humanoid/launch.py` sets it (default egl) for the simulator process.
Frames are taken in simulated time, so a clip shows the run at real speed whatever the
wall-clock speed of the simulation was.
"""

from __future__ import annotations

from pathlib import Path

import mujoco
import numpy as np


class VideoRecorder:
    def __init__(self, model: mujoco.MjModel, path: Path, fps: float = 10.0, size: tuple[int, int] = (480, 360)) -> None:
        try:
            import av
        except ImportError as exc:
            raise RuntimeError("--video needs PyAV: pip install 'humanoid-stack[video]'") from exc
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        width, height = size
        self.renderer = mujoco.Renderer(model, height, width)
        self.camera = mujoco.MjvCamera()
        # From the robot's right front, so the counter, the mugs and the machine's slot all show.
        self.camera.lookat[:] = (0.3, 0.05, 0.85)
        self.camera.distance, self.camera.azimuth, self.camera.elevation = 1.9, 120.0, -30.0
        self.period = 1.0 / fps
        self.next_time = 0.0
        self.container = av.open(str(self.path), mode="w")
        self.stream = self.container.add_stream("libx264", rate=int(fps))
        self.stream.width, self.stream.height, self.stream.pix_fmt = width, height, "yuv420p"
        self.frames = 0
        self._av = av

    def maybe_capture(self, data: mujoco.MjData) -> None:
        if data.time + 1e-9 < self.next_time:
            return
        self.next_time += self.period
        self.renderer.update_scene(data, camera=self.camera)
        pixels = np.ascontiguousarray(self.renderer.render())
        frame = self._av.VideoFrame.from_ndarray(pixels, format="rgb24")
        for packet in self.stream.encode(frame):
            self.container.mux(packet)
        self.frames += 1

    def close(self) -> None:
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()
        self.renderer.close()
