"""The app's Voila server: Voila 0.5 plus a cap on the kernels that anonymous page loads can hold.

Voila gives every page load a kernel (a pre-heated one from its pool, whose replacement it starts at
once, or a fresh one) and keeps it until the page says goodbye or the idle culler stops it. Nothing
bounds how many: a loop of plain ``GET /`` on 127.0.0.1 held 9 kernels and 2.3 GB after 13 loads, and
Voila has no setting for it (voila-dashboards/voila#617). ``KitVoila`` serves exactly what ``voila``
serves, with two settings (section ``KitVoila`` of ``notebooks/voila.json``, or
``--KitVoila.max_kernels=N`` / ``--max-kernels=N`` on the command line):

* ``max_kernels`` (default 6): the most **visitors' kernels** alive at once: one per page load that got
  a kernel, from the moment it is handed out until it is shut down (page closed, idle-culled, or
  unclaimed, below). Page loads still being served count too. The pre-heated pool
  (``VoilaConfiguration.default_pool_size``) is not counted, so the server holds at most
  ``max_kernels + default_pool_size`` kernels. A page load beyond the cap gets HTTP 503 with a short
  "busy, try again in a minute" page (``Retry-After: 60``) and takes no kernel. 0 means no cap.
* ``unclaimed_timeout`` (default 60 s): a visitor's kernel that no page has connected to that long
  after its page was served (curl, a bot, a tab closed while loading) is shut down, so a loop of
  plain GETs frees its places within about a minute instead of waiting for ``cull_idle_timeout``.
  Kernels with a page connected are left to the idle culler (``MappingKernelManager`` settings,
  unchanged). 0 turns this off.

* ``refill_after`` (default 10 s): when a visitor takes a pre-heated kernel, its replacement starts only
  after this long while another pooled kernel is ready, so that heating it does not slow the page being
  loaded (Voila's own refill starts after 1 s). The pool is paced this way with or without seats.
* ``seats`` (default 0: off): a class's worth of pre-heated kernels (``kit app --seats N``, ``make app
  SEATS=N``). The pool grows to N before anyone arrives, ``heat_at_once`` kernels at a time (default: one
  per core) so that no kernel start times out on a small machine, and the cap on visitors' kernels becomes
  N. While visitors take seats, the pool is topped up only to what the class still lacks (at least
  ``spare``), so the server holds at most N + ``spare`` kernels. Progress ("seats ready: 12 of 30") and the
  memory in use are logged as the pool heats.

Readiness is Voila's own signal: a pre-heated kernel that has run the app's cells and waits for its visitor's
URL query is connected to Voila's ``/voila/query/<kernel id>`` socket.

Run it as ``python -m kit.voila_app app.ipynb [voila options]`` (``kit.serve`` does).
"""

from __future__ import annotations

import asyncio
import html
import os
import time
from typing import Any

from jupyter_core.utils import ensure_async
from tornado.ioloop import IOLoop, PeriodicCallback
from traitlets import Int
from voila.app import Voila
from voila.request_info_handler import RequestInfoSocketHandler
from voila.tornado.handler import TornadoVoilaHandler

from kit.procs import memory_mb

