"""Stand-ins for the external systems the platform talks to, with a fault-injection control API."""
