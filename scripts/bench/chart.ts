/**
 * A hand-rolled SVG of the bench figures: throughput vs concurrency (left) and latency p50/p95/p99 vs concurrency
 * (right, log scale). No dependency; concurrency levels are evenly spaced categories.
 */
export interface ChartPoint {
  series: string;
  concurrency: number;
  throughput: number;
  p50: number;
  p95: number;
  p99: number;
}

const COLORS: Record<string, string> = {
  plain: '#6b7280',
  floor: '#2563eb',
  'floor-local': '#0891b2',
  saga: '#16a34a',
  compensated: '#dc2626',
  'saga-local': '#9333ea',
};
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderChart(points: ChartPoint[], title: string, subtitle: string): string {
  const W = 1000;
  const H = 470;
  const panelW = 420;
  const panelH = 320;
  const top = 80;
  const lefts = [70, 570];
  const levels = [...new Set(points.map((p) => p.concurrency))].sort((a, b) => a - b);
  const seriesNames = [...new Set(points.map((p) => p.series))];
  const x = (left: number, c: number) =>
    left + (levels.length === 1 ? panelW / 2 : (levels.indexOf(c) / (levels.length - 1)) * panelW);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${esc(title)}</text>`);
  out.push(`<text x="${W / 2}" y="44" text-anchor="middle" fill="#555">${esc(subtitle)}</text>`);

  // Left: throughput, linear.
  const maxT = niceMax(Math.max(1, ...points.map((p) => p.throughput)));
  const yT = (v: number) => top + panelH - (v / maxT) * panelH;
  axes(out, lefts[0], top, panelW, panelH, 'throughput (operations/s)', levels, (c) => x(lefts[0], c));
  for (let i = 0; i <= 5; i++) {
    const v = (maxT * i) / 5;
    out.push(`<line x1="${lefts[0]}" x2="${lefts[0] + panelW}" y1="${yT(v)}" y2="${yT(v)}" stroke="#eee"/>`);
    out.push(`<text x="${lefts[0] - 6}" y="${yT(v) + 4}" text-anchor="end">${fmt(v)}</text>`);
  }
  for (const s of seriesNames) {
    const pts = points.filter((p) => p.series === s).sort((a, b) => a.concurrency - b.concurrency);
    line(
      out,
      pts.map((p) => [x(lefts[0], p.concurrency), yT(p.throughput)]),
      COLORS[s] ?? '#000',
      '',
    );
  }

  // Right: latency percentiles, log scale.
  const all = points.flatMap((p) => [p.p50, p.p95, p.p99]).filter((v) => v > 0);
  const lo = Math.pow(10, Math.floor(Math.log10(Math.max(0.1, Math.min(...all)))));
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...all, lo * 10))));
  const yL = (v: number) =>
    top + panelH - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * panelH;
  axes(out, lefts[1], top, panelW, panelH, 'latency, start → result (ms, log)', levels, (c) => x(lefts[1], c));
  for (let v = lo; v <= hi; v *= 10) {
    out.push(`<line x1="${lefts[1]}" x2="${lefts[1] + panelW}" y1="${yL(v)}" y2="${yL(v)}" stroke="#eee"/>`);
    out.push(`<text x="${lefts[1] - 6}" y="${yL(v) + 4}" text-anchor="end">${fmt(v)}</text>`);
  }
  const dashes: Record<string, string> = { p50: '', p95: '6,3', p99: '2,3' };
  for (const s of seriesNames) {
    const pts = points.filter((p) => p.series === s).sort((a, b) => a.concurrency - b.concurrency);
    for (const k of ['p50', 'p95', 'p99'] as const)
      line(
        out,
        pts.map((p) => [x(lefts[1], p.concurrency), yL(p[k])]),
        COLORS[s] ?? '#000',
        dashes[k],
      );
  }

  // Legend.
  let lx = 70;
  const ly = H - 22;
  for (const s of seriesNames) {
    out.push(
      `<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="${COLORS[s] ?? '#000'}" stroke-width="2.5"/>`,
    );
    out.push(`<text x="${lx + 30}" y="${ly + 4}">${esc(s)}</text>`);
    lx += 130;
  }
  lx += 20;
  for (const k of ['p50', 'p95', 'p99']) {
    out.push(
      `<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="#333" stroke-width="2" stroke-dasharray="${dashes[k]}"/>`,
    );
    out.push(`<text x="${lx + 30}" y="${ly + 4}">${k}</text>`);
    lx += 80;
  }
  out.push('</svg>');
  return out.join('\n');
}

function axes(
  out: string[],
  left: number,
  top: number,
  w: number,
  h: number,
  label: string,
  levels: number[],
  x: (c: number) => number,
) {
  out.push(`<rect x="${left}" y="${top}" width="${w}" height="${h}" fill="none" stroke="#999"/>`);
  out.push(`<text x="${left + w / 2}" y="${top - 10}" text-anchor="middle" font-weight="bold">${esc(label)}</text>`);
  for (const c of levels) out.push(`<text x="${x(c)}" y="${top + h + 16}" text-anchor="middle">${c}</text>`);
  out.push(
    `<text x="${left + w / 2}" y="${top + h + 34}" text-anchor="middle" fill="#555">concurrency (operations in flight)</text>`,
  );
}

function line(out: string[], pts: number[][], color: string, dash: string) {
  if (!pts.length) return;
  out.push(
    `<polyline fill="none" stroke="${color}" stroke-width="2" stroke-dasharray="${dash}" points="${pts.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(' ')}"/>`,
  );
  for (const [a, b] of pts) out.push(`<circle cx="${a.toFixed(1)}" cy="${b.toFixed(1)}" r="2.5" fill="${color}"/>`);
}

function niceMax(v: number): number {
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function fmt(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(2);
}
