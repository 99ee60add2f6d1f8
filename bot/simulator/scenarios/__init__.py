"""Scenario files shipped with the simulator (a package so that packaging includes them)."""
