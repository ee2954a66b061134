"""The REST API: buyers, suppliers, ops staff and regulators call it with bearer tokens."""
