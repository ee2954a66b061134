"""Durable business processes. No I/O here: activities do it."""
