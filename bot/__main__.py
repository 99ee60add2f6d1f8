"""`python -m bot` is `ccert-bot`."""

import sys

from bot.cli import main

sys.exit(main())
