"""The grafana-client adapter: put dashboards into a folder of a running Grafana."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import niquests
from grafana_client import GrafanaApi
from grafana_client.client import GrafanaException

from ioc.core.errors import ServiceError

__all__ = ["FOLDER_TITLE", "FOLDER_UID", "GrafanaError", "publish"]

log = logging.getLogger(__name__)

FOLDER_UID = "ioc-dong-xoai"
FOLDER_TITLE = "IOC Đồng Xoài"  # same folder name as the file provisioning uses


class GrafanaError(ServiceError):
    """Grafana was unreachable, refused our credentials or rejected a dashboard."""


def _connect(url: str, credential: str | tuple[str, str] | None,
             timeout_s: float) -> GrafanaApi:
    try:
        api = GrafanaApi.from_url(url, credential=credential, timeout=timeout_s)
        api.health.check()
    except (niquests.exceptions.RequestException, GrafanaException, OSError) as exc:
        raise GrafanaError(f"Grafana at {url} is unreachable: {_reason(exc)}") from exc
    return api


def _reason(exc: BaseException) -> str:
    # connection errors nest urllib3 detail several levels deep; the first line is enough
    return str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__


def _folder(api: GrafanaApi) -> str:
    for folder in api.folder.get_all_folders():
        if folder.get("uid") == FOLDER_UID or folder.get("title") == FOLDER_TITLE:
            return str(folder["uid"])
    created: dict[str, Any] = api.folder.create_folder(FOLDER_TITLE, uid=FOLDER_UID)
    return str(created["uid"])


def publish(dashboards: Sequence[Mapping[str, Any]], url: str,
            credential: str | tuple[str, str] | None, timeout_s: float = 5.0) -> list[str]:
    """Create or overwrite each dashboard (by uid); returns the URLs Grafana reports."""
    api = _connect(url, credential, timeout_s)
    urls: list[str] = []
    try:
        folder_uid = _folder(api)
        for dashboard in dashboards:
            body = {"dashboard": {**dashboard, "id": None}, "folderUid": folder_uid,
                    "overwrite": True, "message": "ioc dashboards publish"}
            answer = api.dashboard.update_dashboard(body)
            urls.append(str(answer.get("url", dashboard.get("uid", ""))))
            log.info("published %s", dashboard.get("title"))
    except (niquests.exceptions.RequestException, GrafanaException, OSError) as exc:
        raise GrafanaError(f"Grafana at {url} refused the dashboards: {_reason(exc)}") from exc
    return urls
