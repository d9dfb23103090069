/**
 * The suite's table and its targets, from the results of one run (bench/results.json).
 */

const ms = (seconds) => (seconds * 1000).toFixed(1);
const rate = (perSecond) => (perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)} M` : `${(perSecond / 1e3).toFixed(0)} k`);
const ratio = (value) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : "–");
const percent = (value, digits = 0) => (Number.isFinite(value) ? `${(value * 100).toFixed(digits)}%` : "–");
const mb = (value) => (Number.isFinite(value) ? `${value.toFixed(0)} MB` : "–");

/** Aligned columns; the first row is the header. */
function columns(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)));
  const line = (row) => `  ${row.map((cell, i) => (i === 0 ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i]))).join("   ")}`;
  return [line(rows[0]), `  ${widths.map((w) => "-".repeat(w)).join("   ")}`, ...rows.slice(1).map(line)];
}

/**
 * Each target, measured: { scenario, target, value, met }. A scenario whose clients
 * had errors, wrong replies or left chats on the server misses its targets.
 * @param {any} results
 */
export function evaluateTargets(results) {
  const targets = [];
  const stream = results.items["stream-throughput"];
  if (stream?.variants?.seed) {
    const value = stream.variants.oasst.tokensPerSecond / stream.variants.seed.tokensPerSecond;
    targets.push({ scenario: "200,000-token reply", target: "tokens/s ≥ 5× the seed's", value: ratio(value), met: value >= 5 });
  }
  const load = results.items.concurrency;
  if (load?.scenarios) {
    const oasst = load.scenarios.find((s) => s.who === "oasst");
    const seed = load.scenarios.find((s) => s.who === "seed");
    const clean = oasst !== undefined && oasst.errors === 0 && oasst.liveChats === 0;
    if (oasst && seed) {
      const value = oasst.chats / oasst.seconds / (seed.chats / seed.seconds);
      targets.push({ scenario: "1,000 chats, 100 in flight", target: "throughput ≥ 3× the seed's", value: ratio(value), met: clean && value >= 3 });
    }
    if (oasst) {
      targets.push({ scenario: "1,000 chats, 100 in flight", target: "peak RSS ≤ 300 MB", value: mb(oasst.peakRssMb), met: clean && oasst.peakRssMb <= 300 });
    }
  }
  const paced = results.items.paced;
  if (paced?.rows) {
    const clean = (row) => row.errors === 0 && row.mismatches === 0 && row.liveChats === 0;
    const provider = paced.rows.provider;
    const serve = paced.rows["oasst serve"];
    const scenario = `${paced.chats} chats at ~30 tokens/s`;
    if (provider) {
      targets.push({
        scenario,
        target: "provider CPU ≤ 15% of a core",
        value: percent(provider.cpuShare, 1),
        met: clean(provider) && provider.cpuShare <= 0.15,
      });
      targets.push({ scenario, target: "provider peak RSS ≤ 150 MB", value: mb(provider.peakRssMb), met: clean(provider) && provider.peakRssMb <= 150 });
    }
    if (serve) {
      targets.push({ scenario, target: "oasst serve CPU ≤ 50% of a core", value: percent(serve.cpuShare, 1), met: clean(serve) && serve.cpuShare <= 0.5 });
    }
  }
  const cold = results.items["cold-start"];
  if (cold?.variants) {
    const above = (cold.variants["oasst chat"].median - cold.variants["node -e 0"].median) * 1000;
    targets.push({ scenario: "oasst chat cold start", target: "first token ≤ 100 ms after node -e 0", value: `+${above.toFixed(0)} ms`, met: above <= 100 });
  }
  return targets;
}

/**
 * The whole report as lines of text.
 * @param {any} results
 */
export function reportTable(results) {
  const out = [];
  const m = results.machine;
  out.push(`oasst benchmarks, ${results.date}: ${m.cpuModel}, ${m.cores} cores, ${m.memory}, node ${m.node}${results.quick ? " (--quick)" : ""}`);
  for (const [name, item] of Object.entries(results.items)) {
    out.push("");
    if (item.error) {
      out.push(`${name}: FAILED: ${item.error}`);
      continue;
    }
    if (name === "stream-throughput") {
      out.push(`Stream throughput: one reply of ${item.tokens.toLocaleString("en")} tokens, whole chat, median of ${item.runs} runs (min–max)`);
      const v = item.variants;
      const rows = [["client", "ms", "min–max", "tokens/s", "÷ seed", "÷ floor", "server CPU"]];
      for (const key of ["oasst", "oasst-events", "quick-port", "seed", "floor"]) {
        const r = v[key];
        if (!r) continue;
        rows.push([
          key,
          ms(r.seconds.median),
          `${ms(r.seconds.min)}–${ms(r.seconds.max)}`,
          rate(r.tokensPerSecond),
          v.seed ? ratio(r.tokensPerSecond / v.seed.tokensPerSecond) : "–",
          v.floor ? ratio(r.tokensPerSecond / v.floor.tokensPerSecond) : "–",
          percent(r.serverCpuShare),
        ]);
      }
      out.push(...columns(rows));
      if (item.seedSkipped) out.push(`  seed skipped: ${item.seedSkipped}`);
      out.push("  oasst = createAsyncGenerator, oasst-events = streamEvents; quick-port = fetch + TextDecoder + split + JSON.parse;");
      out.push("  seed = seed_reference.py (its own timer); floor = the five requests on a raw socket, the events read and dropped.");
    } else if (name === "concurrency") {
      out.push(`Concurrency: chats of ${item.tokens} tokens, median of the runs (oasst: one account per lane; seed: one account)`);
      const rows = [["client", "chats", "in flight", "seconds", "min–max", "chats/s", "÷ seed", "peak RSS", "errors", "left", "server CPU"]];
      for (const s of item.scenarios) {
        const seed = item.scenarios.find((o) => o.who === "seed" && o.inflight === s.inflight);
        rows.push([
          s.who,
          s.chats,
          s.inflight,
          s.seconds.toFixed(2),
          `${s.secondsMin.toFixed(2)}–${s.secondsMax.toFixed(2)}`,
          (s.chats / s.seconds).toFixed(0),
          seed ? ratio(s.chats / s.seconds / (seed.chats / seed.seconds)) : "–",
          mb(s.peakRssMb),
          s.errors,
          s.liveChats,
          percent(s.serverCpuShare),
        ]);
      }
      out.push(...columns(rows));
      if (item.seedSkipped) out.push(`  seed skipped: ${item.seedSkipped}`);
      out.push(
        "  oasst = OpenAssistant.createAsync; node:http floor = the same chats' five requests through node:http, the events read and dropped (no client).",
      );
    } else if (name === "paced") {
      out.push(`Paced: ${item.chats} chats at once, ${item.tokens} tokens each, one every ${item.tokenDelayMs} ms; each client's process alone`);
      const rows = [["client", "seconds", "CPU ms", "CPU ÷ wall", "peak RSS", "1st token p50/p99", "errors", "left", "server CPU"]];
      for (const [key, r] of Object.entries(item.rows)) {
        rows.push([
          key,
          (r.wallMs / 1000).toFixed(1),
          r.cpuMs.toFixed(0),
          percent(r.cpuShare, 1),
          mb(r.peakRssMb),
          r.firstTokenMs ? `${r.firstTokenMs.p50.toFixed(0)}/${r.firstTokenMs.p99.toFixed(0)} ms` : "–",
          r.errors + r.mismatches,
          r.liveChats,
          percent(r.serverCpuShare),
        ]);
      }
      out.push(...columns(rows));
      out.push("  CPU = the client process's user + system time over the run (oasst serve: the gateway process only, not its callers);");
      out.push("  floors = the same chats through node:http / raw sockets, the events read and dropped (no client).");
    } else if (name === "cold-start") {
      out.push(`Cold start, median of ${item.runs} runs`);
      const rows = [["command", "ms", "min–max"]];
      for (const [key, r] of Object.entries(item.variants)) rows.push([key, ms(r.median), `${ms(r.min)}–${ms(r.max)}`]);
      out.push(...columns(rows));
      out.push("  oasst chat: spawn to the first byte on stdout; node -e 0: spawn to exit.");
    }
  }
  const targets = evaluateTargets(results);
  if (targets.length) {
    out.push("");
    out.push("Targets (ratios from this run)");
    const rows = [["scenario", "target", "measured", ""]];
    for (const t of targets) rows.push([t.scenario, t.target, t.value, t.met ? "✓" : "✗"]);
    out.push(...columns(rows));
  }
  return out;
}
