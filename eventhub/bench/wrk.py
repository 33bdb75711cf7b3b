"""Driving wrk (the HTTP load generator) and reading its report."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass

HOW_TO_INSTALL = "wrk is not installed: apt-get install wrk (Debian/Ubuntu), or put a wrk binary on PATH"


class WrkMissing(RuntimeError):
    """wrk is not on PATH."""


@dataclass(frozen=True)
class WrkResult:
    """One wrk run: what it counted and measured."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    connect_errors: int = 0
    read_errors: int = 0
    write_errors: int = 0
    timeouts: int = 0
    non_2xx: int = 0  # responses with a status outside 2xx/3xx

    @property
    def rate(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def socket_errors(self) -> int:
        return self.connect_errors + self.read_errors + self.write_errors + self.timeouts

    @property
    def errors(self) -> int:
        """Socket errors and error responses together."""
        return self.socket_errors + self.non_2xx


def find_wrk() -> str:
    """The wrk executable's path; ``WrkMissing`` saying how to get it if there is none."""
    path = shutil.which("wrk")
    if path is None:
        raise WrkMissing(HOW_TO_INSTALL)
    return path


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _duration_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse(output: str) -> WrkResult:
    """Read ``wrk --latency``'s report; ``ValueError`` if it is not one."""
    done = re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)", output, re.M)
    if done is None:
        raise ValueError(f"no request count in wrk's output: {output.strip()[-300:]!r}")
    percentiles = dict(re.findall(r"^\s*(50|99)(?:\.0+)?%\s+(\S+)\s*$", output, re.M))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    connect, read, write, timeout = (int(n) for n in errors.groups()) if errors else (0, 0, 0, 0)
    return WrkResult(
        requests=int(done.group(1)),
        seconds=_duration_ms(done.group(2) + done.group(3)) / 1e3,
        p50_ms=_duration_ms(percentiles["50"]) if "50" in percentiles else float("nan"),
        p99_ms=_duration_ms(percentiles["99"]) if "99" in percentiles else float("nan"),
        connect_errors=connect,
        read_errors=read,
        write_errors=write,
        timeouts=timeout,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
    )


def run(url: str, connections: int, seconds: float, threads: int = 1, request_timeout: float = 5.0) -> WrkResult:
    """``wrk`` against ``url`` for ``seconds``; raises ``WrkMissing`` or ``RuntimeError`` if it fails."""
    cmd = [
        find_wrk(),
        f"-t{threads}",
        f"-c{max(connections, threads)}",
        f"-d{max(1, round(seconds))}s",
        f"--timeout={request_timeout:g}s",
        "--latency",
        url,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + request_timeout + 30)
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed (exit {proc.returncode}): {(proc.stderr or proc.stdout).strip()[-300:]}")
    return parse(proc.stdout)
