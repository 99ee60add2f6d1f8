"""Controller simulator: AireOS and Catalyst 9800 over SSH, with CSCwd80290 acted out.

The bot is developed and tested against this simulator instead of real
wireless controllers. One process serves many controllers (one TCP port each,
127.0.0.1 by default); each controller has a live model that tests can read
and change while the bot talks to it over real SSH.

Programmatic API
----------------

    from bot.simulator import Scenario, SimulatorServer

    scenario = Scenario.load("bot/simulator/scenarios/demo.yaml")  # or .demo()
    scenario = Scenario.from_dict({"controllers": [{"name": "wlc1", "platform": "iosxe",
                                                     "port": 0, "aps": [...]}]})
    scenario = Scenario.fleet(200, 4, platform="mixed")    # benchmarks: N x M, free ports

    async with SimulatorServer(scenario, host="127.0.0.1", time_scale=60.0,
                               state_file=None) as sim:
        sim.ports                     # {"wlc1": 24517}: port 0 in a scenario = a free port
        sim.known_hosts()             # known_hosts text (`sim.host_public_key` is the key)
        wlc = sim.controllers["wlc1"] # model.Controller, the live model:
        wlc.now(); wlc.clock_source; wlc.clock_offset          # clock ("ntp"/"manual"/"none")
        wlc.running.ntp_servers; wlc.saved.ntp_servers; wlc.unsaved_changes
        wlc.aps["AP1"].state; wlc.aps["AP1"].retry_count; wlc.aps_in_state("Downloading")
        wlc.certificate; wlc.certificate_state; wlc.log        # "valid"/"not yet valid"/"expired"
        wlc.ntp_unreachable.add("192.0.2.1")                   # change the world
        wlc.faults.refuse_connections = True                   # faults.Faults, flip at runtime
        sim.step()                    # advance every model to now without waiting a tick

Time runs `time_scale` times faster in the simulated world (downloads, NTP
re-sync, a hand-set clock ticking on); an NTP-synced clock reads real time.

Modules: `scenario` (loading, fleet), `build` (scenario entry -> model),
`server` (SSH listeners, lifecycle), `model` (controller, APs, clock),
`config` (NTP configuration, running and saved), `bug` (the CSCwd80290 rules,
with `defaults.yaml`), `shell` / `aireos` / `iosxe` (the CLIs),
`render_aireos` / `render_iosxe` (output formats, copied from real captures;
invented ones are listed in FORMATS.md), `columns` (table cells), `grammar` (keyword abbreviation and
caret errors), `terminal` (echo, CR/LF, type-ahead), `faults`, `syslog` (AP
syslog over UDP), `statefile`, `timebase`, `dates`, `cli`.
"""

from bot.simulator.config import ControllerConfig, NtpServer
from bot.simulator.faults import Faults
from bot.simulator.model import DOWNLOADING, REGISTERED, AccessPoint, Controller
from bot.simulator.scenario import Scenario
from bot.simulator.server import SimulatorServer

__all__ = [
    "DOWNLOADING",
    "REGISTERED",
    "AccessPoint",
    "Controller",
    "ControllerConfig",
    "Faults",
    "NtpServer",
    "Scenario",
    "SimulatorServer",
]
