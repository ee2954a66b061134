"""Typed messages between the API, workflows and activities: one vocabulary for the platform."""
