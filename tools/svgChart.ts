/**
 * Small, dependency-free SVG charts for the bench and the simulator: bar chart, grouped bars, histogram,
 * and line chart (e.g. a CDF). Every function returns a complete standalone SVG document as a string.
 *
 * Usage:
 *   barChart({ title: "Throughput", yLabel: "players/s", bars: [{ label: "ours", value: 52000 }] })
 *   groupedBarChart({ title, yLabel, groups: ["2", "4", "8"], series: [{ name: "ours", values: [1, 2, 3] }] })
 *   histogram({ title, xLabel: "ms", values: samples, bins: 30 })
 *   lineChart({ title, xLabel, yLabel, series: [{ name: "p", points: [[x, y], ...] }] })
 *   cdfPoints(samples) -> [[value, fraction], ...] for lineChart
 *
 * Each drawn bar is one `<rect class="bar" ...>` element (tests count them); each line is one
 * `<polyline class="line" ...>`. Text is XML-escaped. Non-finite values are drawn as 0.
 */

export interface ChartSize {
  width?: number;
  height?: number;
}

export interface Bar {
  label: string;
  value: number;
  /** CSS colour; defaults to the palette. */
  color?: string;
}

export interface BarChartOptions extends ChartSize {
  title: string;
  yLabel?: string;
  bars: Bar[];
  /** Draws the value above each bar (default true). */
  showValues?: boolean;
  /** Logarithmic y axis (values <= 0 are drawn at the axis). */
  logScale?: boolean;
  /** Optional horizontal reference lines, e.g. a target. */
  referenceLines?: ReferenceLine[];
}

export interface ReferenceLine {
  value: number;
  label: string;
  color?: string;
}

export interface Series {
  name: string;
  values: number[];
  color?: string;
}

export interface GroupedBarChartOptions extends ChartSize {
  title: string;
  yLabel?: string;
  /** The x-axis groups; each series has one value per group. */
  groups: string[];
  series: Series[];
  showValues?: boolean;
  logScale?: boolean;
  referenceLines?: ReferenceLine[];
}

export interface HistogramOptions extends ChartSize {
  title: string;
  xLabel?: string;
  yLabel?: string;
  values: number[];
  /** Number of bins (default 30). Empty bins are still counted as bars (height 0). */
  bins?: number;
  /** Range of the bins (defaults: min and max of the values). */
  min?: number;
  max?: number;
  color?: string;
  /** Vertical markers, e.g. p50/p95. */
  markers?: { value: number; label: string; color?: string }[];
}

export interface LineSeries {
  name: string;
  points: [number, number][];
  color?: string;
  /** "points": a dot per point (a scatter), not a polyline. Default "line". */
  style?: "line" | "points";
}

export interface LineChartOptions extends ChartSize {
  title: string;
  xLabel?: string;
  yLabel?: string;
  series: LineSeries[];
  /** Fixed y range (e.g. [0, 1] for a CDF). */
  yMin?: number;
  yMax?: number;
  xMin?: number;
  xMax?: number;
  logX?: boolean;
}

export const PALETTE = ["#2b6cb0", "#dd6b20", "#38a169", "#805ad5", "#e53e3e", "#319795", "#d69e2e", "#718096"];

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif"';
const MARGIN = { top: 40, right: 20, bottom: 60, left: 70 };

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => (c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === "&" ? "&amp;" : c === '"' ? "&quot;" : "&apos;"));
}

/** Short human number: 1234 -> "1.23k", 52000 -> "52k", 0.0123 -> "0.0123". */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return "–";
  const a = Math.abs(v);
  if (a >= 1e9) return trim(v / 1e9) + "G";
  if (a >= 1e6) return trim(v / 1e6) + "M";
  if (a >= 1e4) return trim(v / 1e3) + "k";
  if (a >= 100) return String(Math.round(v));
  if (a >= 1) return trim(v);
  if (a === 0) return "0";
  return trim(v);
}

function trim(v: number): string {
  return String(Number(v.toPrecision(3)));
}

