/**
 * The suite's table and its targets, from the results of one run (bench/results.json).
 */

const ms = (seconds) => (seconds * 1000).toFixed(1);
const rate = (perSecond) => (perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)} M` : `${(perSecond / 1e3).toFixed(0)} k`);
const ratio = (value) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : "–");
const percent = (value) => (Number.isFinite(value) ? `${(value * 100).toFixed(0)}%` : "–");

/** Aligned columns; the first row is the header. */
function columns(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)));
  const line = (row) => `  ${row.map((cell, i) => (i === 0 ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i]))).join("   ")}`;
  return [line(rows[0]), `  ${widths.map((w) => "-".repeat(w)).join("   ")}`, ...rows.slice(1).map(line)];
}

/**
 * Each target of the issue, measured: { item, target, value, met }.
 * @param {any} results
 */
export function evaluateTargets(results) {
  const targets = [];
  const stream = results.items["stream-throughput"];
  if (stream?.variants) {
    const oasst = stream.variants.oasst?.tokensPerSecond;
    const seed = stream.variants.seed?.tokensPerSecond;
    const floor = stream.variants.floor?.tokensPerSecond;
    if (seed) targets.push({ item: 1, target: "oasst tokens/s ≥ 4× the seed's", value: ratio(oasst / seed), met: oasst / seed >= 4 });
    targets.push({ item: 1, target: "oasst tokens/s ≥ ¼ of the floor's", value: ratio(oasst / floor), met: oasst / floor >= 0.25 });
  }
  const setup = results.items["chat-setup"];
  if (setup?.wholeChatMs) {
    const value = setup.wholeChatMs.p50 / setup.rawRoundTripsMs.p50;
    targets.push({ item: 2, target: "whole-chat p50 ≤ 1.2× five raw round trips", value: ratio(value), met: value <= 1.2 && setup.errors === 0 });
  }
  const load = results.items.concurrency;
  if (load?.scenarios) {
    const find = (who, inflight) => load.scenarios.find((s) => s.who === who && s.inflight === inflight);
    const oasst = find("oasst", 1000);
    const seed = find("seed", 1000);
    if (oasst && seed) {
      const value = seed.seconds / oasst.seconds;
      targets.push({ item: 3, target: "1,000 in flight: throughput ≥ 3× the seed's", value: ratio(value), met: value >= 3 });
    }
    if (oasst) {
      targets.push({ item: 3, target: "1,000 in flight: peak RSS ≤ 300 MB", value: `${oasst.peakRssMb.toFixed(0)} MB`, met: oasst.peakRssMb <= 300 });
    }
    const oasstRuns = load.scenarios.filter((s) => s.who === "oasst");
    const errors = oasstRuns.reduce((sum, s) => sum + s.errors, 0);
    const left = Math.max(0, ...oasstRuns.map((s) => s.liveChats));
    targets.push({ item: 3, target: "errors 0, chats left on the server 0", value: `${errors} / ${left}`, met: errors === 0 && left === 0 });
  }
  const gateway = results.items["gateway-overhead"];
  if (gateway?.variants) {
    const base = gateway.variants.provider.median;
    for (const name of ["gateway-stream", "gateway-json"]) {
      const added = gateway.variants[name].median / base - 1;
      targets.push({ item: 4, target: `${name} adds ≤ 15% to the provider's time`, value: `+${percent(added)}`, met: added <= 0.15 });
    }
  }
  const cold = results.items["cold-start"];
  if (cold?.variants) {
    const above = (cold.variants["oasst chat"].median - cold.variants["node -e 0"].median) * 1000;
    targets.push({ item: 5, target: "oasst chat first token ≤ 150 ms above node -e 0", value: `+${above.toFixed(0)} ms`, met: above <= 150 });
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
  const floor = results.items["stream-throughput"]?.variants?.floor;
  if (floor) {
    out.push(
      `The server: its own process, replies pre-encoded; its raw rate (item 1's floor) ${rate(floor.tokensPerSecond)} tokens/s, ${ms(floor.seconds.median)} ms for ${results.items["stream-throughput"].streamBytes.toLocaleString("en")} bytes.`,
    );
  }
  for (const [name, item] of Object.entries(results.items)) {
    out.push("");
    if (item.error) {
      out.push(`${name}: FAILED: ${item.error}`);
      continue;
    }
    if (name === "stream-throughput") {
      out.push(`1. Stream throughput: one reply of ${item.tokens.toLocaleString("en")} tokens, median of ${item.runs} runs (min–max)`);
      const v = item.variants;
      const rows = [["client", "ms", "min–max", "tokens/s", "÷ seed", "÷ floor", "server CPU"]];
      const order = ["oasst", "oasst-events", "quick-port", "seed", "floor"];
      for (const key of order) {
        const r = v[key];
        if (!r) continue;
        rows.push([
          key,
          ms(r.seconds.median),
          `${ms(r.seconds.min)}–${ms(r.seconds.max)}`,
          rate(r.tokensPerSecond),
          v.seed ? ratio(r.tokensPerSecond / v.seed.tokensPerSecond) : "–",
          ratio(r.tokensPerSecond / v.floor.tokensPerSecond),
          percent(r.serverCpuShare),
        ]);
      }
      out.push(...columns(rows));
      if (item.seedSkipped) out.push(`  seed skipped: ${item.seedSkipped}`);
      out.push("  oasst = OpenAssistant.createAsyncGenerator, oasst-events = streamEvents, both the whole chat (5 requests);");
      out.push("  quick-port = fetch + TextDecoder + split + JSON.parse, whole chat; seed = seed_reference.py (its own timer);");
      out.push("  floor = the same five requests on a raw socket kept alive across chats, the event stream read and dropped.");
      out.push("  server CPU = the server process's CPU time ÷ the runs' wall time.");
    } else if (name === "chat-setup") {
      out.push(`2. Chat setup: ${item.chats.toLocaleString("en")} sequential chats of ${item.tokens} tokens (provider and raw alternate)`);
      const rows = [["measure", "p50 ms", "p99 ms", "÷ raw p50"]];
      rows.push(["oasst time to first token", item.firstTokenMs.p50.toFixed(2), item.firstTokenMs.p99.toFixed(2), ratio(item.firstTokenMs.p50 / item.rawRoundTripsMs.p50)]);
      rows.push(["oasst whole chat", item.wholeChatMs.p50.toFixed(2), item.wholeChatMs.p99.toFixed(2), ratio(item.wholeChatMs.p50 / item.rawRoundTripsMs.p50)]);
      rows.push(["five raw round trips (kept alive)", item.rawRoundTripsMs.p50.toFixed(2), item.rawRoundTripsMs.p99.toFixed(2), "1.00×"]);
      const { undiciMs: undici, undiciRawMs: undiciRaw } = item;
      rows.push(["undici Client, same five requests", undici.p50.toFixed(2), undici.p99.toFixed(2), ratio(undici.p50 / undiciRaw.p50)]);
      rows.push(["  raw round trips of that pass", undiciRaw.p50.toFixed(2), undiciRaw.p99.toFixed(2), "1.00×"]);
      out.push(...columns(rows));
      out.push("  undici: a pass of its own, alternating with raw chats; its ratio is to that pass's raw p50.");
      out.push(`  errors ${item.errors}, chats left ${item.liveChats}, server CPU ${percent(item.serverCpuShare)} of the wall time`);
    } else if (name === "concurrency") {
      out.push(`3. Concurrency: chats of ${item.tokens} tokens in one process, median of the runs`);
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
          seed ? ratio(seed.seconds / s.seconds) : "–",
          `${s.peakRssMb.toFixed(0)} MB`,
          s.errors,
          s.liveChats,
          percent(s.serverCpuShare),
        ]);
      }
      out.push(...columns(rows));
      if (item.seedSkipped) out.push(`  seed skipped: ${item.seedSkipped}`);
      out.push("  oasst: a new chat starts as soon as one ends; seed: --repeat R --concurrency C, R waves of C.");
    } else if (name === "gateway-overhead") {
      out.push(`4. Gateway overhead: a ${item.tokens}-token reply, median of ${item.runs} runs`);
      const base = item.variants.provider.median;
      const rows = [["path", "ms", "min–max", "added"]];
      for (const [key, r] of Object.entries(item.variants)) {
        const added = key === "provider" ? "" : key.startsWith("openai-stub") ? `(${percent(r.median / base)} of provider)` : `+${percent(r.median / base - 1)}`;
        rows.push([key, ms(r.median), `${ms(r.min)}–${ms(r.max)}`, added]);
      }
      out.push(...columns(rows));
      out.push("  provider = OpenAssistant.createAsync in the bench process; gateway-* = the openai client → oasst serve (a child) → server;");
      out.push("  openai-stub-* = the openai client → a server that answers the same reply at once: the client's own cost, which no gateway removes.");
    } else if (name === "cold-start") {
      out.push(`5. Cold start, median of ${item.runs} runs`);
      const rows = [["command", "ms", "min–max"]];
      for (const [key, r] of Object.entries(item.variants)) rows.push([key, ms(r.median), `${ms(r.min)}–${ms(r.max)}`]);
      out.push(...columns(rows));
      out.push("  oasst chat: spawn to the first byte on stdout; node -e 0: spawn to exit.");
    }
  }
  const targets = evaluateTargets(results);
  if (targets.length) {
    out.push("");
    out.push("Targets (ratios, same machine, same run)");
    const rows = [["item", "target", "measured", "met"]];
    for (const t of targets) rows.push([t.item, t.target, t.value, t.met ? "yes" : "NO"]);
    out.push(...columns(rows));
  }
  return out;
}
