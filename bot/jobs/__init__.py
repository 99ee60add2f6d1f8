"""Scheduled jobs: fleet checks and alerts, the daily digest, housekeeping."""
