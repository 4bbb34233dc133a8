"""Leakage audit: the same input, near-identical input or the same patient in two splits; conflicting labels."""

from medtransfer.leakage_audit.leakage import LeakageReport, audit_split, resolve_leaks

__all__ = ["LeakageReport", "audit_split", "resolve_leaks"]
