"""What an application benchmark measured on each hub, its medians, targets and table.

A ``Cell`` holds one hub's samples (one per round), each a ``Sample``; the
benchmark compares a subject hub with baselines in the same run through
``Target``s: the subject's median rate at least ``min_ratio`` times the
baseline's, its median p99 no higher, and no errors.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, TextIO

from eventhub.bench.runner import ERROR, OK


def percentile(sorted_values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of ``sorted_values`` (ascending, not empty)."""
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass(frozen=True)
class Sample:
    """One round on one hub."""

    rate: float  # operations per second
    p50_ms: float
    p99_ms: float
    errors: int
    hub: str  # the class that served it, as the application reported it
    variant: str

    @classmethod
    def of(cls, operations: int, seconds: float, latencies_ms: list[float], errors: int,
           described: dict[str, Any]) -> Sample:
        """A sample from its raw measurements (``ValueError`` if nothing was measured)."""
        if not latencies_ms or seconds <= 0:
            raise ValueError(f"nothing measured ({operations} operations in {seconds:.3g}s)")
        ordered = sorted(latencies_ms)
        return cls(operations / seconds, percentile(ordered, 0.5), percentile(ordered, 0.99), errors,
                   str(described.get("class")), str(described.get("variant")))


@dataclass
class Cell:
    """One hub's samples; ``status`` ERROR with ``reason`` once one failed."""

    hub: str
    status: str = OK
    reason: str = ""
    samples: list[Sample] = field(default_factory=list)

    def _median(self, key: str) -> float | None:
        values = [getattr(s, key) for s in self.samples]
        return statistics.median(values) if self.status == OK and values else None

    @property
    def rate(self) -> float | None:
        return self._median("rate")

    @property
    def p50_ms(self) -> float | None:
        return self._median("p50_ms")

    @property
    def p99_ms(self) -> float | None:
        return self._median("p99_ms")

    @property
    def errors(self) -> int:
        return sum(s.errors for s in self.samples)

    def as_json(self, base: Cell | None) -> dict[str, Any]:
        return {"status": self.status, "reason": self.reason, "rate": self.rate, "p50_ms": self.p50_ms,
                "p99_ms": self.p99_ms, "errors": self.errors, "ratio": ratio(self, base),
                "samples": [asdict(s) for s in self.samples]}


def measure(cells: dict[str, Cell], rounds: int, take: Callable[[str], Sample], label: Callable[[str], str],
            unit: str, progress: TextIO) -> None:
    """``rounds`` samples of each cell still OK, interleaved: ``take(hub)`` raises ``RuntimeError`` for none.

    A cell whose sample fails becomes ERROR and is not sampled again.
    """
    for round_ in range(1, rounds + 1):
        for name, cell in cells.items():
            if cell.status != OK:
                continue
            progress.write(f"round {round_}: {label(name)}: ")
            progress.flush()
            try:
                sample = take(name)
            except RuntimeError as e:
                cell.status, cell.reason = ERROR, str(e)
                progress.write(f"error: {e}\n")
                continue
            cell.samples.append(sample)
            progress.write(f"{sample.rate:,.0f} {unit}, p99 {sample.p99_ms:.0f} ms, {sample.errors} errors "
                           f"({sample.hub} {sample.variant})\n")
            progress.flush()


def ratio(cell: Cell, base: Cell | None) -> float | None:
    """``cell``'s median rate over ``base``'s (same run)."""
    if base is None or cell.rate is None or not base.rate:
        return None
    return cell.rate / base.rate


@dataclass(frozen=True)
class Target:
    """The subject hub against one baseline hub: rate ratio, p99, errors."""

    subject: str
    baseline: str
    min_ratio: float


def check(label: str, cells: dict[str, Cell], targets: tuple[Target, ...]) -> list[dict[str, Any]]:
    """Each target's verdicts; ``met`` is None where either hub has no measurement."""
    results: list[dict[str, Any]] = []
    for t in targets:
        subject, base = cells[t.subject], cells[t.baseline]
        measured = subject.rate is not None and base.rate is not None
        r = ratio(subject, base)
        results.append({"target": f"{label} {t.subject}: rate >= {t.min_ratio:g}x {t.baseline}", "ratio": r,
                        "met": (r >= t.min_ratio) if measured and r is not None else None})
        p99, base_p99 = subject.p99_ms, base.p99_ms
        results.append({"target": f"{label} {t.subject}: p99 no worse than {t.baseline}", "p99_ms": p99,
                        "baseline_p99_ms": base_p99,
                        "met": (p99 <= base_p99) if measured and p99 is not None and base_p99 is not None else None})
    for name, cell in {t.subject: cells[t.subject] for t in targets}.items():
        results.append({"target": f"{label} {name}: no errors", "errors": cell.errors if cell.rate is not None else None,
                        "met": (cell.errors == 0) if cell.rate is not None else None})
    return results


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None or math.isnan(value) else format(value, spec)


def table(title: str, unit: str, cells: dict[str, Cell], baseline: str, descriptions: dict[str, str],
          checks: list[dict[str, Any]]) -> str:
    """A row per hub (rate, p50, p99, errors, ratio to ``baseline``), notes, then the targets' verdicts."""
    lines = [title, "", f"  {'hub':<10}{unit:>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}{'ratio':>8}"]
    notes = []
    for name, cell in cells.items():
        if cell.status != OK or not cell.samples:
            lines.append(f"  {name:<10}{cell.status:>10}")
            notes.append(f"  {name}: {cell.status}: {cell.reason or 'no sample'}")
            continue
        r = ratio(cell, cells.get(baseline))
        lines.append(f"  {name:<10}{_fmt(cell.rate, ',.0f'):>10}{_fmt(cell.p50_ms, '.1f'):>10}"
                     f"{_fmt(cell.p99_ms, '.1f'):>10}{cell.errors:>8}{_fmt(r, '.2f') + 'x' if r else '-':>8}")
    lines.append("")
    lines.extend(f"  {name}: {description}" for name, description in descriptions.items())
    lines.append(f"  ratio: {unit} over {baseline}'s, same run; p50/p99: medians over rounds; errors: all rounds")
    if notes:
        lines.append("notes:")
        lines.extend(notes)
    lines.append("targets (same-run medians):")
    for c in checks:
        if c["met"] is None:
            verdict = "not measured"
        elif "ratio" in c:
            verdict = f"{c['ratio']:.2f}x"
        elif "p99_ms" in c:
            verdict = f"{c['p99_ms']:.1f} ms vs {c['baseline_p99_ms']:.1f} ms"
        else:
            verdict = f"{c['errors']} errors"
        if c["met"] is not None:
            verdict += "  met" if c["met"] else "  NOT MET"
        lines.append(f"  {c['target']}: {verdict}")
    return "\n".join(lines)


def failed(cells: dict[str, Cell]) -> bool:
    return any(c.status == ERROR for c in cells.values())