BUSY_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="60">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>The decision app is busy</title>
<style>body {{ font-family: Helvetica, Arial, sans-serif; color: #1d2330; max-width: 36em; margin: 12vh auto;
padding: 0 16px; line-height: 1.5; }} h1 {{ font-size: 22px; }} .muted {{ color: #5b6272; font-size: 13px; }}</style>
</head><body>
<h1>The decision app is busy &mdash; please try again in a minute</h1>
<p>It is already serving as many open pages as this computer is set to allow ({cap}).
A place frees up when someone closes the page or leaves it idle. This page tries again by itself
every minute.</p>
<p class="muted">For whoever runs the app: the limit is <code>max_kernels</code> in the
<code>KitVoila</code> section of <code>notebooks/voila.json</code>, or <code>kit app --max-kernels N</code>.</p>
</body></html>
"""


class Ticket:
    """One page load admitted by the gate: pending until it holds a kernel."""

    __slots__ = ("kernel_id",)

    def __init__(self) -> None:
        self.kernel_id: str | None = None


class KernelGate:
    """Counts the visitors' kernels and admits a page load only below the cap; reaps unclaimed kernels."""

    def __init__(self, kernel_manager: Any, max_kernels: int, unclaimed_timeout: float, log: Any):
        self.km, self.max_kernels, self.unclaimed_timeout, self.log = (
            kernel_manager,
            max_kernels,
            unclaimed_timeout,
            log,
        )
        self.visitors: set[str] = set()  # kernels handed to page loads (pooled or fresh)
        self.pending: set[Ticket] = set()  # page loads admitted that hold no kernel yet
        self._last_warning = 0.0

    def in_use(self) -> int:
        """Visitors' kernels still alive, plus page loads admitted that have not got theirs yet."""
        self.visitors &= set(self.km.list_kernel_ids())
        return len(self.visitors) + len(self.pending)

    def admit(self) -> Ticket | None:
        """Return a ticket for one page load, or None when the cap is reached (nothing is awaited here)."""
        if self.max_kernels > 0 and self.in_use() >= self.max_kernels:
            if time.monotonic() - self._last_warning > 60:
                self._last_warning = time.monotonic()
                self.log.warning(
                    "Busy: %d visitors' kernels in use, KitVoila.max_kernels is %d; further page "
                    "loads get HTTP 503 until one is closed, culled or unclaimed",
                    self.in_use(),
                    self.max_kernels,
                )
            return None
        ticket = Ticket()
        self.pending.add(ticket)
        return ticket

    def claim(self, ticket: Ticket, kernel_id: str) -> None:
        """The page load now holds ``kernel_id``: count the kernel instead of the ticket."""
        ticket.kernel_id = kernel_id
        self.visitors.add(kernel_id)
        self.pending.discard(ticket)

    def release(self, ticket: Ticket) -> None:
        """The page load is over; if it got a kernel, check later that a page connected to it."""
        self.pending.discard(ticket)
        if ticket.kernel_id and self.unclaimed_timeout > 0:
            kernel_id = ticket.kernel_id
            IOLoop.current().call_later(self.unclaimed_timeout, lambda: asyncio.ensure_future(self.reap(kernel_id)))

    async def reap(self, kernel_id: str) -> None:
        """Shut ``kernel_id`` down if it is alive and no page is connected to it."""
        try:
            if kernel_id not in self.km.list_kernel_ids():
                return
            if self.km.kernel_model(kernel_id).get("connections", 0) > 0:
                return
            self.log.warning(
                "Shutting down kernel %s: no page connected to it within %s s of serving it "
                "(KitVoila.unclaimed_timeout)",
                kernel_id,
                self.unclaimed_timeout,
            )
            await ensure_async(self.km.shutdown_kernel(kernel_id))
        except Exception:  # a kernel that went away meanwhile
            self.log.debug("unclaimed kernel %s: nothing to shut down", kernel_id, exc_info=True)


class _Claiming:
    """The kernel manager as one page load's handler sees it: records which kernel the load receives."""

    def __init__(self, km: Any, gate: KernelGate, ticket: Ticket):
        self._km, self._gate, self._ticket = km, gate, ticket

    def __getattr__(self, name: str) -> Any:
        return getattr(self._km, name)

    async def get_rendered_notebook(self, *args: Any, **kwargs: Any) -> Any:
        result = await self._km.get_rendered_notebook(*args, **kwargs)  # (task, cache, kernel_id)
        self._gate.claim(self._ticket, result[2])
        return result

    async def start_kernel(self, *args: Any, **kwargs: Any) -> str:
        kernel_id = await ensure_async(self._km.start_kernel(*args, **kwargs))
        self._gate.claim(self._ticket, kernel_id)
        return kernel_id


class CappedVoilaHandler(TornadoVoilaHandler):
    """Voila's page handler, behind the gate: over the cap, a 503 page and no kernel."""

    def initialize(self, gate: KernelGate | None = None, **kwargs: Any) -> None:
        self.gate = gate
        self._ticket: Ticket | None = None
        super().initialize(**kwargs)

    @property
    def kernel_manager(self) -> Any:
        km = super().kernel_manager
        return _Claiming(km, self.gate, self._ticket) if self._ticket is not None else km

    async def get(self, path: str | None = None) -> None:
        if self.gate is None or (self.notebook_path and path):  # a redirect to a file: no kernel
            return await super().get(path)
        ticket = self.gate.admit()
        if ticket is None:
            self.set_status(503)
            self.set_header("Retry-After", "60")
            self.set_header("Cache-Control", "no-store")
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish(BUSY_PAGE.format(cap=html.escape(str(self.gate.max_kernels))))
            return None
        self._ticket = ticket
        try:
            return await super().get(path)
        finally:
            self._ticket = None
            self.gate.release(ticket)


class KitVoila(Voila):
    """Voila with a cap on visitors' kernels and a reaper for unclaimed ones (see the module's doc)."""

    max_kernels = Int(
        6,
        config=True,
        help="The most visitors' kernels alive at once (the pre-heated pool not "
        "counted); page loads beyond it get HTTP 503. 0: no cap.",
    )
    unclaimed_timeout = Int(
        60,
        config=True,
        help="Seconds after its page was served after which a visitor's "
        "kernel that no page connected to is shut down. 0: never.",
    )
    seats = Int(
        0,
        config=True,
        help="Pre-heat this many kernels for a class (and cap visitors' kernels at it). 0: off.",
    )
    spare = Int(2, config=True, help="With seats: pre-heated kernels kept once every seat is taken.")
    heat_at_once = Int(0, config=True, help="Kernels pre-heated at the same time. 0: one per core.")
    refill_after = Int(
        10, config=True, help="Seconds a used pool kernel's replacement waits while another pooled kernel is ready."
    )
    aliases = {**Voila.aliases, "max-kernels": "KitVoila.max_kernels", "seats": "KitVoila.seats"}

    def wanted_pool(self) -> int:
        """How many pre-heated kernels the pool should hold now."""
        if self.seats <= 0:
            return self._base_pool
        return max(self.spare, self.seats - self.kernel_gate.in_use())

    def pool_state(self) -> tuple[int, int]:
        """Return (kernels in the pool, of which ready: waiting for a visitor)."""
        pool = self.kernel_manager._pools.get(self._notebook, [])
        waiting = RequestInfoSocketHandler._waiters
        ready = sum(1 for t in pool if t.done() and not t.exception() and t.result().get("kernel_id") in waiting)
        return len(pool), ready

    def after_visit(self, *args: Any, **kwargs: Any) -> None:
        """Voila took a kernel from the pool for a visitor: replace it, but not while that page loads.

        Heating a replacement takes a core for several seconds, the time the visitor's page needs to
        fetch its widgets from its kernel; while another kernel is ready, the replacement waits
        ``refill_after`` seconds.
        """
        self._hold_until = time.monotonic() + self.refill_after
        self.top_up()

    def top_up(self) -> None:
        """Start pool kernels up to ``wanted_pool()``, at most ``heat_at_once`` warming at a time."""
        size, ready = self.pool_state()
        if ready > 0 and time.monotonic() < self._hold_until:
            return
        room = self._heat_at_once - (size - ready)
        add = min(self.wanted_pool() - size, room)
        if add > 0:
            self.kernel_manager.kernel_pools_config["default"]["pool_size"] = size + add
            self._fill(delay=0, notebook_name=self._notebook)

    def report(self) -> None:
        """Top the pool up and log how many seats are ready (and the memory in use) when that changes."""
        self.top_up()
        state = self.pool_state()
        changed, self._last_state = state != self._last_state, state
        if not changed or self.seats <= 0 or self._all_ready:
            return
        ready, gb = state[1], memory_mb(os.getpid()) / 1024
        if ready >= self.seats:
            self._all_ready = True
            self.log.info("All %d seats are ready (%.1f GB in use): the class can open the page", self.seats, gb)
        else:
            self.log.info("Seats ready: %d of %d (%.1f GB in use)", ready, self.seats, gb)

    def start_pool_policy(self) -> None:
        """Route Voila's pool refills through ``top_up`` and tick every second."""
        km = self.kernel_manager
        self._notebook = getattr(km, "notebook_path", None)
        if self._notebook is None or not hasattr(km, "_pools"):
            return  # no pre-heating: nothing to pace
        self._base_pool = km.kernel_pools_config.get("default", {}).get("pool_size", 1)
        self._heat_at_once = self.heat_at_once or os.cpu_count() or 2
        self._fill, self._last_state, self._all_ready = km.fill_if_needed, (-1, -1), False
        self._hold_until = 0.0
        km.fill_if_needed = self.after_visit
        if self.seats > 0:
            self.log.info(
                "KitVoila: pre-heating %d seats, %d at a time (the page is served meanwhile)",
                self.seats,
                self._heat_at_once,
            )
        PeriodicCallback(self.report, 1000).start()

    def init_handlers(self) -> list:
        handlers = super().init_handlers()
        self.kernel_gate = KernelGate(self.kernel_manager, self.max_kernels, self.unclaimed_timeout, self.log)
        out = []
        for spec in handlers:
            if isinstance(spec, tuple) and len(spec) >= 2 and spec[1] is TornadoVoilaHandler:
                kwargs = spec[2] if len(spec) > 2 else {}
                spec = (spec[0], CappedVoilaHandler, {**kwargs, "gate": self.kernel_gate})
            out.append(spec)
        self.start_pool_policy()
        cap = f"at most {self.max_kernels} visitors' kernels" if self.max_kernels > 0 else "no cap on visitors' kernels"
        self.log.info(
            "KitVoila: %s (plus the pre-heated pool); unclaimed kernels shut down after %s s",
            cap,
            self.unclaimed_timeout or "never",
        )
        return out


main = KitVoila.launch_instance

if __name__ == "__main__":
    main()
