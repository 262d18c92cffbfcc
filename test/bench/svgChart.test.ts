import { describe, expect, it } from "vitest";
import { percentile } from "../../src/lib/percentile";
import { barChart, cdfPoints, escapeXml, formatNumber, groupedBarChart, histogram, lineChart, niceTicks } from "../../tools/svgChart";

/** Minimal well-formedness check: every opened element is closed in order (no XML parser dependency). */
function assertWellFormed(svg: string): void {
  expect(svg.startsWith("<svg ")).toBe(true);
  expect(svg.trim().endsWith("</svg>")).toBe(true);
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)([^>]*?)(\/?)>/g)) {
    const [, closing, name, , selfClosing] = m;
    if (selfClosing) continue;
    if (closing) expect(stack.pop()).toBe(name);
    else stack.push(name!);
  }
  expect(stack).toEqual([]);
  // Text content must not carry raw markup characters.
  for (const t of svg.matchAll(/>([^<]*)</g)) expect(t[1]).not.toMatch(/[<>]/);
}

const count = (svg: string, cls: string): number => svg.split(`class="${cls}"`).length - 1;

describe("svgChart", () => {
  it("bar chart draws one bar per entry and escapes labels", () => {
    const svg = barChart({
      title: "A & B <test>",
      yLabel: "players/s",
      bars: [
        { label: "ours", value: 52000 },
        { label: "reference", value: 900 },
        { label: "floor <1>", value: 120000 },
      ],
      referenceLines: [{ value: 50000, label: "target" }],
    });
    assertWellFormed(svg);
    expect(count(svg, "bar")).toBe(3);
    expect(count(svg, "reference")).toBe(1);
    expect(svg).toContain("A &amp; B &lt;test&gt;");
    expect(svg).toContain("floor &lt;1&gt;");
  });

  it("grouped bars: groups x series bars, taller value gets the taller bar", () => {
    const svg = groupedBarChart({
      title: "t",
      groups: ["2", "4", "8"],
      series: [
        { name: "ours", values: [10, 20, 30] },
        { name: "ref", values: [1, 2, 3] },
      ],
    });
    assertWellFormed(svg);
    expect(count(svg, "bar")).toBe(6);
    const heights = [...svg.matchAll(/class="bar"[^>]*height="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(heights[4]).toBeGreaterThan(heights[0]!); // ours@8 > ours@2
    expect(heights[0]).toBeGreaterThan(heights[1]!); // ours@2 > ref@2
    expect(count(svg, "legend")).toBe(2);
  });

  it("log scale and non-finite values still produce valid SVG", () => {
    const svg = groupedBarChart({
      title: "log",
      logScale: true,
      groups: ["a", "b"],
      series: [
        { name: "x", values: [0, NaN] },
        { name: "y", values: [1e5, 3] },
      ],
    });
    assertWellFormed(svg);
    expect(count(svg, "bar")).toBe(4);
    expect(svg).not.toContain("NaN");
  });

  it("histogram has exactly `bins` bars whose heights sum to the counts", () => {
    const values = Array.from({ length: 1000 }, (_, i) => i % 100);
    const svg = histogram({
      title: "h",
      xLabel: "ms",
      values,
      bins: 10,
      markers: [
        { value: 50, label: "p50" },
        { value: 500, label: "out of range" },
      ],
    });
    assertWellFormed(svg);
    expect(count(svg, "bar")).toBe(10);
    expect(count(svg, "marker")).toBe(1); // the out-of-range one is left out
    expect(svg).not.toContain("out of range");
    const titles = [...svg.matchAll(/: (\d+)<\/title>/g)].map((m) => Number(m[1]));
    expect(titles.reduce((a, b) => a + b, 0)).toBe(1000);
    // empty input: still a valid chart
    const empty = histogram({ title: "empty", values: [], bins: 5 });
    assertWellFormed(empty);
    expect(count(empty, "bar")).toBe(5);
  });

  it("line chart / CDF draws one polyline per series", () => {
    const samples = [5, 1, 3, 2, 4];
    const pts = cdfPoints(samples);
    expect(pts[0]).toEqual([1, 0.2]);
    expect(pts[pts.length - 1]).toEqual([5, 1]);
    const svg = lineChart({
      title: "cdf",
      yMin: 0,
      yMax: 1,
      series: [
        { name: "a", points: pts },
        {
          name: "b",
          points: [
            [1, 0],
            [10, 1],
          ],
        },
      ],
      logX: true,
    });
    assertWellFormed(svg);
    expect(count(svg, "line")).toBe(2);
    expect(svg).not.toContain("NaN");
  });

  it("helpers: percentile, niceTicks, formatNumber, escapeXml", () => {
    const s = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(s, 50)).toBe(50);
    expect(percentile(s, 99)).toBe(99);
    expect(percentile([], 50)).toBeNaN();
    const t = niceTicks(0, 87);
    expect(t[0]).toBe(0);
    expect(t[t.length - 1]).toBeGreaterThanOrEqual(87);
    expect(formatNumber(52000)).toBe("52k");
    expect(formatNumber(1234)).toBe("1234");
    expect(escapeXml(`<a href="x">&'`)).toBe("&lt;a href=&quot;x&quot;&gt;&amp;&apos;");
  });
});
