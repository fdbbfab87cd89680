"""The hub files (binder/, docs/hub/) stay in step with the Makefile, environment.yml and notebooks/voila.json.

They are read by tools this venv does not run (repo2docker, JupyterHub, helm): these tests fail when one
of them drifts from what `make setup` and `make app` do. docs/hub.md says how each was checked with the
real tools.
"""

from __future__ import annotations

import json
import os
import re
import stat
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from jupyter_server.services.kernels.kernelmanager import MappingKernelManager
from jupyterlab.labapp import LabApp
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from traitlets.config import Config, PyFileConfigLoader

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
HUB = ROOT / "docs" / "hub"
sys.path[:0] = [str(BINDER), str(HUB)]
import check_hub  # noqa: E402  (docs/hub/ and binder/ are folders of scripts, not packages)
import hub_setup  # noqa: E402

LOCAL = ("-e .", ".", "-e")  # local pip requirements: repo2docker stages the repository for them


def _deps(path: Path) -> tuple[list[str], list[str]]:
    """Return an environment file's conda and pip requirement lines."""
    env = yaml.safe_load(path.read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = [p for d in env["dependencies"] if isinstance(d, dict) for p in d["pip"]]
    return conda, pip


def _makefile_setup_steps() -> list[str]:
    """Return the Python one-liners the Makefile's setup recipe runs in the venv (its recipe lines, not the
    variable that reads llama-cpp-python's requirement for the installer)."""
    steps = re.findall(r"^\t@?\$\(BIN\)/python -c '([^']+)'", (ROOT / "Makefile").read_text(), re.M)
    assert len(steps) == 3, steps  # bundle, models, import check: a step added or dropped must be looked at here
    return steps


def test_binder_environment_is_environment_yml_but_for_python_llama_and_the_kit():
    root_conda, root_pip = _deps(ROOT / "environment.yml")
    conda, pip = _deps(BINDER / "environment.yml")
    # python pinned to one minor version that the repository's own range allows
    (root_python,) = [d for d in root_conda if re.match(r"python(?![\w-])", d)]
    (python,) = [d for d in conda if re.match(r"python(?![\w-])", d)]
    assert re.fullmatch(r"python=3\.\d+", python), "repo2docker reads the version only from python=X.Y"
    assert SpecifierSet(root_python.removeprefix("python")).contains(python.removeprefix("python=") + ".0")
    assert [d for d in root_conda if d != root_python] == [d for d in conda if d != python]
    # pip: the same lines but llama-cpp-python (compiled by postBuild) and the local kit
    left_to_postbuild = [p for p in root_pip if p.startswith("llama-cpp-python") or p.strip() in LOCAL]
    assert len(left_to_postbuild) == 2, left_to_postbuild
    assert [p for p in root_pip if p not in left_to_postbuild] == pip
    assert not [p for p in pip if p.strip() in LOCAL or p.startswith(("-e", "."))]
    env = yaml.safe_load((BINDER / "environment.yml").read_text())
    assert env["channels"] == yaml.safe_load((ROOT / "environment.yml").read_text())["channels"]


def test_postbuild_installs_llama_cpp_through_the_kit():
    """postBuild's `pip install -e .` must bring llama-cpp-python: pyproject.toml must still require it."""
    import tomllib

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert any(Requirement(d).name == "llama-cpp-python" for d in deps)
    assert re.search(r"^python -m pip install [^\n]*-e \.$", (BINDER / "postBuild").read_text(), re.M)


def test_postbuild_runs_the_makefile_setup_steps_with_the_same_cmake_args():
    post = (BINDER / "postBuild").read_text()
    (make_args,) = re.findall(r"^export CMAKE_ARGS \?= *(.+)$", (ROOT / "Makefile").read_text(), re.M)
    (post_args,) = re.findall(r'^export CMAKE_ARGS="([^"]*)"', post, re.M)
    assert post_args == make_args.strip().replace("$(CURDIR)", "$PWD")  # both: the repository's root
    assert (ROOT / "cmake" / "llama-no-common.cmake").read_text().strip().endswith("set(LLAMA_BUILD_COMMON OFF)")
    steps = _makefile_setup_steps()
    assert any("enable_offline" in s for s in steps) and any("local.verify" in s for s in steps)
    for step in steps:
        assert f"python -c '{step}'" in post, f"postBuild does not run the Makefile's setup step: {step}"
    order = [
        "\npython -m pip install",
        "\npython -c 'import kit.charts",
        "\npython -c 'import kit.local",
        "\npython binder/hub_setup.py config",
    ]
    assert [post.index(step) for step in order] == sorted(post.index(step) for step in order)
    assert post.startswith("#!/bin/bash\n") and "set -euo pipefail" in post


def test_postbuild_and_start_use_the_same_shared_cache_and_are_executable():
    post, start = (BINDER / "postBuild").read_text(), (BINDER / "start").read_text()
    for text in (post, start):
        assert re.search(r'KIT_CACHE_DIR="\$\{KIT_CACHE_DIR:-\$\(python "?\S*binder/hub_setup\.py"? cache-dir', text)
    assert "export KIT_CACHE_DIR" in start and start.rstrip().endswith('exec "$@"')
    for script in ("postBuild", "start"):
        assert os.stat(BINDER / script).st_mode & stat.S_IXUSR, f"binder/{script} must be executable"
    assert hub_setup.cache_dir("/srv/conda/envs/notebook") == Path(
        "/srv/conda/envs/notebook/share/llm-decision-kit/cache"
    )


def test_voila_server_extension_reads_the_app_settings_and_finds_the_template(tmp_path, monkeypatch):
    from voila.configuration import VoilaConfiguration
    from voila.paths import collect_template_paths
    from voila.server_extension import load_config_file

    hub_setup.write_config(tmp_path)
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(tmp_path / "etc" / "jupyter"))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "share" / "jupyter"))
    monkeypatch.chdir(tmp_path)  # the server's working folder (a user's home) has no voila.json
    conf = VoilaConfiguration(config=load_config_file())  # what _load_jupyter_server_extension does
    app = json.loads((ROOT / "notebooks" / "voila.json").read_text())["VoilaConfiguration"]
    for key, value in app.items():
        if key not in hub_setup.STANDALONE_ONLY:
            assert getattr(conf, key) == value, key
    assert conf.template == "kit"
    paths = collect_template_paths(["voila", "nbconvert"], conf.template)
    ours = tmp_path / "share" / "jupyter" / "voila" / "templates" / "kit"
    assert str(ours) in paths
    kit = ROOT / "kit" / "share" / "jupyter" / "voila" / "templates" / "kit"
    assert sorted(p.name for p in ours.iterdir()) == sorted(p.name for p in kit.iterdir())
    assert (ours / "index.html.j2").read_bytes() == (kit / "index.html.j2").read_bytes()


