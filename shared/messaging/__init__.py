# Importing the messaging package makes orjson kombu's JSON decoder (shared/messaging/codec.py).
from shared.messaging import codec as _codec  # noqa: F401
