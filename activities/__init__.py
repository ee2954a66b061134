"""Side effects, grouped by the system they touch. Each is idempotent: safe to retry."""
