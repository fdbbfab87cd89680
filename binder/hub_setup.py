"""Put the kit's Jupyter settings into an environment, so every user's server serves the app and the notebooks.

Used on a hub (docs/hub.md), never by ``make``: ``binder/postBuild`` runs ``config`` once when the image is
built (repo2docker, Binder, Zero to JupyterHub) or the environment is set up (The Littlest JupyterHub);
``binder/start`` runs ``cache-dir`` and ``notebooks`` each time a user's server starts.

* ``config [PREFIX]`` writes, under PREFIX (default: this Python's ``sys.prefix``):
  - ``etc/jupyter/voila.json``: the ``VoilaConfiguration`` section of ``notebooks/voila.json`` (template
    ``kit``, theme, sources stripped, no tracebacks) for Voila as a Jupyter server extension, which reads
    ``voila.json`` from the Jupyter config path and from the server's working folder, never from
    ``notebooks/``. The two settings only standalone Voila honours (``preheat_kernel``,
    ``default_pool_size``) are left out;
  - ``etc/jupyter/jupyter_server_config.d/llm-decision-kit.json``: idle kernels are culled with the app's
    ``MappingKernelManager`` settings, JupyterLab's news feed and update check are off (as ``make lab``
    does), and ``ServerApp.default_url`` is the first notebook (a fallback: the hub's
    ``Spawner.default_url`` or Binder's ``urlpath`` decides, and ``jupyter lab`` opens ``/lab``);
  - ``share/jupyter/voila/templates/kit``: a copy of the kit's offline Voila template.
* ``cache-dir [PREFIX]`` prints the shared cache the image is built with (``KIT_CACHE_DIR``): the offline
  Vega bundle and the assembled model files live there, outside the users' homes, once for everyone.
* ``notebooks SRC DST`` copies the notebooks into the user's home, never overwriting a file that is
  already there (a user's edits survive an image update; new notebooks appear). Nothing happens when
  SRC and DST are the same folder (Binder builds the repository into the home folder itself).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VOILA_JSON = REPO / "notebooks" / "voila.json"
TEMPLATE = REPO / "kit" / "share" / "jupyter" / "voila" / "templates" / "kit"
START_PAGE = "notebooks/00_start_here.ipynb"
APP_PAGE = "notebooks/app.ipynb"
DEFAULT_URL = f"/lab/tree/{START_PAGE}"
APP_URL = f"/voila/render/{APP_PAGE}"  # the app's address, after /user/<name> on a hub
STANDALONE_ONLY = ("preheat_kernel", "default_pool_size")  # Voila's server extension has no kernel pool
SERVER_CONFIG = "llm-decision-kit.json"


def voila_settings(voila_json: Path = VOILA_JSON) -> dict:
    """Return the Voila server extension's settings: the app's VoilaConfiguration, without the pool."""
    section = json.loads(voila_json.read_text(encoding="utf-8"))["VoilaConfiguration"]
    return {"VoilaConfiguration": {k: v for k, v in section.items() if k not in STANDALONE_ONLY}}


def server_settings(voila_json: Path = VOILA_JSON) -> dict:
    """Return the Jupyter server's settings: start page, kernel culling as the app's, no news or update check."""
    culling = json.loads(voila_json.read_text(encoding="utf-8"))["MappingKernelManager"]
    return {
        "ServerApp": {"default_url": DEFAULT_URL},
        "MappingKernelManager": dict(culling),
        "LabApp": {"news_url": None, "check_for_updates_class": "jupyterlab.NeverCheckForUpdate"},
    }


def cache_dir(prefix: str | Path = sys.prefix) -> Path:
    """Return the kit's shared cache in an environment (the value of KIT_CACHE_DIR on a hub)."""
    return Path(prefix) / "share" / "llm-decision-kit" / "cache"


def write_config(prefix: str | Path = sys.prefix) -> list[Path]:
    """Write the Voila and server settings and the template under ``prefix``; return what was written."""
    etc = Path(prefix) / "etc" / "jupyter"
    (etc / "jupyter_server_config.d").mkdir(parents=True, exist_ok=True)
    voila = etc / "voila.json"
    voila.write_text(json.dumps(voila_settings(), indent=2) + "\n", encoding="utf-8")
    server = etc / "jupyter_server_config.d" / SERVER_CONFIG
    server.write_text(json.dumps(server_settings(), indent=2) + "\n", encoding="utf-8")
    template = Path(prefix) / "share" / "jupyter" / "voila" / "templates" / "kit"
    shutil.copytree(TEMPLATE, template, dirs_exist_ok=True)
    return [voila, server, template]


def copy_notebooks(src: str | Path, dst: str | Path) -> list[Path]:
    """Copy the files of ``src`` missing from ``dst`` (never overwrite); return the files copied."""
    src, dst = Path(src).resolve(), Path(dst)
    if dst.exists() and dst.resolve() == src:
        return []
    copied = []
    for path in sorted(p for p in src.rglob("*") if p.is_file() and ".ipynb_checkpoints" not in p.parts):
        target = dst / path.relative_to(src)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            copied.append(target)
    return copied


def main(argv: list[str]) -> int:
    """Run one command (see the module's doc); return the exit status."""
    if argv[:1] == ["config"] and len(argv) <= 2:
        for path in write_config(*argv[1:]):
            print(f"wrote {path}")
        return 0
    if argv[:1] == ["cache-dir"] and len(argv) <= 2:
        print(cache_dir(*argv[1:]))
        return 0
    if argv[:1] == ["notebooks"] and len(argv) == 3:
        copied = copy_notebooks(argv[1], argv[2])
        if copied:
            print(f"copied {len(copied)} notebook file(s) into {argv[2]}")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
