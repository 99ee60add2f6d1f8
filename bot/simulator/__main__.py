"""`python -m bot.simulator [--scenario FILE] ...` (same as `ccert-bot simulate`)."""

from bot.simulator.cli import main

raise SystemExit(main())
