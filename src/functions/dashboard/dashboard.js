// The operator's dashboard: polls the stats API (GET stats, relative to this page: /api/stats) and redraws
// in place. No framework; charts are inline SVG. Every text from the API goes in through textContent
// (dead-letter details are whatever a client sent).
"use strict";

(function () {
  const POLL_MS = 2000;
  const HISTORY_MS = 10 * 60 * 1000;
  const SVG = "http://www.w3.org/2000/svg";
  /** [{t, matched}] cumulative matched players over time, for matches per minute. */
  const history = [];
  let failures = 0;

  const $ = (id) => document.getElementById(id);
  const fmtMs = (ms) => (ms >= 10000 ? `${(ms / 1000).toFixed(0)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);
  // Axis labels: short enough that every third bucket's label fits under the bars.
  const fmtBound = (ms) => (ms >= 1000 ? `${ms / 1000}s` : `${ms}ms`);
  const sum = (xs) => xs.reduce((a, b) => a + b, 0);

  function el(tag, attrs, text) {
    const e = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = String(text);
    return e;
  }

  function table(id, head, rows) {
    const t = $(id);
    t.replaceChildren();
    const tr = el("tr");
    for (const h of head) tr.appendChild(el("th", {}, h));
    t.appendChild(tr);
    for (const r of rows) {
      const row = el("tr");
      for (const c of r) row.appendChild(el("td", {}, c));
      t.appendChild(row);
    }
  }

  function set(id, text) {
    $(id).textContent = String(text);
  }

  /** Bars with x labels; values >= 0. */
  function bars(id, labels, values, color) {
    const svg = $(id);
    svg.replaceChildren();
    const W = 360,
      H = 150,
      L = 34,
      B = 22,
      T = 8;
    const max = Math.max(1, ...values);
    const w = (W - L - 4) / Math.max(1, values.length);
    svg.appendChild(el("svg:line", { x1: L, y1: H - B, x2: W, y2: H - B, stroke: "#dde2e8" }));
    svg.appendChild(el("svg:text", { x: L - 4, y: T + 8, "text-anchor": "end" }, max));
    svg.appendChild(el("svg:text", { x: L - 4, y: H - B, "text-anchor": "end" }, 0));
    values.forEach((v, i) => {
      const h = ((H - B - T) * v) / max;
      const rect = el("svg:rect", { x: L + i * w + 1, y: H - B - h, width: Math.max(1, w - 2), height: h, fill: color });
      rect.appendChild(el("svg:title", {}, `${labels[i]}: ${v}`));
      svg.appendChild(rect);
      const every = Math.ceil(values.length / 8);
      // The last label ends at the edge instead of being cut by it.
      const last = i === values.length - 1;
      if (i % every === 0) svg.appendChild(el("svg:text", { x: last ? W : L + i * w + w / 2, y: H - 6, "text-anchor": last ? "end" : "middle" }, labels[i]));
    });
  }

  /** A mode's normalized rules (stats.modeRules); older apps report only sizes. */
  function rules(stats, mode) {
    return (stats.modeRules || {})[mode] || { size: stats.modes[mode], teams: 1 };
  }

  function matchedTotal(stats) {
    return sum(stats.regions.map((r) => r.matchedPlayers || 0));
  }

  function perMinute(now) {
    // The oldest sample of the last minute (or the oldest we have) against the newest.
    const newest = history[history.length - 1];
    const from = history.find((h) => h.t >= now - 60000) || history[0];
    if (!newest || !from || newest.t - from.t < 1500) return undefined;
    return ((newest.matched - from.matched) * 60000) / (newest.t - from.t);
  }

  function drawRate(now) {
    // Players matched in each 30-second slot of the last 10 minutes, as a rate per minute.
    const SLOT = 30000,
      slots = HISTORY_MS / SLOT;
    const values = [],
      labels = [];
    for (let i = slots - 1; i >= 0; i--) {
      const end = now - i * SLOT,
        start = end - SLOT;
      const inSlot = history.filter((h) => h.t > start - POLL_MS && h.t <= end);
      const rate =
        inSlot.length >= 2 ? ((inSlot[inSlot.length - 1].matched - inSlot[0].matched) * 60000) / Math.max(1, inSlot[inSlot.length - 1].t - inSlot[0].t) : 0;
      values.push(Math.round(rate));
      labels.push(i === 0 ? "now" : `-${(i * SLOT) / 60000}m`);
    }
    bars("chart-mpm", labels, values, "#2563eb");
  }

  function render(stats) {
    const now = Date.parse(stats.at) || Date.now();
    history.push({ t: now, matched: matchedTotal(stats) });
    while (history.length && history[0].t < now - HISTORY_MS) history.shift();
    const regions = stats.regions;
    const modes = Object.keys(stats.modes);

    // A zone's latency pool (on its first region) holds tickets not placed in any region yet.
    const pools = regions.filter((r) => r.latencyPool).map((r) => r.latencyPool);
    set("fig-waiting", sum(regions.map((r) => r.waitingPlayers)) + sum(pools.map((p) => p.waitingPlayers)));
    const mpm = perMinute(now);
    set("fig-mpm", mpm === undefined ? "…" : Math.round(mpm));
    // Percentiles over all regions: the region with the most samples speaks for the rest is wrong, so
    // take the worst region's figure (what an operator needs to see).
    const withSamples = regions.filter((r) => r.timeToMatchMs.count > 0);
    set("fig-p50", withSamples.length ? fmtMs(Math.max(...withSamples.map((r) => r.timeToMatchMs.p50))) : "–");
    set("fig-p95", withSamples.length ? fmtMs(Math.max(...withSamples.map((r) => r.timeToMatchMs.p95))) : "–");
    set("fig-free", sum(regions.map((r) => r.serversAvailable)));
    const waitingForServer = sum(regions.map((r) => r.sessionsWaitingForServer || 0));
    set("fig-wfs", waitingForServer);
    const dead = stats.deadLetters || {};
    set("fig-dead", sum(Object.values(dead).map((d) => d.recent)));

    table(
      "queue",
      ["region", ...modes, "open", "ready", "oldest wait"],
      regions
        .map((r) => [r.region, ...modes.map((m) => r.waitingByMode[m] || 0), r.sessionsOpen, r.sessionsReady, fmtMs(r.oldestWaitMs)])
        .concat(pools.map((p) => [`latency pool (${p.regions.join(", ")})`, ...modes.map((m) => p.waitingByMode[m] || 0), "–", "–", fmtMs(p.oldestWaitMs)])),
    );
    table(
      "ttm",
      ["region", "samples", "p50", "p95", "p99", "max"],
      regions.map((r) => {
        const t = r.timeToMatchMs;
        return [r.region, t.count, fmtMs(t.p50), fmtMs(t.p95), fmtMs(t.p99), fmtMs(t.max)];
      }),
    );
    // The histogram of all regions' recent samples (same bucket bounds in every region).
    const h = regions.find((r) => r.timeToMatchMs.histogram)?.timeToMatchMs.histogram;
    if (h) {
      const counts = h.counts.map((_c, i) => sum(regions.map((r) => (r.timeToMatchMs.histogram ? r.timeToMatchMs.histogram.counts[i] || 0 : 0))));
      const labels = h.boundsMs.map((b) => `≤${fmtBound(b)}`).concat([`>${fmtBound(h.boundsMs[h.boundsMs.length - 1])}`]);
      bars("chart-ttm", labels, counts, "#15803d");
    }
    // Per mode and region: the queue, the players matched so far, and (when the store reports byMode) how
    // good and how slow recent matches were, and the wait a new ticket can expect (estimatedWaitSeconds).
    const fmtS = (q) => (q && Number.isFinite(q.p50) ? `${fmtMs(q.p50 * 1000)} / ${fmtMs(q.p95 * 1000)}` : "–");
    const fmtN = (q) => (q && Number.isFinite(q.p50) ? `${Math.round(q.p50)} / ${Math.round(q.p95)}` : "–");
    table(
      "quality",
      ["mode", "region", "waiting", "matched", "est. wait", "wait p50 / p95", "skill spread p50 / p95", "team gap p50 / p95"],
      modes.flatMap((m) =>
        regions.map((r) => {
          const q = (r.byMode || {})[m];
          const recent = q && q.recentMatches > 0;
          return [
            m,
            r.region,
            q ? q.waiting : r.waitingByMode[m] || 0,
            (r.matchedByMode || {})[m] || 0,
            q && q.estimatedWaitSeconds != null ? fmtMs(q.estimatedWaitSeconds * 1000) : "–",
            recent ? fmtS(q.waitSeconds) : "–",
            recent && rules(stats, m).skill ? fmtN(q.skillSpread) : "–",
            recent && rules(stats, m).skill && rules(stats, m).teams > 1 ? fmtN(q.teamSkillGap) : "–",
          ];
        }),
      ),
    );

    const scale = $("scale");
    const short = regions.filter((r) => (r.sessionsWaitingForServer || 0) > 0);
    scale.className = short.length ? "banner warn" : "banner ok";
    scale.textContent = short.length
      ? `SCALE OUT: ${short.map((r) => `${r.region} has ${r.sessionsWaitingForServer} session(s) waiting for a server`).join("; ")}`
      : "Enough servers: no session waits for one";
    table(
      "pool",
      ["region", "free", "claimed", "busy", "announcing"],
      regions.map((r) => [r.region, r.serversAvailable, r.serversClaimed || 0, r.serversAllocated - (r.serversClaimed || 0), r.sessionsAnnouncing]),
    );

    table(
      "dead",
      ["source", "recent", "latest at"],
      Object.entries(dead).map(([source, d]) => [source, d.recent, d.latest[0] ? d.latest[0].at.replace("T", " ").slice(0, 19) : "–"]),
    );
    const list = $("dead-latest");
    list.replaceChildren();
    for (const [source, d] of Object.entries(dead)) {
      for (const l of d.latest.slice(0, 3)) list.appendChild(el("li", {}, `${source}: ${l.error} — ${l.detail}`));
    }
    drawRate(now);
    set("updated", `updated ${new Date(now).toLocaleTimeString()}`);
  }

  async function poll() {
    try {
      const res = await fetch("stats", { headers: { accept: "application/json" }, cache: "no-store" });
      if (!res.ok) throw new Error(`stats answered ${res.status}`);
      render(await res.json());
      failures = 0;
      $("status").className = "meta";
      $("status").textContent = `live, every ${POLL_MS / 1000} s`;
    } catch (err) {
      failures++;
      $("status").className = "meta bad";
      $("status").textContent = `stats unavailable (${failures}): ${err.message}`;
    } finally {
      setTimeout(poll, POLL_MS);
    }
  }

  void poll();
})();
