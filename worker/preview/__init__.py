"""`reengage preview`: who a stored job would request, who not, and why (presentation only)."""
