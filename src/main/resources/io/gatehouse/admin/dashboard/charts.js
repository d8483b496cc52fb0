// Charts with uPlot (served from its WebJar): endpoint sparklines and a deployment's judge figures.
import uPlot from './uPlot.esm.js';

const AXIS = { stroke: '#8b949e', grid: { stroke: '#262c36', width: 1 }, ticks: { stroke: '#30363d', width: 1 }, font: '11px system-ui, sans-serif' };

export const COLORS = {
  target: '#58a6ff',
  baseline: '#8b949e',
  limit: '#f85149',
  share: '#d2a8ff',
  p99: '#58a6ff',
  inFlight: '#3fb950',
  errors: '#f85149',
};

/** A tiny line without axes: the last polls of one figure. */
export function sparkline(parent, color, width = 96, height = 22) {
  const plot = new uPlot({
    width, height, pxAlign: false,
    cursor: { show: false }, select: { show: false }, legend: { show: false },
    scales: { x: { time: false }, y: { range: (u, min, max) => [0, Math.max(max, 1e-9) * 1.15] } },
    axes: [{ show: false }, { show: false }],
    series: [{}, { stroke: color, fill: color + '33', width: 1.25, points: { show: false } }],
  }, [[], []], parent);
  return {
    update(xs, ys) { plot.setData([xs, ys]); },
    destroy() { plot.destroy(); },
  };
}

/**
 * One judge figure per verdict over time: the target, the baseline over the same interval and the
 * SLO's limit (a dashed line), so a breach shows as the blue line crossing the red one. The scale
 * follows the measured figures; the limit joins it only when it is near them, so a loose SLO
 * does not flatten the lines into the axis.
 */
export function judgeChart(parent, title, unit, width = 380, height = 150) {
  const fmt = (u, v) => (v == null ? '–' : v.toFixed(unit === '%' ? 2 : 1) + ' ' + unit);
  let top = 1;
  const plot = new uPlot({
    title, width, height,
    legend: { live: false },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true }, y: { range: () => [0, top] } },
    axes: [AXIS, { ...AXIS, size: 48, values: (u, ticks) => ticks.map((t) => t + (unit === '%' ? '%' : '')) }],
    series: [
      {},
      { label: 'target', stroke: COLORS.target, width: 2, value: fmt, points: { show: true, size: 5 } },
      { label: 'baseline', stroke: COLORS.baseline, width: 1.5, value: fmt, points: { show: true, size: 4 } },
      { label: 'SLO limit', stroke: COLORS.limit, width: 1, dash: [6, 4], value: fmt, points: { show: false } },
    ],
  }, [[], [], [], []], parent);
  return {
    update(data) {
      const measured = Math.max(0, ...data[1].concat(data[2]).filter((v) => v != null));
      const limit = data[3].find((v) => v != null);
      const near = limit != null && limit <= measured * 2.5;
      top = Math.max((near ? Math.max(measured, limit) : measured) * 1.2, unit === '%' ? 1 : 5);
      plot.setData(data);
    },
    destroy() { plot.destroy(); },
  };
}

/** The target's share after each step: how far the rollout has walked. */
export function shareChart(parent, width = 380, height = 150) {
  const plot = new uPlot({
    title: 'target share', width, height,
    legend: { live: false },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true }, y: { range: [0, 100] } },
    axes: [AXIS, { ...AXIS, size: 48, values: (u, ticks) => ticks.map((t) => t + '%') }],
    series: [
      {},
      {
        label: 'share', stroke: COLORS.share, fill: COLORS.share + '22', width: 2,
        paths: uPlot.paths.stepped({ align: 1 }), value: (u, v) => v == null ? '–' : v + '%',
      },
    ],
  }, [[], []], parent);
  return {
    update(data) { plot.setData(data); },
    destroy() { plot.destroy(); },
  };
}
