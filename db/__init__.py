"""PostgreSQL schema (SQLAlchemy 2 models), sessions, the audit log and demo data."""
