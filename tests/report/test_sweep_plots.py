"""The sweep plots a person would rather look at: the Pareto plot zoomed to where the points
are, its front numbered with a table beside it, estimated points with their error band,
latency in ms, integer ticks for bit-widths. The figures are inspected before they are saved."""

from __future__ import annotations

import pytest

from hwssm import targets
from hwssm.explore.spec import SweepSpec
from hwssm.explore.sweep import estimated_point, make_point
from hwssm.quant.plan import NAMED_PLANS, parse_code
from hwssm.quant.random_qmodel import random_qmodel
from hwssm.report import sweep_plots
from hwssm.report.sweep_plots import accuracy_limits, plot_cost_vs_bits, plot_fmax_latency, plot_pareto
from hwssm.synth.profile import device_profile

PLANS = (NAMED_PLANS["uniform8"], parse_code("A8x12-B4C4D4-W8-a6"), NAMED_PLANS["uniform4"])
ACC = (0.985, 0.991, 0.12)  # two useful designs and one collapsed PTQ point


@pytest.fixture
def figures(monkeypatch):
    """The figures the plot functions draw, in order (they are still written)."""
    drawn = []
    real = sweep_plots.save_png

    def keep(fig, out):
        drawn.append(fig)
        real(fig, out)

    monkeypatch.setattr(sweep_plots, "save_png", keep)
    return drawn


def _points(estimated: bool) -> list[dict]:
    spec = SweepSpec(model="m.json", plans=PLANS, lanes=(1, 2), devices=(targets.ECP5_25K,), limit=50)
    pts = []
    for i, (plan, acc) in enumerate(zip(PLANS, ACC)):
        qm = random_qmodel(8, 4, 1, plan=plan, seed=i)
        a = {"accuracy": acc, "digits": 50}
        for P in (1, 2):
            if estimated:
                pts.append(estimated_point(plan, qm, a, spec, P, targets.ECP5_25K, device_profile(targets.ECP5_25K)))
            else:
                hw = {"status": "ok", "lut": 1000 * P + 100 * i, "ff": 900, "carry": 50, "dsp": 8 * P, "bram": 2,
                      "spram": 0, "fmax_mhz": 50.0, "fits": True, "cycles_per_step": 200 // P,
                      "cycles_per_digit": 784 * 200 // P}
                pts.append(make_point(plan, qm, a, spec, P, targets.ECP5_25K, hw))
    return pts


def test_accuracy_limits():
    assert accuracy_limits([98.0, 99.0, 99.5]) == pytest.approx((98.0 - 0.2, 99.5 + 0.2))
    lo, hi = accuracy_limits([10.0, 97.0, 99.0])  # the collapsed point is left out of the band
    assert 96.0 < lo < 97.0 and 99.0 < hi <= 100.2
    lo, hi = accuracy_limits([50.0, 80.0, 90.0])   # a wide spread: the band of the best 10 points
    assert 79.0 < lo < 80.0 and hi > 90.0
    assert accuracy_limits([]) == (0.0, 100.0)


@pytest.mark.parametrize("estimated", [False, True])
def test_pareto_is_zoomed_numbered_and_tabled(tmp_path, figures, estimated):
    pts = _points(estimated)
    rows = plot_pareto(pts, tmp_path / "p.png")
    fig, = figures
    ax, ax_t = fig.axes[:2]
    lo, hi = ax.get_ylim()
    assert 98.0 < lo < 98.5 and 99.1 < hi < 99.5  # not 0-100 %: the 98.5-99.1 % band
    front = [r for r in rows if r["pareto"]]
    assert front and all(r["latency_ms"] is not None for r in rows)
    labels = {t.get_text() for t in ax.texts}
    assert {str(n) for n in range(1, len(front) + 1)} <= labels  # the front is numbered
    table = ax_t.tables[0]
    cells = {(r, c): table[r, c].get_text().get_text() for (r, c) in table.get_celld()}
    assert cells[(0, 6)] == "ms/seq." and len({r for r, _ in cells}) == len(front) + 1
    by_plan = {r["plan"]: r for r in rows if r["pareto"]}
    for r in range(1, len(front) + 1):
        row = by_plan[cells[(r, 2)]]
        assert cells[(r, 6)] == f"{row['latency_ms']:,.1f}"
        assert cells[(r, 4)].startswith("≈") == estimated
    assert all(r["estimated"] == estimated for r in rows)
    if estimated:  # error bars: the estimator's band
        assert "error band" in ax.get_xlabel() and ax.collections


def test_bits_have_integer_ticks_and_latency_is_in_ms(tmp_path, figures):
    pts = _points(False)
    plot_cost_vs_bits(pts, tmp_path / "c.png")
    rows = plot_fmax_latency(pts, tmp_path / "f.png")
    bits_fig, lat_fig = figures
    for ax in bits_fig.axes:
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
    assert "ms" in lat_fig.axes[1].get_ylabel()
    assert rows[0]["latency_ms"] == pytest.approx(rows[0]["cycles_per_digit"] / 50.0 / 1e3)


def test_report_of_an_estimate_only_sweep(tmp_path):
    from hwssm.report.sweep_report import write_sweep_report

    pts = _points(True)
    spec = SweepSpec(model="m.json", plans=PLANS, lanes=(1, 2), devices=(targets.ECP5_25K,), limit=50)
    res = {"format": "hwssm-sweep-results", "version": 1, "hwssm": "test", "spec": spec.to_json(),
           "source": {"kind": "checkpoint", "path": "m.json", "digest": "0" * 64}, "points": pts}
    write_sweep_report(res, tmp_path / "rep", name="t")
    md = (tmp_path / "rep" / "report.md").read_text()
    lo, hi = targets.ECP5.error_band.lut
    assert "--estimate-only" in md and f"{100 * lo:+.1f}% .. {100 * hi:+.1f}%" in md
    assert "≈" in md and "(100 stated)" in md
    assert "Points without hardware results" not in md and "Analytic estimator against Yosys" not in md
