"""Check the hub configurations with the tools the hubs themselves use (docs/hub.md, README "Running on JupyterHub").

* ``z2jh``: docs/hub/z2jh-config.yaml merged into the chart's values.yaml as helm merges them, then
  validated with jsonschema against the chart's values.schema.json (both from Zero to JupyterHub 4.4.0,
  docs/hub/z2jh-4.4.0/SOURCE.md). Needs pyyaml and jsonschema (both in the kit's venv).
* ``jupyterhub [CONFIG]``: docs/hub/jupyterhub_config.py (or CONFIG, e.g. TLJH's own jupyterhub_config.py,
  which loads it from jupyterhub_config.d) loaded by JupyterHub's own loader
  (``JupyterHub.load_config_file``), then the configured spawner class built from it: a setting its
  traits reject fails, and one no class recognises is reported. Needs jupyterhub (a separate venv).

    python docs/hub/check_hub.py z2jh
    /tmp/hubtools/bin/python docs/hub/check_hub.py jupyterhub [CONFIG]
"""

from __future__ import annotations

import copy
import json
import logging
import sys
from pathlib import Path
from types import SimpleNamespace

HERE = Path(__file__).resolve().parent
CHART = HERE / "z2jh-4.4.0"
Z2JH_CONFIG = HERE / "z2jh-config.yaml"
HUB_CONFIG = HERE / "jupyterhub_config.py"


def helm_merge(chart: dict, user: dict) -> dict:
    """Return the chart's values with the user's on top, as helm coalesces them (maps merge; null deletes)."""
    out = copy.deepcopy(chart)
    for key, value in user.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = helm_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def z2jh_errors(config: Path = Z2JH_CONFIG) -> list[str]:
    """Return the schema errors of ``config`` merged into the chart's values (empty: valid)."""
    import jsonschema  # delayed: only this check needs it
    import yaml

    schema = json.loads((CHART / "values.schema.json").read_text(encoding="utf-8"))
    values = helm_merge(yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8")), load_yaml(config))
    validator = jsonschema.Draft7Validator(schema)
    return [f"{'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in validator.iter_errors(values)]


def load_yaml(path: Path) -> dict:
    """Return a YAML file's mapping."""
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8"))


def jupyterhub_check(config: Path = HUB_CONFIG) -> tuple[dict, list[str]]:
    """Load ``config`` with JupyterHub's loader and build its spawner; return the Spawner settings and warnings."""
    from jupyterhub.app import JupyterHub  # delayed: jupyterhub lives in another venv

    warnings: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                warnings.append(record.getMessage())

    app = JupyterHub()
    app.log.addHandler(Collect())
    app.load_config_file(str(config))
    spawner_class = app.spawner_class  # resolves an entry-point name or import string, as the hub does
    student = SimpleNamespace(
        name="student", id=1, url="/user/student/"
    )  # SystemdSpawner names its unit after the user
    spawner = spawner_class(config=app.config, log=app.log, user=student)  # trait validation of every setting
    sections = {name: dict(app.config[name]) for name in app.config if "Spawner" in name}
    effective = {
        "spawner_class": f"{spawner_class.__module__}.{spawner_class.__name__}",
        "cmd": spawner.cmd,
        "default_url": spawner.default_url,
        "mem_limit": spawner.mem_limit,
        "cpu_limit": spawner.cpu_limit,
        "start_timeout": spawner.start_timeout,
        "http_timeout": spawner.http_timeout,
        "services": [svc.get("command") for svc in app.config.JupyterHub.get("services", [])],  # TLJH's culler
    }
    for name, section in sections.items():
        for key in section:
            if not any(
                key in cls.class_trait_names() for cls in spawner_class.mro() if hasattr(cls, "class_trait_names")
            ):
                warnings.append(f"{name}.{key} is not a setting of {spawner_class.__name__}")
    return effective, warnings


def main(argv: list[str]) -> int:
    """Run one check; print its result; return 0 when it passes."""
    if argv[:1] == ["z2jh"]:
        errors = z2jh_errors()
        for error in errors:
            print(f"schema error: {error}")
        print(
            f"{Z2JH_CONFIG.name}: {'INVALID' if errors else 'valid'} against Zero to JupyterHub 4.4.0's values.schema.json"
        )
        return 1 if errors else 0
    if argv[:1] == ["jupyterhub"] and len(argv) <= 2:
        config = Path(argv[1]) if len(argv) == 2 else HUB_CONFIG
        effective, warnings = jupyterhub_check(config)
        import jupyterhub

        print(f"loaded {config} with JupyterHub {jupyterhub.__version__}'s loader:")
        for key, value in effective.items():
            print(f"  {key} = {value!r}")
        for warning in warnings:
            print(f"warning: {warning}")
        return 1 if warnings else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
