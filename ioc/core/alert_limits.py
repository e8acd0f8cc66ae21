"""Caps that keep one alert well under Kafka's 1 MiB message limit, for the API and worker.

An alert is one Kafka message on the compacted alerts topic; only operator commands make it
grow without bound (comments, and names in `by`/`assignee`). The worker checks every
command against these caps, so a command written straight to Kafka cannot make an alert the
worker can no longer publish; the API checks the same caps first to answer with a clear 409.
"""

from __future__ import annotations

from ioc.core.schemas import Alert, AlertCommand, AlertComment

__all__ = [
    "MAX_ALERT_BYTES",
    "MAX_COMMENTS",
    "MAX_COMMENT_CHARS",
    "MAX_NAME_CHARS",
    "command_refusal",
]

MAX_COMMENTS = 100  # more than any real incident thread; the console lists them all
MAX_COMMENT_CHARS = 2000
MAX_NAME_CHARS = 64  # user names (`by`) and assignees, as the API accepts them
# Half of Kafka's 1 MiB (and of Faust's 1,000,000-byte max request): room for the key,
# headers and record overhead, and for the bounded fields later changes add (names, times).
MAX_ALERT_BYTES = 512 * 1024


def command_refusal(current: Alert, cmd: AlertCommand) -> str | None:
    """Why `cmd` must not be applied to `current` (a cap it would break), or None."""
    if len(cmd.by) > MAX_NAME_CHARS:
        return f"'by' is longer than {MAX_NAME_CHARS} characters"
    if cmd.assignee is not None and len(cmd.assignee) > MAX_NAME_CHARS:
        return f"the assignee is longer than {MAX_NAME_CHARS} characters"
    if cmd.action != "comment" or not cmd.text:
        return None
    if len(cmd.text) > MAX_COMMENT_CHARS:
        return f"the comment is longer than {MAX_COMMENT_CHARS} characters"
    if len(current.comments) >= MAX_COMMENTS:
        return f"the alert has the maximum of {MAX_COMMENTS} comments"
    comment = AlertComment(by=cmd.by, at=cmd.at, text=cmd.text)
    grown = current.model_copy(update={"comments": (*current.comments, comment)})
    size = len(grown.to_json())
    if size > MAX_ALERT_BYTES:
        return (f"the comment would make the alert {size} bytes, over the "
                f"{MAX_ALERT_BYTES}-byte limit")
    return None
