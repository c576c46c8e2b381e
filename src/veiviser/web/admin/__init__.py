"""The admin pages under /admin: one router per feature, one list of features.

A feature registers itself with one line in ``FEATURES``; ``install_admin``
(called by ``create_app``) includes every router, collects the navigation
and installs the handlers that turn auth failures and ids out of the
database's range into a redirect or a Norwegian page.
"""

from __future__ import annotations

from fastapi import Depends, FastAPI

from veiviser.web.admin import (
    guard,
    handover,
    health,
    insight,
    log,
    pages,
    path_ids,
    review,
    revisions,
    studio,
    users,
)
from veiviser.web.admin.pages import TOO_LARGE_PATH as ADMIN_TOO_LARGE_PATH
from veiviser.web.admin.pages import AdminFeature
from veiviser.web.admin.studio import IMPORT_PATH as ADMIN_UPLOAD_PATH
from veiviser.web.admin.texts import admin_texts

__all__ = ["ADMIN_TOO_LARGE_PATH", "ADMIN_UPLOAD_PATH", "FEATURES", "install_admin"]

FEATURES: list[AdminFeature] = [
    pages.feature,
    studio.feature,
    users.feature,
    handover.feature,
    insight.feature,
    review.feature,
    log.feature,
    health.feature,
    guard.feature,
    revisions.feature,
]


def install_admin(app: FastAPI) -> None:
    """Add every admin feature's routes and navigation to ``app``."""
    admin_texts()  # a malformed or doubled text key stops the start here
    app.state.admin_nav = [item for feature in FEATURES for item in feature.nav]
    pages.install_handlers(app)
    path_ids.install_handler(app)
    in_range = [Depends(path_ids.ids_in_range)]
    for feature in FEATURES:
        app.include_router(feature.router, dependencies=in_range)