def test_server_settings_are_real_traits_and_match_the_app(tmp_path):
    hub_setup.write_config(tmp_path)
    server = json.loads(
        (tmp_path / "etc" / "jupyter" / "jupyter_server_config.d" / hub_setup.SERVER_CONFIG).read_text()
    )
    app = json.loads((ROOT / "notebooks" / "voila.json").read_text())
    assert server["MappingKernelManager"] == app["MappingKernelManager"]
    assert set(server["MappingKernelManager"]) <= set(MappingKernelManager.class_trait_names())
    assert set(server["LabApp"]) <= set(LabApp.class_trait_names())
    assert (ROOT / server["ServerApp"]["default_url"].removeprefix("/lab/tree/")).is_file()
    kept = {k for k in app["VoilaConfiguration"] if k not in hub_setup.STANDALONE_ONLY}
    assert set(hub_setup.voila_settings()["VoilaConfiguration"]) == kept


def test_notebooks_are_copied_into_the_home_without_overwriting(tmp_path):
    src, home = tmp_path / "repo" / "notebooks", tmp_path / "home" / "notebooks"
    src.mkdir(parents=True)
    (src / "00_a.ipynb").write_text("repo a")
    (src / ".ipynb_checkpoints").mkdir()
    (src / ".ipynb_checkpoints" / "x.ipynb").write_text("junk")
    assert [p.name for p in hub_setup.copy_notebooks(src, home)] == ["00_a.ipynb"]
    (home / "00_a.ipynb").write_text("my edits")
    (src / "01_b.ipynb").write_text("repo b")
    assert [p.name for p in hub_setup.copy_notebooks(src, home)] == ["01_b.ipynb"]
    assert (home / "00_a.ipynb").read_text() == "my edits"
    assert hub_setup.copy_notebooks(src, src) == []  # Binder: the repository is the home


