"""Reports of a design point: the :class:`Report` data, its JSON file, Markdown/HTML and figures."""

from .model import Report

__all__ = ["Report"]
