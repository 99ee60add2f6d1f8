"""ccert-bot: find and fix Cisco CSCwd80290 across AireOS and Catalyst 9800 controllers."""

__version__ = "0.1.0"
