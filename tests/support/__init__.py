"""Shared test helpers: fakes of the outside world (Slack), request builders."""
