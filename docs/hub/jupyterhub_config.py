"""JupyterHub settings that serve the decision kit to every user of one machine (docs/hub.md).

The Littlest JupyterHub: copy this file to /opt/tljh/config/jupyterhub_config.d/llm-decision-kit.py and
run `sudo tljh-config reload hub` (TLJH loads every .py there after its own settings, so these win).
A plain JupyterHub: add these lines to its jupyterhub_config.py (any spawner that starts
`jupyterhub-singleuser` from the environment binder/postBuild set up).

The repository is cloned at KIT (readable by every user) and binder/postBuild has run once in the users'
environment (/opt/tljh/user on TLJH): llama.cpp compiled, offline Vega bundle and models in the shared
cache, Voila's settings and the kit's template installed. Idle servers are culled by TLJH's own
`cull-idle` service (`sudo tljh-config set services.cull.timeout 1800`; see docs/hub.md).
"""

c = get_config()  # noqa: F821  (JupyterHub's config loader defines get_config)

KIT = "/srv/llm-decision-kit"

# Every user's server starts through binder/start: the shared cache (KIT_CACHE_DIR) and a copy of the
# notebooks in ~/notebooks (never over the user's own edits), then jupyterhub-singleuser.
c.Spawner.cmd = [f"{KIT}/binder/start", "jupyterhub-singleuser"]
# JupyterLab opens at the first notebook; the app is at /user/<name>/voila/render/notebooks/app.ipynb.
c.Spawner.default_url = "/lab/tree/notebooks/00_start_here.ipynb"
# Measured (docs/hub.md, Sizing): a user with the app open and one notebook run holds about 0.65 GB, about
# 1.4 GB in notebook 07 (both local models loaded). Above the limit the kernel is killed, not the machine.
c.Spawner.mem_limit = "2G"
# Short bursts (a Monte Carlo, a chart) may use a whole core; more would starve the neighbours.
c.Spawner.cpu_limit = 1.0
# A class logs in within minutes: give a cold server time to start.
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 60
