"""The console twin: the same handlers as Slack, rendered as terminal text."""
