"""Notification channels are plugins: one module and one line in pyproject's ``aq.notification_channels``.

``load_channels`` builds the channels the configuration names, each from its own settings section, e.g.::

    CHANNELS:
      email: {smtp_url: "smtp://127.0.0.1:8025", from: "学院教务办公室 <jwb@college.example>"}
      in_app: {}

(services/notification/settings.py builds these sections from ``AQ_NOTICE_CHANNELS`` and ``AQ_CHANNEL_<NAME>_*``.)

A channel that is installed but not configured stays off; a configured name with no installed plugin is an error,
so a typo cannot silently drop every notice of a channel.
"""
from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any, Mapping

from services.notification.channels.base import (
    ABANDONED, FAILED_PERMANENT, FAILED_TEMPORARY, SENT, Channel, DeliveryResult, OutgoingMessage,
)

GROUP = "aq.notification_channels"

__all__ = ["Channel", "DeliveryResult", "OutgoingMessage", "SENT", "FAILED_TEMPORARY", "FAILED_PERMANENT", "ABANDONED",
           "GROUP", "available_channels", "load_channels"]


def available_channels() -> dict[str, Any]:
    """Installed channel plugins: name -> entry point."""
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def load_channels(settings: Mapping[str, Mapping[str, Any] | None]) -> dict[str, Channel]:
    """Channel name -> channel, for every channel named in ``settings`` (name -> that channel's settings)."""
    installed = available_channels()
    channels: dict[str, Channel] = {}
    for name, section in settings.items():
        if name not in installed:
            known = ", ".join(sorted(installed)) or "none"
            raise LookupError(f"unknown notification channel {name!r} (installed channels: {known})")
        channel_class = installed[name].load()
        if not (isinstance(channel_class, type) and issubclass(channel_class, Channel)):
            raise TypeError(f"channel plugin {name!r} is not a Channel: {channel_class!r}")
        channels[name] = channel_class(section or {})
    return channels
