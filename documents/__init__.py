"""Bilingual (Chinese / English) documents: jinja2 templates rendered to PDF by weasyprint."""
