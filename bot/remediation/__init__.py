"""Remediation: the CSCwd80290 time-back, run by playbooks under two-person approval.

Public entry points:

* `RemediationService` (`service.py`): create a request from a fresh read,
  vote, expire, start the approved run, read the audit, recover at start-up.
* `Engine` / `create_run` (`engine.py`): execute a persisted run step by
  step with undo; `ProgressListener` is how progress is reported.
* `recover` (`recovery.py`): resume or undo runs a crash interrupted.
* `load_playbook` / `playbook_for` / `dry_run`: playbooks as checked data.

Playbooks live in `playbooks/`; the commands they may send, per platform, in
`bot/controllers/platforms/<platform>/changes.yaml`.
"""

from bot.remediation.dryrun import DryRun, dry_run
from bot.remediation.engine import (
    Engine,
    NullListener,
    ProgressListener,
    RecordingListener,
    RetryPolicy,
    RunEvent,
    RunInfo,
    RunOutcome,
    StepInfo,
    create_run,
)
from bot.remediation.playbook_loader import (
    ParameterError,
    Playbook,
    PlaybookError,
    load_playbook,
    parse_playbook,
    playbook_for,
)
from bot.remediation.recovery import RecoveryResult, recover
from bot.remediation.service import RemediationConfig, RemediationService, RequestRefused, VoteResult

__all__ = [
    "DryRun",
    "Engine",
    "NullListener",
    "ParameterError",
    "Playbook",
    "PlaybookError",
    "ProgressListener",
    "RecordingListener",
    "RecoveryResult",
    "RemediationConfig",
    "RemediationService",
    "RequestRefused",
    "RetryPolicy",
    "RunEvent",
    "RunInfo",
    "RunOutcome",
    "StepInfo",
    "VoteResult",
    "create_run",
    "dry_run",
    "load_playbook",
    "parse_playbook",
    "playbook_for",
    "recover",
]
