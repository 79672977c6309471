"""The Office's web application (``parindex serve``): FastAPI + Jinja2 + vendored htmx.

Pages and the HTTP API call only ``scoring.api``; the store (``scoring.store``) keeps what was uploaded.
"""

from .app import create_app
from .config import WebConfig

__all__ = ["WebConfig", "create_app"]