function num(v: number): number {
  return Number.isFinite(v) ? v : 0;
}

function fmt(v: number): string {
  return String(Math.round(v * 100) / 100);
}

/** "Nice" axis ticks covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) max = min + 1;
  const raw = (max - min) / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const start = Math.floor(min / step) * step;
  const ticks: number[] = [];
  for (let t = start; t <= max + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  if (ticks[ticks.length - 1]! < max) ticks.push(Number((ticks[ticks.length - 1]! + step).toPrecision(12)));
  return ticks;
}

interface LegendItem {
  name: string;
  color: string;
}

interface Frame {
  width: number;
  /** Total height, including extra legend rows. */
  height: number;
  /** Height the plot geometry is laid out in (without extra legend rows). */
  baseHeight: number;
  plotW: number;
  plotH: number;
  legend: { item: LegendItem; x: number; row: number }[];
}

const LEGEND_ROW = 16;

/** Lays legend entries left to right, wrapping to a new row when one would leave the chart. */
function layoutLegend(items: LegendItem[], width: number): Frame["legend"] {
  const out: Frame["legend"] = [];
  let x = MARGIN.left;
  let row = 0;
  for (const item of items) {
    const w = 16 + Math.max(30, item.name.length * 6.6) + 18;
    if (x + w > width - 4 && x > MARGIN.left) {
      row++;
      x = MARGIN.left;
    }
    out.push({ item, x, row });
    x += w;
  }
  return out;
}

function frame(o: ChartSize, defW = 720, defH = 400, legendItems: LegendItem[] = []): Frame {
  const width = o.width ?? defW;
  const baseHeight = o.height ?? defH;
  const legend = layoutLegend(legendItems, width);
  const rows = legend.length ? Math.max(...legend.map((l) => l.row)) + 1 : 1;
  return {
    width,
    height: baseHeight + (rows - 1) * LEGEND_ROW,
    baseHeight,
    plotW: width - MARGIN.left - MARGIN.right,
    plotH: baseHeight - MARGIN.top - MARGIN.bottom,
    legend,
  };
}

function open(f: Frame, title: string): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${f.width}" height="${f.height}" viewBox="0 0 ${f.width} ${f.height}" ${FONT} font-size="12">`,
    `<rect x="0" y="0" width="${f.width}" height="${f.height}" fill="#ffffff"/>`,
    `<text x="${f.width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="600">${escapeXml(title)}</text>`,
  ];
}

/** A y scale: linear from 0 (or log10), returning pixel y inside the plot. */
interface YScale {
  y(v: number): number;
  ticks: number[];
}

function yScale(values: number[], plotH: number, log: boolean, extra: number[] = []): YScale {
  const all = [...values, ...extra].map(num);
  if (log) {
    const positive = all.filter((v) => v > 0);
    const lo = positive.length ? Math.floor(Math.log10(Math.min(...positive))) : 0;
    const hi = Math.max(lo + 1, Math.ceil(Math.log10(positive.length ? Math.max(...positive) : 10)));
    const ticks: number[] = [];
    for (let e = lo; e <= hi; e++) ticks.push(Math.pow(10, e));
    const y = (v: number): number => (v <= 0 ? plotH : plotH - ((Math.log10(v) - lo) / (hi - lo)) * plotH);
    return { y, ticks };
  }
  const ticks = niceTicks(0, Math.max(...all, 0) || 1);
  const top = ticks[ticks.length - 1]!;
  return { y: (v: number) => plotH - (Math.max(0, num(v)) / top) * plotH, ticks };
}