def test_urls_agree_across_the_hub_files():
    assert hub_setup.APP_URL == "/voila/render/notebooks/app.ipynb"
    assert (ROOT / hub_setup.APP_PAGE).is_file() and (ROOT / hub_setup.START_PAGE).is_file()
    z2jh = yaml.safe_load((HUB / "z2jh-config.yaml").read_text())
    assert z2jh["singleuser"]["defaultUrl"] == hub_setup.DEFAULT_URL
    overrides = [p.get("kubespawner_override", {}) for p in z2jh["singleuser"]["profileList"]]
    assert hub_setup.APP_URL in [o.get("default_url") for o in overrides]
    hub = _load_hub_config()
    assert hub.Spawner.default_url == hub_setup.DEFAULT_URL
    for text in ((ROOT / "README.md").read_text(), (ROOT / "docs" / "hub.md").read_text()):
        assert hub_setup.APP_URL in text


def _load_hub_config() -> Config:
    """Load docs/hub/jupyterhub_config.py with traitlets' Python config loader (JupyterHub's own loader uses it)."""
    loader = PyFileConfigLoader("jupyterhub_config.py", path=str(HUB))
    return loader.load_config()


def test_jupyterhub_config_starts_servers_through_binder_start():
    hub = _load_hub_config()
    kit = re.search(r'^KIT = "([^"]+)"', (HUB / "jupyterhub_config.py").read_text(), re.M).group(1)
    start, *rest = hub.Spawner.cmd
    assert start == f"{kit}/binder/start" and (ROOT / start.removeprefix(kit + "/")).is_file()
    assert rest == ["jupyterhub-singleuser"]
    assert re.fullmatch(r"\d+(\.\d+)?[MG]", hub.Spawner.mem_limit)


def test_jupyterhub_config_loads_in_jupyterhub():
    pytest.importorskip(
        "jupyterhub",
        reason="jupyterhub is not in the kit's venv: README 'Running on JupyterHub' runs this check in its own venv",
    )
    effective, warnings = check_hub.jupyterhub_check()
    assert warnings == []
    assert effective["default_url"] == hub_setup.DEFAULT_URL


def test_z2jh_config_is_valid_against_the_charts_own_schema(tmp_path):
    assert check_hub.z2jh_errors() == []
    # the check can fail: a misspelt key and a wrong type are both caught
    bad = yaml.safe_load((HUB / "z2jh-config.yaml").read_text())
    bad["singleuser"]["memory"]["limt"] = bad["singleuser"]["memory"].pop("limit")
    bad["cull"]["timeout"] = "half an hour"
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(bad))
    errors = check_hub.z2jh_errors(tmp_path / "bad.yaml")
    assert any("limt" in e for e in errors) and any(e.startswith("cull.timeout") for e in errors)


def test_z2jh_config_sets_prepull_culling_placeholders_and_memory():
    z2jh = yaml.safe_load((HUB / "z2jh-config.yaml").read_text())
    assert z2jh["prePuller"]["hook"]["enabled"] and z2jh["prePuller"]["continuous"]["enabled"]
    assert z2jh["cull"]["enabled"] and z2jh["cull"]["timeout"] >= 600
    assert z2jh["scheduling"]["userPlaceholder"]["enabled"] and z2jh["scheduling"]["userPlaceholder"]["replicas"] > 0
    assert z2jh["scheduling"]["podPriority"]["enabled"]  # placeholders are only evicted with pod priority on
    memory = z2jh["singleuser"]["memory"]
    assert _bytes(memory["guarantee"]) < _bytes(memory["limit"])
    assert z2jh["singleuser"]["image"]["tag"] not in ("latest", "")


def _bytes(spec: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)([KMGT]i?)?", str(spec)).groups()
    return float(number) * {None: 1, "K": 1e3, "M": 1e6, "G": 1e9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}[unit]


def test_chart_schema_is_the_committed_release_with_its_source():
    source = (HUB / "z2jh-4.4.0" / "SOURCE.md").read_text()
    assert re.search(r"\b[0-9a-f]{40}\b", source) and "4.4.0" in source
    schema = json.loads((HUB / "z2jh-4.4.0" / "values.schema.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    assert {"singleuser", "prePuller", "cull", "scheduling"} <= set(schema["properties"])


def test_dockerignore_keeps_what_the_image_needs():
    patterns = [
        line.strip()
        for line in (BINDER / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for needed in ("binder", "kit", "data", "notebooks", "pyproject.toml", "README.md", "Makefile"):
        assert not [p for p in patterns if Path(needed).match(p)], needed
    assert ".venv" in patterns


def test_readme_gives_the_validation_commands():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Running on JupyterHub") :]
    for command in (
        "repo2docker --no-build --debug",
        "check_hub.py z2jh",
        "check_hub.py jupyterhub",
        "measure_user.py",
    ):
        assert command in section, command
