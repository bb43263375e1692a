"""Reports of benchmark runs as text: a terminal table of one run, a Markdown table of several.

Units as in :mod:`benchmarks.measure`; the ratio as in :mod:`benchmarks.run` (baseline wall time /
step wall time; ``~`` marks an extrapolated baseline).
"""

from __future__ import annotations

import textwrap
from typing import Any


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"


def _baseline(step: dict[str, Any]) -> tuple[str, str, str]:
    """Name, wall time and ratio of a step's baseline, as printed."""
    base = step.get("baseline")
    if not base:
        return "", "", ""
    extrapolated = base.get("extrapolated")
    if base["status"] != "ok":
        return base["name"], base["status"], ""
    wall = extrapolated["wall_s"] if extrapolated else base["measured"]["wall_s"]
    mark = "~" if extrapolated else ""
    ratio = f"{mark}{step['ratio']:.2f}x" if step.get("ratio") is not None else ""
    return base["name"], f"{mark}{_seconds(wall)}", ratio


def terminal_table(report: dict[str, Any]) -> str:
    """One run, fitting 80 columns."""
    header = f"{'step':<23}{'wall s':>7}{'cpu s':>7}{'peak MiB':>9}  {'baseline':<18}{'wall s':>7}{'ratio':>7}"
    lines = [f"{report['models']:,} models: {report['input']}", header, "-" * len(header)]
    for step in report["steps"]:
        name, base_wall, ratio = _baseline(step)
        measured = step.get("measured")
        label = _label(step)
        if step["status"] == "not available" or measured is None:
            lines.append(f"{label:<23}  not available")
            continue
        status = "" if step["status"] == "ok" else f"  FAILED: {step['error'][:40]}"
        lines.append(
            f"{label:<23}{_seconds(measured['wall_s']):>7}{_seconds(measured['cpu_s']):>7}"
            f"{measured['peak_rss_mib']:>9,.0f}  {name:<18}{base_wall:>7}{ratio:>7}{status}".rstrip()
        )
    lines.append("ratio = baseline wall / step wall (>1: ptmgraph is faster); ~ extrapolated")
    for step in report["steps"]:
        if step.get("note"):
            lines += textwrap.wrap(f"* {step['name']}: {step['note']}", width=80, subsequent_indent="  ")
    return "\n".join(lines)


def _label(step: dict[str, Any]) -> str:
    """The step's name, starred when its note qualifies it (an equivalent, not the package's own)."""
    return step["name"] + ("*" if step.get("note", "").startswith("equivalent") else "")


def _cell(step: dict[str, Any] | None) -> str:
    if step is None:
        return ""
    if step["status"] == "not available":
        return "not available"
    measured = step["measured"]
    if step["status"] != "ok":
        return f"failed ({step['error'][:60]})"
    wall, cpu = _seconds(measured["wall_s"]), _seconds(measured["cpu_s"])
    star = "*" if step.get("note", "").startswith("equivalent") else ""
    return f"{wall} s (cpu {cpu} s), {measured['peak_rss_mib']:,.0f} MiB{star}"


def markdown_table(reports: list[dict[str, Any]]) -> str:
    """Several runs side by side: per step, wall time, CPU time and peak RSS of the step, then of its
    baseline with the ratios."""
    sizes = [f"{r['models']:,} models" for r in reports]
    lines = ["| step | " + " | ".join(sizes) + " |", "| --- |" + " ---: |" * len(reports)]
    fullest = sorted(reports, key=lambda r: len(r["steps"]), reverse=True)
    names = list(dict.fromkeys(s["name"] for r in fullest for s in r["steps"]))
    for name in names:
        steps = [next((s for s in r["steps"] if s["name"] == name), None) for r in reports]
        first = next(s for s in steps if s)
        lines.append(f"| {_label(first)} | " + " | ".join(_cell(s) for s in steps) + " |")
        bases = [s.get("baseline") if s else None for s in steps]
        if any(bases):
            label = next(b["name"] for b in bases if b)
            cells = []
            for step, base in zip(steps, bases, strict=True):
                if not base or not step:
                    cells.append("")
                    continue
                _, wall, ratio = _baseline(step)
                measured = base.get("measured") or {}
                cpu = "" if base.get("extrapolated") else f" (cpu {_seconds(measured.get('cpu_s'))} s)"
                rss = f", {measured['peak_rss_mib']:,.0f} MiB" if measured else ""
                cpu_ratio = f", cpu {step['ratio_cpu']:.2f}x" if step.get("ratio_cpu") is not None else ""
                cells.append(f"{wall} s{cpu}{rss}; ratio {ratio}{cpu_ratio}" if ratio else _cell(base))
            lines.append(f"| &nbsp;&nbsp;baseline: {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
