"""studygraph: a local, offline-first study companion over your own notes."""

from __future__ import annotations

__version__ = "0.1.0"
