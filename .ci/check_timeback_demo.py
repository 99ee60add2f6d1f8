"""Read the transcript of the piped two-person time-back demo and say whether it really worked.

Used by .ci/run on the demo run from an installed wheel: the request must
end `done` and the final `/ccert status site-a` must show wlc-a2's APs all
Registered (none Downloading), as the controller reported them.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path


def main(path: str) -> int:
    text = Path(path).read_text(encoding="utf-8")
    problems = []
    if "Time-back request #1 — done" not in text:
        problems.append("the time-back request never reached 'done'")
    status = text.rsplit("site-a: ", 1)[-1] if "site-a: " in text else ""
    block = status.split("wlc-a2 (Catalyst 9800)", 1)[-1] if "wlc-a2 (Catalyst 9800)" in status else ""
    aps = re.search(r"^\s*APs\s+(.*)$", block, re.MULTILINE)
    if aps is None:
        problems.append("no final status of wlc-a2 in the transcript")
    elif "Downloading" in aps.group(1) or not re.search(r"\(Registered \d+\)", aps.group(1)):
        problems.append(f"wlc-a2's APs are not all Registered at the end: {aps.group(1)}")
    if "Traceback" in text:
        problems.append("a traceback was printed")
    for problem in problems:
        print(f"demo check: {problem}", file=sys.stderr)
    if not problems:
        print(f"demo check: time-back done, wlc-a2 {aps.group(1) if aps else ''}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
