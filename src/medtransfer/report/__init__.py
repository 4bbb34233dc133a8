"""The run report: one self-contained HTML file, built from the run directory alone."""

from medtransfer.report.html import render_report

__all__ = ["render_report"]
