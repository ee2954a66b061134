"""Pure domain rules, free of I/O: used by workflows, activities, the API and tests alike.

One exception, read-only: the dangerous-goods tables under ``data/dangerous_goods`` are loaded
from the repository on first use (call them from the API or activities, not from workflows).
"""
