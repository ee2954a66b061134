"""Running the platform: Temporal connection, the embedded-default launcher and its services."""
