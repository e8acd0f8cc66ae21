"""Pure detection rules: `step(state, input, device, settings) -> (state, changes)`, no I/O."""

from __future__ import annotations

from ioc.processors.rules.base import AlertChange, Hold, RuleSettings, hold_step
from ioc.processors.rules.lifecycle import alert_id, apply_change, apply_command

__all__ = [
    "AlertChange",
    "Hold",
    "RuleSettings",
    "alert_id",
    "apply_change",
    "apply_command",
    "hold_step",
]
