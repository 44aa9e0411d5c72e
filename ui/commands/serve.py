"""`studygraph ui`: start the Streamlit app (bound to 127.0.0.1 by default, headless, no usage statistics)."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from studygraph.errors import import_optional
from studygraph.settings import Settings
from ui.cli_common import ConfigOpt, WorkspaceOpt, command, console, settings_from

APP = Path(__file__).resolve().parent.parent / "app.py"


def streamlit_command(settings: Settings, host: str, port: int, config: Path | None, no_llm: bool) -> list[str]:
    """The `streamlit run` command line for the app with these settings.

    Args:
        settings: the effective settings (the workspace and upload limit are passed on).
        host: address to bind.
        port: port to listen on.
        config: the settings file, passed on so the app reads the same settings.
        no_llm: start with "answer without LLM" switched on.
    """
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.address", host,
        "--server.port", str(port),
        "--server.headless", "true",
        "--server.maxUploadSize", str(max(1, math.ceil(settings.ui.max_upload_mb))),
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
        "--global.developmentMode", "false",
        "--client.toolbarMode", "minimal",
        "--",
        "--workspace", str(Path(settings.workspace).resolve()),
    ]
    if config is not None:
        cmd += ["--config", str(config.resolve())]
    if no_llm:
        cmd.append("--no-llm")
    return cmd


def register(app: typer.Typer) -> None:
    @command(app, "ui")
    def ui_cmd(
        port: Annotated[int | None, typer.Option("--port", "-p", help="Port (default: settings' ui.port, 8501).")] = None,
        host: Annotated[str | None, typer.Option("--host", help="Address to bind (default: 127.0.0.1).")] = None,
        no_llm: Annotated[bool, typer.Option("--no-llm", help="Start with 'answer without LLM' switched on.")] = False,
        workspace: WorkspaceOpt = None,
        config: ConfigOpt = None,
    ) -> None:
        """Start the web app: chat with citations, the concept graph, study paths, notes."""
        settings = settings_from(config, workspace)
        import_optional("streamlit", "the web app needs the 'ui' extra: pip install 'studygraph[ui]'.")
        host = host or settings.ui.host
        port = port or settings.ui.port
        console.print(f"studygraph: serving http://{host}:{port} (workspace {settings.workspace}); Ctrl-C stops it.")
        proc = subprocess.Popen(streamlit_command(settings, host, port, config, no_llm))
        try:
            code = proc.wait()
        except KeyboardInterrupt:
            proc.terminate()
            code = proc.wait()
        if code:
            raise typer.Exit(code)
