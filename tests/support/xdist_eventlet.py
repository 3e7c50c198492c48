"""pytest-xdist workers and eventlet's monkey-patching.

An xdist worker talks to the controller through execnet: a receiver thread, started before any test code runs,
reads the controller's commands and hands them to the main thread through locks and events that execnet's thread
model creates when asked, with ``import threading`` at that moment. tests/conftest.py monkey-patches eventlet
(in-process nameko containers need it) while the worker is already running, so every event created after that
is a green one: the receiver, a real OS thread, sets it and the main thread, waiting in eventlet's hub, never
wakes; the worker hangs before its first test. Here execnet's thread model is given the standard library's own
threading, queue and _thread back (eventlet keeps the originals), whatever the conftest patched."""
from __future__ import annotations

import os


def keep_execnet_on_real_threads() -> None:
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    from eventlet import patcher
    from execnet import gateway_base

    threading, queue, thread, time = (patcher.original(name) for name in ("threading", "queue", "_thread", "time"))
    model = gateway_base.ThreadExecModel          # MainThreadOnlyExecModel, xdist's, inherits all of these
    model.Lock = model.RLock = lambda self: threading.RLock()
    model.Event = lambda self: threading.Event()
    model.queue = property(lambda self: queue)
    model.start = lambda self, func, args=(): thread.start_new_thread(func, args)
    model.get_ident = lambda self: thread.get_ident()
    model.sleep = lambda self, delay: time.sleep(delay)
