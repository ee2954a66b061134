"""Adapters to the external systems the platform calls (registry, regulator, banks)."""
