// Drives headless Chromium over the DevTools protocol (Node's built-in WebSocket) against a
// running `report serve`: opens the dashboard, types a new value into a what-if input and reads
// the updated prediction (checked against POST /v1/score for the same customer), uploads a CSV
// on the batch page and reads the row count and drift verdict, opens the model card, checks
// that nothing was fetched from anywhere but the server, and saves a screenshot of each page.
// Usage: node --experimental-websocket drive.mjs DEVTOOLS_PORT SERVER_URL UPLOAD_CSV OUT_DIR
import { writeFileSync } from "node:fs";

const [devPort, server, upload, outDir] = process.argv.slice(2);
const fail = (m) => { console.error("serve-browser: FAIL " + m); process.exit(1); };
const ok = (m) => console.log("serve-browser: ok   " + m);

const targets = await (await fetch(`http://127.0.0.1:${devPort}/json/list`)).json();
const page = targets.find((t) => t.type === "page");
if (!page) fail("no page target");
const ws = new WebSocket(page.webSocketDebuggerUrl);
await new Promise((r, j) => { ws.onopen = r; ws.onerror = j; });
let id = 0;
const pending = new Map();
const events = [];
ws.onmessage = (m) => {
  const msg = JSON.parse(m.data);
  if (msg.id && pending.has(msg.id)) { pending.get(msg.id)(msg); pending.delete(msg.id); }
  else if (msg.method) { events.push(msg); }
};
const send = (method, params = {}) => new Promise((resolve, reject) => {
  const n = ++id;
  pending.set(n, (msg) => msg.error ? reject(new Error(method + ": " + JSON.stringify(msg.error))) : resolve(msg.result));
  ws.send(JSON.stringify({ id: n, method, params }));
});
const evaluate = async (expr) => {
  const r = await send("Runtime.evaluate", { expression: expr, returnByValue: true, awaitPromise: true });
  if (r.exceptionDetails) fail("script error: " + JSON.stringify(r.exceptionDetails));
  return r.result.value;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const waitFor = async (expr, what, ms = 10000) => {
  for (let t = 0; t < ms; t += 100) { const v = await evaluate(expr); if (v) return v; await sleep(100); }
  fail("timed out waiting for " + what);
};
const shot = async (name) => {
  // The whole page, not only the viewport.
  const m = await send("Page.getLayoutMetrics");
  const size = m.cssContentSize || m.contentSize;
  const clip = { x: 0, y: 0, width: 1280, height: Math.min(Math.ceil(size.height), 4000), scale: 1 };
  const r = await send("Page.captureScreenshot", { format: "png", clip, captureBeyondViewport: true });
  writeFileSync(`${outDir}/${name}.png`, Buffer.from(r.data, "base64"));
  ok(`screenshot ${outDir}/${name}.png`);
};

await send("Page.enable");
await send("Runtime.enable");
await send("Network.enable");
await send("Emulation.setDeviceMetricsOverride", { width: 1280, height: 900, deviceScaleFactor: 1, mobile: false });
await send("Page.navigate", { url: server + "/" });
await waitFor("document.body && document.body.dataset.scored", "the first prediction");
const before = await evaluate("document.getElementById('out-spend').textContent");
ok("dashboard shows a prediction: " + before);

// Type a new value into the what-if form, as a user would.
// The column: the spend model's first input that the form has (so the predicted spend must move).
const column = await evaluate("CONFIG.models[0].features.filter(function(f){return f!==CONFIG.roles.target && document.getElementById('in-'+f);})[0]");
if (!column) fail("the form has none of the spend model's inputs");
const newValue = await evaluate(`(function(){var p=CONFIG.profile.numeric.filter(function(p){return p.column==='${column}';})[0];return String(Math.round(p.min+0.9*(p.max-p.min)));})()`);
const scoredBefore = await evaluate("document.body.dataset.scored");
await evaluate(`(function(){var e=document.getElementById('in-${column}');e.value='';e.focus();return true;})()`);
await send("Input.insertText", { text: newValue });
await waitFor(`document.body.dataset.scored !== '${scoredBefore}'`, "the prediction to update");
await sleep(300);
const after = await evaluate("document.getElementById('out-spend').textContent");
const shown = await evaluate("JSON.stringify(customer())");
if (JSON.parse(shown)[column] !== Number(newValue)) fail(`the form did not take ${column} = ${newValue}: ${shown}`);
const api = await (await fetch(server + "/v1/score", { method: "POST", headers: { "content-type": "application/json" }, body: "[" + shown + "]" })).json();
const want = Math.round(api.scores[0].predicted_spend).toLocaleString("en");
if (!after.startsWith(want)) fail(`page shows ${after} after ${column} = ${newValue}, API says ${want}`);
if (after === before) fail(`the prediction did not change (${before}) after ${column} = ${newValue}`);
ok(`what-if: ${column} = ${newValue} moved the prediction from ${before} to ${after} (API: ${want})`);
const persona = await evaluate("document.getElementById('out-persona').textContent");
if (persona !== api.scores[0].persona) fail(`persona ${persona} vs API ${api.scores[0].persona}`);
const star = await evaluate("!!document.getElementById('customer')");
if (!star) fail("the customer is not on the segment map");
ok("persona and segment map agree with the API: " + persona);
await shot("whatif");

// Batch page: upload a CSV.
await evaluate("document.querySelector('nav button[data-page=batch]').click(), true");
const doc = await send("DOM.getDocument");
const input = await send("DOM.querySelector", { nodeId: doc.root.nodeId, selector: "#file" });
await send("DOM.setFileInputFiles", { nodeId: input.nodeId, files: [upload] });
await evaluate("document.getElementById('run').click(), true");
await waitFor("document.body.dataset.batch || document.getElementById('batch-error').textContent", "the batch result", 20000);
const err = await evaluate("document.getElementById('batch-error').textContent");
if (err) fail("batch error: " + err);
const rows = await evaluate("document.getElementById('batch-rows').textContent");
const verdict = await evaluate("document.getElementById('drift-verdict').textContent");
const warnings = await evaluate("document.querySelectorAll('#drift .warn').length");
if (rows !== "238") fail("batch scored " + rows + " rows, want 238");
if (!verdict.startsWith("Drift alarm") || warnings < 1) fail(`drift verdict ${verdict} with ${warnings} warnings`);
ok(`batch: ${rows} customers scored, "${verdict}", ${warnings} warning(s)`);
await shot("batch");

await evaluate("document.querySelector('nav button[data-page=card]').click(), true");
const card = await evaluate("document.getElementById('card').textContent");
if (!card.includes("SHA-256") || !card.includes("R²")) fail("model card lacks the data hash or metrics");
ok("model card shows the data hash and metrics");
await shot("card");

const foreign = events.filter((e) => e.method === "Network.requestWillBeSent")
  .map((e) => e.params.request.url).filter((u) => !u.startsWith(server) && !u.startsWith("blob:") && !u.startsWith("data:"));
if (foreign.length) fail("fetched from outside the server: " + foreign.join(", "));
ok("nothing fetched from outside the server");
ws.close();
process.exit(0);
