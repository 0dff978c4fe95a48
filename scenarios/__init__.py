"""Scenes and scenario files, and (with the regression issue) the runner."""
