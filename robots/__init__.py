"""Robot spec files: each robot is a folder with its MJCF, a manifest and its policy artifacts."""
