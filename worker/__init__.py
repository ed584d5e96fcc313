"""reengage: event-driven candidate re-engagement for applicant tracking systems."""

__version__ = "0.1.0"
