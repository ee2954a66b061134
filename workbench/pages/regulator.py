"""Placeholder: being written (issue 12)."""

from __future__ import annotations

from fastapi import APIRouter

from workbench.pages.common import PREFIX

router = APIRouter(prefix=PREFIX, include_in_schema=False)
