"""Presenting the cells: a text table of ops/s and ratios, or JSON."""

from __future__ import annotations

from typing import Any

from eventhub.bench.runner import OK, SKIPPED, Cell
from eventhub.bench.speed import apart, same
from eventhub.bench.targets import format_checks
from eventhub.bench.workloads import Sizes, Workload

CELL_WIDTH = 10


def ratio(cell: Cell, base: Cell | None) -> float | None:
    """``cell``'s median over the baseline's, or None when either is missing."""
    if base is None or cell.median is None or not base.median:
        return None
    return cell.median / base.median


def format_rate(value: float) -> str:
    """1234567 -> '1.23M', 45678 -> '45.7k'."""
    for factor, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= factor:
            return f"{value / factor:.3g}{suffix}"
    return f"{value:.3g}"


def _by_key(cells: list[Cell]) -> dict[tuple[str, str], Cell]:
    return {(c.impl, c.workload): c for c in cells}


def _impl_order(cells: list[Cell]) -> list[str]:
    return list(dict.fromkeys(c.impl for c in cells))


def skipped_implementations(cells: list[Cell]) -> dict[str, str]:
    """Implementations that could not run at all, with the reason."""
    skipped: dict[str, str] = {}
    for impl in _impl_order(cells):
        mine = [c for c in cells if c.impl == impl]
        if all(c.status == SKIPPED for c in mine):
            skipped[impl] = mine[0].reason
    return skipped


def retaken_lines(cells: list[Cell]) -> list[str]:
    """Per implementation, how many samples of each workload were disturbed and taken again."""
    by_impl: dict[str, list[str]] = {}
    for c in cells:
        if c.retaken:
            by_impl.setdefault(c.impl, []).append(f"{c.workload} {c.retaken}")
    if not by_impl:
        return []
    lines = ["samples taken again (the machine's speed changed, or other processes took the CPU, during them):"]
    lines.extend(f"  {impl}: {', '.join(counts)}" for impl, counts in by_impl.items())
    return lines


def machine_speed_lines(cells: list[Cell]) -> list[str]:
    """The range of machine speeds the cells ran at, and a warning when it is wide."""
    speeds = [c.machine_speed for c in cells if c.machine_speed is not None]
    if not speeds:
        return []
    low, high = min(speeds), max(speeds)
    line = f"machine speed (median per cell, a fixed Python loop): {format_rate(low)}-{format_rate(high)} loops/s"
    if not same(low, high):
        line += f", {apart(low, high):.2f}x apart: ratios between cells at different speeds are off by as much"
    return [line]


def table(
    cells: list[Cell], workloads: list[Workload], baseline: str, repeat: int, checks: list[dict[str, Any]]
) -> str:
    """The ops/s matrix, the ratio matrix, notes on cells without a number, then the targets."""
    by_key = _by_key(cells)
    skipped = skipped_implementations(cells)
    impls = [i for i in _impl_order(cells) if i not in skipped]
    rates_title = f"ops/s, median of {repeat}"
    ratios_title = f"ratio to {baseline}"
    name_width = max(len(rates_title), len(ratios_title), *(len(i) for i in impls)) + 1
    header = "".join(f"{w.name:>{CELL_WIDTH}}" for w in workloads)
    lines = [f"{rates_title:<{name_width}}{header}"]
    notes: list[str] = []
    for impl in impls:
        row = ""
        for w in workloads:
            cell = by_key[(impl, w.name)]
            if cell.median is not None:
                row += f"{format_rate(cell.median):>{CELL_WIDTH}}"
                if cell.note:
                    notes.append(f"  {impl} {w.name}: {cell.note}")
            else:
                row += f"{cell.status:>{CELL_WIDTH}}"
                notes.append(f"  {impl} {w.name}: {cell.status}: {cell.reason}")
        lines.append(f"{impl:<{name_width}}{row}")
    lines.append("")
    if baseline in skipped:
        lines.append(f"no ratios: the baseline {baseline} did not run (see skipped implementations)")
    else:
        lines.append(f"{ratios_title:<{name_width}}{header}")
        for impl in impls:
            row = ""
            for w in workloads:
                r = ratio(by_key[(impl, w.name)], by_key.get((baseline, w.name)))
                row += f"{'-' if r is None else f'{r:.2f}x':>{CELL_WIDTH}}"
            lines.append(f"{impl:<{name_width}}{row}")
    lines.append("")
    lines.append("units: " + ", ".join(f"{w.name} {w.unit}" for w in workloads))
    lines.extend(machine_speed_lines(cells))
    if notes:
        lines.append("notes:")
        lines.extend(notes)
    lines.extend(retaken_lines(cells))
    if skipped:
        lines.append("skipped implementations:")
        lines.extend(f"  {impl}: {reason}" for impl, reason in skipped.items())
    lines.extend(format_checks(checks))
    return "\n".join(lines)


def as_json(
    cells: list[Cell],
    workloads: list[Workload],
    baseline: str,
    *,
    mode: str,
    repeat: int,
    scale: float,
    checks: list[dict[str, Any]],
) -> dict[str, Any]:
    """Everything measured: per implementation x workload, median, samples, ratio, counts."""
    by_key = _by_key(cells)
    sizes = Sizes.for_scale(scale)
    results: dict[str, Any] = {}
    for impl in _impl_order(cells):
        mine = [c for c in cells if c.impl == impl]
        results[impl] = {
            "description": next((c.description for c in mine if c.description), ""),
            "workloads": {
                c.workload: {
                    "status": c.status,
                    "reason": c.reason,
                    "note": c.note,
                    "median": c.median,
                    "samples": c.rates if c.status == OK else [],
                    "ratio": ratio(c, by_key.get((baseline, c.workload))),
                    "expected_ops": c.expected,
                    "counted_ops": c.counted,
                    "seconds": c.seconds,
                    "machine_speed": c.machine_speeds,
                    "cpu_share": c.cpu_shares,
                    "retaken": c.retaken,
                }
                for c in mine
            },
        }
    return {
        "mode": mode,
        "baseline": baseline,
        "repeat": repeat,
        "scale": scale,
        "workloads": {w.name: {"unit": w.unit, "description": w.description, "ops": w.expected(sizes)} for w in workloads},
        "skipped": skipped_implementations(cells),
        "results": results,
        "targets": checks,
    }
