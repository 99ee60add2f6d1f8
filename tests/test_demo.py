"""`echo '/ccert status site-a' | ccert-bot demo`, exactly as the README says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_piped_demo_prints_the_verdict_for_the_demo_site(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCERT_", "SLACK_"))}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        input="/ccert status site-a\n/ccert advise site-a\n/ccert nonsense\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "checking site-a: 2 controllers" in out
    assert "site-a: downloading" in out
    assert "wlc-a1 (AireOS) — downloading" in out and "wlc-a2 (Catalyst 9800) — downloading" in out
    assert "AIR-CAP3702I-E-K9" in out and "8.10.183.0" in out
    assert "[Request time-back]  type: /ccert remediate site-a wlc-a1" in out
    assert "safe: 2022-12-02 00:00 UTC" in out  # advise: certificates start in 2019
    assert "is not a /ccert command" in out
    assert not list(tmp_path.iterdir()), "the demo leaves no database or files behind"


def test_demo_runs_a_two_person_time_back_from_the_console(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCERT_", "SLACK_"))}
    script = (
        "\n".join(
            [
                "/as U0MALLORY",
                "/ccert remediate site-a wlc-a1",  # neither named in CCERT_ACCESS nor an approver
                "/as U0DEMO",
                "/ccert remediate site-a wlc-a2",
                "/ccert approve 1",  # the requester: refused
                "/as U0ALICE",
                "/ccert approve 1",
                "/as U0BOB",
                "/ccert approve 1",
                "/ccert status site-a",
            ]
        )
        + "\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        input=script,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Sorry, you're not allowed to run `/ccert remediate`." in out
    assert "Time-back request #1 is posted" in out and "Time-back request #2" not in out
    assert "not an approver" in out and "not counted" in out
    assert "timeback-iosxe completed on wlc-a2" in out
    verdict = out[out.rindex("checking site-a") :]
    assert "wlc-a2 (Catalyst 9800) — at-risk" in verdict and "(Registered 5)" in verdict
    assert "ntp server vrf Mgmt-intf 203.0.113.123 source GigabitEthernet0" in verdict


def test_the_console_twin_shows_a_scheduled_run_its_reasons_and_the_home(tmp_path: Path) -> None:
    """The console twin of issue 15's Slack features: --at schedules, the approvals carry their
    words, the home shows the scheduled run, and cancel ends it before it starts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCERT_", "SLACK_"))}
    script = (
        "\n".join(
            [
                "/as U0DEMO",
                "/ccert remediate site-a wlc-a2 --at '2099-01-01 22:00'",  # too far ahead: refused
                "/ccert remediate site-a wlc-a2 --at 23:59",
                "/as U0ALICE",
                "/ccert approve 1",
                "/as U0BOB",
                "/ccert approve 1",
                "/ccert home",
                "/ccert cancel 1",
                "/ccert audit 1",
            ]
        )
        + "\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        input=script,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "more than 30 days ahead" in out
    assert "Time-back request #1 is posted" in out and "once approved it starts at" in out.lower()
    assert "[Cancel]  type: /ccert cancel 1" in out and "type: /ccert schedule 1 --at" in out
    assert "The run is scheduled for" in out, "the thread says the approval scheduled the run"
    assert "timeback-iosxe completed" not in out, "nothing ran before the window"
    home = out[out.index("CSCwd80290 at a glance") :]
    assert "Scheduled (1)" in home and "#1 site-a (wlc-a2)" in home and "window starts" in home
    assert "cancelled the request" in out and "cancelled" in out[out.rindex("Audit of time-back request #1") :]
