"""Start and stop nodes the way their systemd units say (there is no systemd here).

`Unit.parse(path)` reads a unit's [Service] section: `ExecStart`,
`Environment` (defaults), `EnvironmentFile` (which overrides them),
`WorkingDirectory`, `KillSignal`, `TimeoutStopSec`. `Node` runs `ExecStart`
with the unit's environment plus the values of its own environment file (the
harness writes one per node, as a deployer writes /etc/academy/academy.env),
the install prefix (`WorkingDirectory`) replaced by this checkout, in its own
process group (its "control group"). `stop()` sends `KillSignal` to the main
process (KillMode=mixed) and waits up to `TimeoutStopSec`, then kills what is
left; `kill()` is a crash: SIGKILL to every process of the node.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def read_environment_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")) or "=" not in line:
            continue
        key, value = line.split("=", 1)
        values[key.strip()] = _unquote(value.strip())
    return values


def _seconds(value: str) -> float:
    """systemd time spans: "30", "30s", "2min", "1min 30s"."""
    units = {"": 1, "s": 1, "sec": 1, "m": 60, "min": 60, "ms": 0.001, "h": 3600}
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", value):
        total += float(number) * units[unit]
    return total


@dataclass
class Unit:
    path: Path
    exec_start: str
    environment: dict[str, str]
    environment_files: list[str]
    working_directory: str
    kill_signal: signal.Signals
    kill_mode: str
    timeout_stop: float

    @classmethod
    def parse(cls, path: Path) -> Unit:
        section = ""
        service: dict[str, list[str]] = {}
        for raw in path.read_text().splitlines():
            line = raw.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("["):
                section = line.strip("[]")
                continue
            if section == "Service" and "=" in line:
                key, value = line.split("=", 1)
                service.setdefault(key.strip(), []).append(value.strip())
        environment = {}
        for value in service.get("Environment", []):
            for assignment in shlex.split(value):
                key, _, val = assignment.partition("=")
                environment[key] = val
        return cls(
            path=path,
            exec_start=service["ExecStart"][-1],
            environment=environment,
            environment_files=service.get("EnvironmentFile", []),
            working_directory=service.get("WorkingDirectory", ["/"])[-1],
            kill_signal=signal.Signals[service.get("KillSignal", ["SIGTERM"])[-1]],
            kill_mode=service.get("KillMode", ["control-group"])[-1],
            timeout_stop=_seconds(service.get("TimeoutStopSec", ["90s"])[-1]),
        )

    def command(self, env: dict[str, str], root: Path) -> list[str]:
        """ExecStart as systemd expands it: ${VAR} is one word, $VAR is split."""
        line = self.exec_start.lstrip("-@:+!")
        line = line.replace(self.working_directory, str(root))

        def one_word(match: re.Match) -> str:
            return shlex.quote(env.get(match.group(1), ""))

        line = re.sub(r"\$\{(\w+)\}", one_word, line)
        line = re.sub(r"\$(\w+)", lambda m: env.get(m.group(1), ""), line)
        return shlex.split(line)


@dataclass
class Node:
    name: str
    unit: Unit
    root: Path
    env_file: Path
    log_path: Path
    base_env: dict[str, str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    history: list[dict] = field(default_factory=list)

    def environment(self) -> dict[str, str]:
        env = dict(self.base_env)
        env.update(self.unit.environment)
        env.update(read_environment_file(self.env_file))
        return env

    def start(self) -> None:
        env = self.environment()
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child keeps it
        self.process = subprocess.Popen(  # noqa: S603 - the unit's own command
            self.unit.command(env, self.root),
            cwd=self.root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.started_at = time.monotonic()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """A crash: SIGKILL to every process of the node at once."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()

    def stop(self) -> dict:
        """KillSignal to the main process, up to TimeoutStopSec, then SIGKILL."""
        if self.process is None:
            return {"node": self.name, "seconds": 0.0, "killed": False}
        began = time.monotonic()
        try:
            if self.unit.kill_mode == "control-group":
                os.killpg(self.process.pid, self.unit.kill_signal)
            else:
                self.process.send_signal(self.unit.kill_signal)
        except ProcessLookupError:
            pass
        killed = False
        try:
            self.process.wait(timeout=self.unit.timeout_stop)
        except subprocess.TimeoutExpired:
            killed = True
        # Whatever is left of the group (KillMode=mixed: SIGKILL to the rest).
        leftovers = _group_members(self.process.pid)
        if leftovers:
            killed = killed or bool(leftovers)
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()
        return {
            "node": self.name,
            "seconds": round(time.monotonic() - began, 1),
            "killed": killed,
        }


def _group_members(pgid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields: state ppid pgrp ...; zombies are gone already for our purpose
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(entry.name))
    return found