function yAxis(f: Frame, s: YScale, label: string | undefined): string[] {
  const out: string[] = [];
  for (const t of s.ticks) {
    const y = MARGIN.top + s.y(t);
    out.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + f.plotW}" y1="${fmt(y)}" y2="${fmt(y)}" stroke="#e2e8f0"/>`,
      `<text x="${MARGIN.left - 6}" y="${fmt(y + 4)}" text-anchor="end" fill="#4a5568">${escapeXml(formatNumber(t))}</text>`,
    );
  }
  out.push(
    `<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + f.plotH}" stroke="#4a5568"/>`,
    `<line x1="${MARGIN.left}" x2="${MARGIN.left + f.plotW}" y1="${MARGIN.top + f.plotH}" y2="${MARGIN.top + f.plotH}" stroke="#4a5568"/>`,
  );
  if (label) {
    const cy = MARGIN.top + f.plotH / 2;
    out.push(`<text x="16" y="${cy}" text-anchor="middle" transform="rotate(-90 16 ${cy})" fill="#2d3748">${escapeXml(label)}</text>`);
  }
  return out;
}

function referenceLinesSvg(f: Frame, s: YScale, lines: ReferenceLine[] | undefined): string[] {
  // Labels alternate right/left so that lines close together stay readable.
  return (lines ?? []).map((l, i) => {
    const y = MARGIN.top + s.y(l.value);
    const c = l.color ?? "#e53e3e";
    const right = i % 2 === 0;
    return (
      `<line class="reference" x1="${MARGIN.left}" x2="${MARGIN.left + f.plotW}" y1="${fmt(y)}" y2="${fmt(y)}" stroke="${c}" stroke-dasharray="6 4"/>` +
      `<text x="${right ? MARGIN.left + f.plotW - 4 : MARGIN.left + 4}" y="${fmt(y - 4)}" text-anchor="${right ? "end" : "start"}" fill="${c}">${escapeXml(l.label)}</text>`
    );
  });
}

/** One bar per entry. */
export function barChart(o: BarChartOptions): string {
  return bars(
    {
      title: o.title,
      yLabel: o.yLabel,
      width: o.width,
      height: o.height,
      showValues: o.showValues,
      logScale: o.logScale,
      referenceLines: o.referenceLines,
      groups: o.bars.map((b) => b.label),
      series: [{ name: "", values: o.bars.map((b) => b.value) }],
    },
    o.bars.map((b, i) => b.color ?? PALETTE[i % PALETTE.length]!),
  );
}

/** Groups along x, one bar per series inside each group, with a legend. */
export function groupedBarChart(o: GroupedBarChartOptions): string {
  return bars(o, undefined);
}

/** Grouped bars; with `perBarColors` (one series, one colour per group: barChart) there is no legend. */
function bars(o: GroupedBarChartOptions, perBarColors: string[] | undefined): string {
  const legendItems = !perBarColors && o.series.length > 1 ? o.series.map((x, i) => ({ name: x.name, color: x.color ?? PALETTE[i % PALETTE.length]! })) : [];
  const f = frame(o, 720, 400, legendItems);
  const values = o.series.flatMap((s) => s.values);
  const s = yScale(
    values,
    f.plotH,
    o.logScale ?? false,
    (o.referenceLines ?? []).map((l) => l.value),
  );
  const out = open(f, o.title);
  out.push(...yAxis(f, s, o.yLabel));
  const groupW = f.plotW / Math.max(1, o.groups.length);
  const nSeries = Math.max(1, o.series.length);
  const barW = (groupW * 0.8) / nSeries;
  o.groups.forEach((g, gi) => {
    const gx = MARGIN.left + gi * groupW + groupW * 0.1;
    o.series.forEach((ser, si) => {
      const v = num(ser.values[gi] ?? 0);
      const y = s.y(v);
      const h = f.plotH - y;
      const x = gx + si * barW;
      const color = perBarColors?.[gi] ?? ser.color ?? PALETTE[si % PALETTE.length]!;
      out.push(
        `<rect class="bar" x="${fmt(x)}" y="${fmt(MARGIN.top + y)}" width="${fmt(Math.max(1, barW - 2))}" height="${fmt(Math.max(0, h))}" fill="${color}"><title>${escapeXml(`${ser.name ? ser.name + " " : ""}${g}: ${formatNumber(v)}`)}</title></rect>`,
      );
      if (o.showValues ?? true) {
        out.push(
          `<text x="${fmt(x + barW / 2 - 1)}" y="${fmt(MARGIN.top + y - 4)}" text-anchor="middle" font-size="10" fill="#2d3748">${escapeXml(formatNumber(v))}</text>`,
        );
      }
    });
    out.push(`<text x="${fmt(gx + groupW * 0.4)}" y="${MARGIN.top + f.plotH + 18}" text-anchor="middle" fill="#2d3748">${escapeXml(g)}</text>`);
  });
  out.push(...referenceLinesSvg(f, s, o.referenceLines));
  out.push(...legend(f));
  out.push("</svg>");
  return out.join("\n") + "\n";
}

