"""AP syslog: receive, recognise and attribute CSCwd80290 lines from the APs themselves.

- `messages`: RFC 3164 / RFC 5424 parser tolerant of Cisco AP quirks (never raises)
- `signatures` + `signatures.yaml`: which lines mean what, as data
- `framing`: TCP octet-counting and newline framing, bounded
- `correlate`: sender → (controller, AP) from the latest snapshots, per-AP failure tracking,
  `confirmed(controller)` for the alert rules
- `pipeline`: parse → match → correlate for one message, with the counters
- `listen_spec`: `CCERT_SYSLOG_LISTEN` parsed into addresses (used by the settings too)
- `rate_limit`: the per-sender token bucket that keeps one noisy device from filling the queue
- `protocols`: the UDP/TCP asyncio protocols (frame, count, hand on)
- `listener`: the UDP/TCP servers on the bot's loop, bounded queue, worker, hooks
"""

from bot.syslog.correlate import APLogState, Correlator, FailureTrack, Resolution, UnknownSender
from bot.syslog.listen_spec import ListenSpec, ListenSpecError, parse_listen_spec
from bot.syslog.listener import ListenerOptions, SyslogHook, SyslogListener, SyslogListenError, SyslogStatus
from bot.syslog.messages import MessageFormat, SyslogMessage, parse_message
from bot.syslog.pipeline import SyslogCounters, SyslogEvent, SyslogProcessor
from bot.syslog.signatures import (
    Severity,
    Signature,
    SignatureError,
    SignatureKind,
    SignatureMatch,
    SignatureSet,
    default_signatures,
    load_signatures,
)

__all__ = [
    "APLogState",
    "Correlator",
    "FailureTrack",
    "ListenSpec",
    "ListenSpecError",
    "ListenerOptions",
    "MessageFormat",
    "Resolution",
    "Severity",
    "Signature",
    "SignatureError",
    "SignatureKind",
    "SignatureMatch",
    "SignatureSet",
    "SyslogCounters",
    "SyslogEvent",
    "SyslogHook",
    "SyslogListenError",
    "SyslogListener",
    "SyslogMessage",
    "SyslogProcessor",
    "SyslogStatus",
    "UnknownSender",
    "default_signatures",
    "load_signatures",
    "parse_listen_spec",
    "parse_message",
]
