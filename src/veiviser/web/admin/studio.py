"""The studio: intents, answers, phrases, trying, import/export and the notice."""

from __future__ import annotations

from fastapi import APIRouter

from veiviser.web.admin.pages import AdminFeature

router = APIRouter(prefix="/admin", include_in_schema=False)

feature = AdminFeature(router)
IMPORT_PATH = "/admin/kb/import"
