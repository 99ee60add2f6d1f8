"""The terminal front door: the console twin of Slack, and the one-shot terminal commands.

- `repl`, `lines`: the console twin (the same handlers as Slack, rendered as terminal text)
- `render`: a chat `Reply` as terminal text
- `notifier`: `ConsoleNotifier`, what the bot says unasked, printed
- `status_command`: `ccert-bot status SITE|all [--json]`
- `known_hosts_command`: `ccert-bot known-hosts`, trusting the controllers' SSH host keys on purpose
"""