function legend(f: Frame): string[] {
  const out: string[] = [];
  for (const { item, x, row } of f.legend) {
    const y = f.baseHeight - 16 + row * LEGEND_ROW;
    out.push(
      `<rect class="legend" x="${fmt(x)}" y="${y - 10}" width="12" height="12" fill="${item.color}"/>`,
      `<text x="${fmt(x + 16)}" y="${y}" fill="#2d3748">${escapeXml(item.name)}</text>`,
    );
  }
  return out;
}

/** Histogram of samples: exactly `bins` bars. */
export function histogram(o: HistogramOptions): string {
  const bins = Math.max(1, Math.floor(o.bins ?? 30));
  const vals = o.values.filter((v) => Number.isFinite(v));
  const min = o.min ?? (vals.length ? Math.min(...vals) : 0);
  let max = o.max ?? (vals.length ? Math.max(...vals) : 1);
  if (!(max > min)) max = min + 1;
  const width = (max - min) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const v of vals) {
    if (v < min || v > max) continue;
    counts[Math.min(bins - 1, Math.floor((v - min) / width))]!++;
  }
  const f = frame(o);
  const s = yScale(counts, f.plotH, false);
  const out = open(f, o.title);
  out.push(...yAxis(f, s, o.yLabel ?? "count"));
  const barW = f.plotW / bins;
  const color = o.color ?? PALETTE[0]!;
  counts.forEach((c, i) => {
    const y = s.y(c);
    const lo = min + i * width;
    out.push(
      `<rect class="bar" x="${fmt(MARGIN.left + i * barW)}" y="${fmt(MARGIN.top + y)}" width="${fmt(Math.max(0.5, barW - 1))}" height="${fmt(f.plotH - y)}" fill="${color}"><title>${escapeXml(`${formatNumber(lo)}–${formatNumber(lo + width)}: ${c}`)}</title></rect>`,
    );
  });
  for (const t of niceTicks(min, max, 6).filter((t) => t >= min && t <= max)) {
    const x = MARGIN.left + ((t - min) / (max - min)) * f.plotW;
    out.push(`<text x="${fmt(x)}" y="${MARGIN.top + f.plotH + 18}" text-anchor="middle" fill="#4a5568">${escapeXml(formatNumber(t))}</text>`);
  }
  // Markers outside the drawn range are left out rather than pinned to an edge, where they would mislead.
  for (const [mi, m] of (o.markers ?? []).filter((mk) => mk.value >= min && mk.value <= max).entries()) {
    const x = MARGIN.left + ((m.value - min) / (max - min)) * f.plotW;
    const c = m.color ?? "#e53e3e";
    out.push(
      `<line class="marker" x1="${fmt(x)}" x2="${fmt(x)}" y1="${MARGIN.top}" y2="${MARGIN.top + f.plotH}" stroke="${c}" stroke-dasharray="4 3"/>`,
      `<text x="${fmt(x + 3)}" y="${MARGIN.top + 12 + mi * 14}" fill="${c}">${escapeXml(m.label)}</text>`,
    );
  }
  if (o.xLabel) out.push(`<text x="${MARGIN.left + f.plotW / 2}" y="${f.baseHeight - 14}" text-anchor="middle" fill="#2d3748">${escapeXml(o.xLabel)}</text>`);
  out.push("</svg>");
  return out.join("\n") + "\n";
}

/** Line chart: one polyline per series, linear axes (or log x). */
export function lineChart(o: LineChartOptions): string {
  const f = frame(
    o,
    720,
    400,
    o.series.map((x, i) => ({ name: x.name, color: x.color ?? PALETTE[i % PALETTE.length]! })),
  );
  const pts = o.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const logX = o.logX ?? false;
  const tx = (x: number): number => (logX ? Math.log10(Math.max(x, 1e-9)) : x);
  const xs = pts.map(([x]) => tx(x));
  const ys = pts.map(([, y]) => y);
  const xMin = o.xMin !== undefined ? tx(o.xMin) : xs.length ? Math.min(...xs) : 0;
  let xMax = o.xMax !== undefined ? tx(o.xMax) : xs.length ? Math.max(...xs) : 1;
  if (!(xMax > xMin)) xMax = xMin + 1;
  const yTicks = niceTicks(o.yMin ?? Math.min(0, ...ys), o.yMax ?? (ys.length ? Math.max(...ys) : 1));
  const yMin = o.yMin ?? yTicks[0]!;
  const yMax = o.yMax ?? yTicks[yTicks.length - 1]!;
  const px = (x: number): number => MARGIN.left + ((tx(x) - xMin) / (xMax - xMin)) * f.plotW;
  const py = (y: number): number => MARGIN.top + f.plotH - ((y - yMin) / (yMax - yMin || 1)) * f.plotH;
  const out = open(f, o.title);
  const s: YScale = { y: (v) => py(v) - MARGIN.top, ticks: yTicks.filter((t) => t >= yMin && t <= yMax) };
  out.push(...yAxis(f, s, o.yLabel));
  const xTicks = logX ? range(Math.floor(xMin), Math.ceil(xMax)).map((e) => Math.pow(10, e)) : niceTicks(xMin, xMax, 6).filter((t) => t >= xMin && t <= xMax);
  for (const t of xTicks) {
    if (tx(t) < xMin || tx(t) > xMax) continue;
    out.push(`<text x="${fmt(px(t))}" y="${MARGIN.top + f.plotH + 18}" text-anchor="middle" fill="#4a5568">${escapeXml(formatNumber(t))}</text>`);
  }
  o.series.forEach((ser, i) => {
    const color = ser.color ?? PALETTE[i % PALETTE.length]!;
    const finitePoints = ser.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (ser.style === "points") {
      const dots = finitePoints.map(([x, y]) => `<circle cx="${fmt(px(x))}" cy="${fmt(py(y))}" r="2.5"/>`).join("");
      out.push(`<g class="points" fill="${color}" fill-opacity="0.6"><title>${escapeXml(ser.name)}</title>${dots}</g>`);
      return;
    }
    const p = finitePoints.map(([x, y]) => `${fmt(px(x))},${fmt(py(y))}`).join(" ");
    out.push(`<polyline class="line" fill="none" stroke="${color}" stroke-width="2" points="${p}"><title>${escapeXml(ser.name)}</title></polyline>`);
  });
  if (o.xLabel) out.push(`<text x="${MARGIN.left + f.plotW / 2}" y="${f.baseHeight - 30}" text-anchor="middle" fill="#2d3748">${escapeXml(o.xLabel)}</text>`);
  out.push(...legend(f));
  out.push("</svg>");
  return out.join("\n") + "\n";
}

function range(a: number, b: number): number[] {
  const r: number[] = [];
  for (let i = a; i <= b; i++) r.push(i);
  return r;
}

/** Empirical CDF of samples as [value, fraction <= value] points (at most `maxPoints`). */
export function cdfPoints(samples: number[], maxPoints = 200): [number, number][] {
  const sorted = samples.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return [];
  const step = Math.max(1, Math.floor(n / maxPoints));
  const pts: [number, number][] = [];
  for (let i = 0; i < n; i += step) pts.push([sorted[i]!, (i + 1) / n]);
  if (pts[pts.length - 1]![1] !== 1) pts.push([sorted[n - 1]!, 1]);
  return pts;
}
