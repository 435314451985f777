// clintune studio: plain JavaScript over the studio's JSON API. Every label comes from the locale files
// (/api/locales/en, /api/locales/ko); results are kept and re-drawn when the language changes.
"use strict";

const state = { lang: localStorage.getItem("clintune.lang") || "en", strings: {}, options: null,
                results: {}, commands: { data: [], memory: [], train: [], eval: [], chat: [] },
                base: {}, extraOverrides: {}, runs: [], selectedRun: null };

function t(key, vars) {
  let text = state.strings[key] ?? key;
  for (const [name, value] of Object.entries(vars || {})) text = text.replaceAll(`{${name}}`, value);
  return text;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

const $ = (id) => document.getElementById(id);

async function call(path, body) {
  const init = body === undefined ? {} : { method: "POST", headers: { "content-type": "application/json" },
                                           body: JSON.stringify(body) };
  const response = await fetch(path, init);
  let data;
  try { data = await response.json(); } catch { throw new Error(t("error.unreadable", { status: response.status })); }
  if (!response.ok) throw studioError(data, response.status);
  return data;
}

// The server's one line, or, for a problem the studio itself found, the same said in the page's language.
function studioError(data, status) {
  const error = new Error(data.error || t("error.unreadable", { status }));
  error.key = data.key;
  error.values = data.values;
  return error;
}

function showError(tab, error) {
  const box = $(`${tab}-error`);
  box.hidden = !error;
  const said = error && error.key && state.strings[`error.${error.key}`] ? t(`error.${error.key}`, error.values) : null;
  box.textContent = error ? `${t("error.prefix")} ${said || error.message || error}` : "";
}

function addCommand(tab, command) {
  if (!command) return;
  state.commands[tab].push(command);
  $(`${tab}-commands`).textContent = state.commands[tab].join("\n");
}

async function busy(button, work) {
  button.disabled = true;
  button.classList.add("busy");
  try { await work(); } finally { button.disabled = false; button.classList.remove("busy"); }
}

// Language ---------------------------------------------------------------------------------------------------------

async function setLanguage(lang) {
  state.strings = await call(`/api/locales/${lang}`);
  state.lang = lang;
  localStorage.setItem("clintune.lang", lang);
  document.documentElement.lang = lang;
  $("lang").value = lang;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
  fillOptions();
  for (const [name, render] of Object.entries(renderers)) if (state.results[name]) render(state.results[name]);
  for (const label of document.querySelectorAll("#train-fields label span")) label.textContent = t(`field.${label.dataset.key}`);
  renderRuns();
}

function fillOptions() {
  if (!state.options) return;
  const method = $("mem-method"), gpu = $("mem-gpu"), chosenMethod = method.value, chosenGpu = gpu.value;
  method.replaceChildren(...state.options.methods.map((m) => el("option", { value: m, text: t(`method.${m}`) })));
  method.value = chosenMethod || "lora";
  gpu.replaceChildren(el("option", { value: "", text: t("memory.no_gpu") }),
    ...Object.entries(state.options.gpus).map(([name, mib]) =>
      el("option", { value: name, text: `${name} (${(mib / 1024).toFixed(1)} GiB)` })));
  gpu.value = chosenGpu;
  $("model-names").replaceChildren(...state.options.models.map((m) =>
    el("option", { value: m.name, text: m.cached ? t("memory.cached") : m.about })));
}

// Tabs -------------------------------------------------------------------------------------------------------------

function openTab(name) {
  for (const button of document.querySelectorAll("#tabs button")) {
    button.setAttribute("aria-selected", String(button.dataset.tab === name));
  }
  for (const section of document.querySelectorAll(".tab")) section.hidden = section.id !== `tab-${name}`;
  location.hash = name;
}

// Data -------------------------------------------------------------------------------------------------------------

function dataSource() {
  return { path: $("data-path").value.trim(), columns: $("data-columns").value.trim() || null,
           strict: $("data-strict").checked, clean_export: $("data-clean").checked };
}

async function uploadFile(file) {
  showError("data", null);
  try {
    const response = await fetch(`/api/data/upload?name=${encodeURIComponent(file.name)}`, { method: "POST", body: file });
    const data = await response.json();
    if (!response.ok) throw studioError(data, response.status);
    $("data-path").value = data.path;
    addCommand("data", data.command);
  } catch (error) { showError("data", error); }
}

async function generateData() {
  showError("data", null);
  try {
    const data = await call("/api/data/generate", { n: Number($("gen-n").value), seed: Number($("gen-seed").value),
                                                    plant_phi: Number($("gen-plant").value) });
    $("data-path").value = data.path;
    addCommand("data", data.command);
  } catch (error) { showError("data", error); }
}

async function checkData() {
  showError("data", null);
  for (const name of ["validation", "scan", "stats", "preview"]) { state.results[name] = null; $(`data-${name}`).replaceChildren(); }
  const source = dataSource();
  try {
    const validation = await call("/api/data/validate", source);
    addCommand("data", validation.command);
    show("validation", validation);
    const scan = await call("/api/data/scan", source);
    addCommand("data", scan.command);
    show("scan", scan);
    const stats = await call("/api/data/stats", source);
    addCommand("data", stats.command);
    show("stats", stats);
    if (!validation.notes_only && validation.ok) {
      const preview = await call("/api/data/preview", { ...source, tokenizer: $("mem-model").value.trim() || "smollm2-135m-instruct" });
      addCommand("data", preview.command);
      show("preview", preview);
    }
  } catch (error) { showError("data", error); }
}

function show(name, result) { state.results[name] = result; renderers[name](result); }

function table(headers, rows) {
  return el("table", {}, el("thead", {}, el("tr", {}, ...headers.map((h) => el("th", { text: h })))),
            el("tbody", {}, ...rows.map((row) => el("tr", {}, ...row.map((cell) => el("td", { text: String(cell) }))))));
}

const renderers = {
  validation(v) {
    const verdict = v.ok ? t("data.usable", { rows: v.rows.toLocaleString() }) : t("data.not_usable", { rows: v.rows.toLocaleString() });
    $("data-validation").replaceChildren(el("h3", { text: t("data.validation") }),
      el("p", { class: v.ok ? "ok" : "bad", text: verdict }),
      el("ul", {}, ...v.warnings.map((w) => el("li", { class: "warning", text: w })),
                   ...v.lines.map((line) => el("li", { class: "problem", text: line }))));
  },
  scan(s) {
    const n = s.summary.findings;
    const classes = Object.entries(s.summary.by_class).map(([c, k]) => `${t(`phi.${c}`)} ${k}`).join(", ");
    const parts = [el("h3", { text: t("data.scan") }),
      el("p", { class: n ? "bad" : "ok", text: n ? t("data.scan_found", { n, rows: s.summary.rows_with_findings, classes })
                                                   : t("data.scan_clean") })];
    if (n) {
      parts.push(table([t("col.row"), t("col.column"), t("col.class"), t("col.context")],
                       s.findings.map((f) => [f.row, f.column, t(`phi.${f.class}`), f.context])));
      parts.push(el("p", { class: "help", text: t("data.phi_refusal") }),
                 el("label", {}, el("span", { text: t("data.phi_reason") }), " ",
                    el("input", { id: "phi-reason", size: "50", value: state.phiReason || "",
                                  oninput: (e) => { state.phiReason = e.target.value; } })));
    }
    $("data-scan").replaceChildren(...parts);
  },
  stats(s) {
    const summary = s.summary;
    const parts = [el("h3", { text: t("data.stats") }),
      el("p", { text: t("data.stats_line", { rows: summary.rows.toLocaleString(), patients: summary.patients.toLocaleString() }) })];
    if (Object.keys(summary.tasks || {}).length) {
      parts.push(table([t("col.task"), t("col.rows"), t("col.share")],
        Object.entries(summary.tasks).map(([task, info]) => [task, info.rows, `${(100 * info.share).toFixed(1)}%`])));
    }
    const rows = [];
    for (const [unit, columns] of Object.entries(summary.lengths)) {
      for (const [column, d] of Object.entries(columns)) {
        if (d) rows.push([t(`unit.${unit}`), column, d.min, Math.round(d.median), Math.round(d.p90), d.max]);
      }
    }
    parts.push(table([t("col.unit"), t("col.column"), "min", t("col.median"), "p90", "max"], rows));
    if (s.plot) parts.push(el("img", { src: `${s.plot}?v=${Date.now()}`, alt: t("data.histogram"), class: "chart" }));
    $("data-stats").replaceChildren(...parts);
  },
  preview(p) {
    const parts = [el("h3", { text: t("data.preview") }), el("p", { class: "help", text: t("data.preview_help") })];
    for (const example of p.examples) {
      const tokens = el("div", { class: "tokens" }, ...example.pieces.map(([text, trained, eos]) =>
        el("span", { class: eos ? "eos" : trained ? "trained" : "masked", text: eos ? "⟨EOS⟩" : text })));
      parts.push(el("h4", { text: t("data.preview_row", { row: example.row, task: example.task }) }), tokens,
        el("p", { text: t("data.preview_tokens", { prompt: example.prompt_tokens, answer: example.answer_tokens,
                                                    total: example.total_tokens, max: example.max_length }) }));
    }
    $("data-preview").replaceChildren(...parts);
  },
  memory(m) {
    const gib = (bytes) => (bytes / 2 ** 30).toFixed(2);
    const verdict = m.capacity === null ? t("memory.no_target")
      : m.fits ? t("memory.fits", { target: m.target }) : t("memory.too_big", { target: m.target });
    const parts = [el("h3", { text: t("memory.result") }), el("p", { text: m.headline }),
      el("p", { class: m.capacity === null ? "" : m.fits ? "ok" : "bad", id: "memory-verdict", text: verdict }),
      table([t("col.component"), t("col.bytes"), "GiB"],
            m.components.map((c) => [t(`component.${c.key}`), c.bytes.toLocaleString(), gib(c.bytes)]))];
    if (m.suggestions.length) {
      parts.push(el("h4", { text: t("memory.suggestions") }));
      parts.push(el("ul", { id: "memory-suggestions" }, ...m.suggestions.map((s) => el("li", {},
        `${s.change}: ${gib(s.total)} GiB, ${s.fits ? t("memory.fits_short") : t("memory.too_big_short")} `,
        el("button", { class: "apply", onclick: () => applySuggestion(s.overrides), text: t("memory.apply") }),
        el("code", { text: ` ${s.overrides}` })))));
    }
    if (m.chart) parts.push(el("img", { src: `${m.chart}?v=${Date.now()}`, alt: t("memory.chart"), class: "chart" }));
    $("memory-result").replaceChildren(...parts);
  },
};

// Memory -----------------------------------------------------------------------------------------------------------

function memoryRequest() {
  return { model: $("mem-model").value.trim(), method: $("mem-method").value, seq_len: Number($("mem-seq").value),
           batch_size: Number($("mem-batch").value), checkpointing: $("mem-ckpt").checked,
           gpu: $("mem-gpu").value || null, gpu_memory: $("mem-gpu-memory").value.trim() || null };
}

async function planMemory() {
  showError("memory", null);
  try {
    const result = await call("/api/memory/plan", memoryRequest());
    addCommand("memory", result.command);
    show("memory", result);
  } catch (error) { showError("memory", error); }
}

// A suggestion's overrides ("train.batch_size=1 train.grad_accum=8") go into the memory form where it has the field,
// and into the training form: its field when it has one, else among the extra overrides its command carries.
const MEMORY_FIELDS = { "train.batch_size": "mem-batch", "train.max_length": "mem-seq", "train.method": "mem-method",
                        "train.gradient_checkpointing": "mem-ckpt" };

function applySuggestion(overrides) {
  for (const pair of overrides.split(" ")) {
    const [key, value] = pair.split("=");
    const field = MEMORY_FIELDS[key] && $(MEMORY_FIELDS[key]);
    if (field) { if (field.type === "checkbox") field.checked = value === "true"; else field.value = value; }
    setTrainValue(key, value);
  }
  planMemory();
  refreshTrainConfig();
}

// Start ------------------------------------------------------------------------------------------------------------

async function start() {
  for (const button of document.querySelectorAll("#tabs button")) button.addEventListener("click", () => openTab(button.dataset.tab));
  $("lang").addEventListener("change", (e) => setLanguage(e.target.value));
  $("data-file").addEventListener("change", (e) => e.target.files[0] && uploadFile(e.target.files[0]));
  $("gen-run").addEventListener("click", (e) => busy(e.target, generateData));
  $("data-check").addEventListener("click", (e) => busy(e.target, checkData));
  $("mem-plan").addEventListener("click", (e) => busy(e.target, planMemory));
  $("data-use").addEventListener("click", useDataForTraining);
  startTrainTab();
  startEvalTab();
  startChatTab();
  state.options = await call("/api/options");
  buildTrainFields();
  await loadRecipeList();
  await loadRecipe();
  await setLanguage(state.lang);
  await refreshRuns();
  setInterval(pollRuns, 2000);
  openTab((location.hash || "#data").slice(1));
  document.body.dataset.ready = "true";
}

start();

// Train ------------------------------------------------------------------------------------------------------------

// The recipe fields the form shows, by their config key; any other field can still come in as an override.
const TRAIN_FIELDS = [
  ["name", "text"], ["model.name", "text"], ["train.method", "method"], ["data.path", "text"], ["data.columns", "text"],
  ["data.synthetic_rows", "number"], ["data.sample", "number"], ["data.test_size", "number"],
  ["train.epochs", "number"], ["train.max_steps", "number"], ["train.batch_size", "number"],
  ["train.grad_accum", "number"], ["train.lr", "text"], ["train.max_length", "number"],
  ["train.save_steps", "number"], ["lora.r", "number"], ["lora.alpha", "number"], ["lora.top_layers", "number"],
];

function buildTrainFields() {
  const grid = $("train-fields");
  grid.replaceChildren(...TRAIN_FIELDS.map(([key, kind]) => {
    const input = kind === "method"
      ? el("select", {}, ...state.options.methods.map((m) => el("option", { value: m, text: m })))
      : el("input", { type: kind, step: "any" });
    input.id = `field-${key}`;
    input.addEventListener("input", () => { state.extraOverrides = { ...state.extraOverrides }; refreshTrainConfig(); });
    return el("label", {}, el("span", { "data-key": key, text: t(`field.${key}`) }), input);
  }));
}

function setTrainValue(key, value) {
  const field = $(`field-${key}`);
  if (field) field.value = value;
  else state.extraOverrides[key] = value;
}

function trainOverrides() {
  const overrides = [];
  for (const [key] of TRAIN_FIELDS) {
    const field = $(`field-${key}`), base = state.base[key];
    const value = field.value.trim(), before = base === null || base === undefined ? "" : String(base);
    field.parentElement.classList.toggle("changed", value !== before);
    if (value !== before) overrides.push(`${key}=${value === "" ? "null" : value}`);
  }
  for (const [key, value] of Object.entries(state.extraOverrides)) overrides.push(`${key}=${value}`);
  return overrides;
}

function trainRequest() { return { recipe: $("train-recipe").value, overrides: trainOverrides() }; }

async function loadRecipeList() {
  const found = await call("/api/train/recipes");
  const chosen = $("train-recipe").value;
  $("train-recipe").replaceChildren(...Object.keys(found.shipped).map((n) => el("option", { value: n, text: n })),
                                    ...found.saved.map((p) => el("option", { value: p, text: p })));
  $("train-recipe").value = chosen || "demo";
}

async function loadRecipe() {
  showError("train", null);
  try {
    const result = await call("/api/train/config", { recipe: $("train-recipe").value, overrides: [] });
    state.base = result.values;
    state.extraOverrides = {};
    for (const [key] of TRAIN_FIELDS) {
      const value = result.values[key];
      $(`field-${key}`).value = value === null || value === undefined ? "" : String(value);
    }
    showTrainConfig(result);
  } catch (error) { showError("train", error); }
}

let configTimer = null;
function refreshTrainConfig() {
  clearTimeout(configTimer);
  configTimer = setTimeout(async () => {
    try { showTrainConfig(await call("/api/train/config", trainRequest())); showError("train", null); }
    catch (error) { showError("train", error); }
  }, 250);
}

function showTrainConfig(result) {
  $("train-yaml").textContent = result.yaml;
  const reason = $("train-allow-phi").value.trim();
  $("train-command").textContent = result.command + (reason ? ` --allow-phi ${JSON.stringify(reason)}` : "");
}

function useDataForTraining() {
  setTrainValue("data.path", $("data-path").value.trim());
  setTrainValue("data.columns", $("data-columns").value.trim());
  if (state.phiReason) $("train-allow-phi").value = state.phiReason;
  refreshTrainConfig();
  openTab("train");
}

async function saveRecipe() {
  showError("train", null);
  try {
    const result = await call("/api/train/save", { ...trainRequest(), name: $("train-save-name").value.trim() });
    addCommand("train", result.command);
    await loadRecipeList();
    $("train-recipe").value = result.path;
    await loadRecipe();
  } catch (error) { showError("train", error); }
}

async function startTraining() {
  showError("train", null);
  try {
    const result = await call("/api/train/start", { ...trainRequest(), allow_phi: $("train-allow-phi").value.trim() || null });
    addCommand("train", result.command);
    state.selectedRun = result.run;
    await refreshRuns();
  } catch (error) { showError("train", error); }
}

async function refreshRuns() {
  try { state.runs = (await call("/api/runs")).runs; } catch (error) { showError("train", error); return; }
  renderRuns();
  fillRunSelects();
  if (state.selectedRun) await showRun(state.selectedRun);
}

function pollRuns() {
  if (state.runs.some((r) => r.training || r.evaluating || r.status === "starting")) refreshRuns();
}

const fmtSeconds = (s) => (s === null || s === undefined ? "–" : s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`);

function runState(run) {
  if (run.training) return "training";
  if (run.evaluating) return "evaluating";
  return run.status;
}

function renderRuns() {
  if (!$("runs-list")) return;
  const rows = state.runs.map((run) => [run.name, t(`status.${runState(run)}`),
    run.step ? `${run.step} / ${run.max_steps ?? "?"}` : "–",
    run.tokens_per_second ? Math.round(run.tokens_per_second).toLocaleString() : "–", fmtSeconds(run.eta_seconds)]);
  const tableNode = table([t("runs.name"), t("runs.status"), t("runs.steps"), t("runs.speed"), t("runs.eta"), ""], rows);
  tableNode.querySelectorAll("tbody tr").forEach((tr, i) => {
    const run = state.runs[i];
    tr.dataset.run = run.name;
    tr.children[1].className = `status-${runState(run)}`;
    const actions = tr.lastChild;
    actions.append(el("button", { class: "show", text: t("runs.show"), onclick: () => { state.selectedRun = run.name; showRun(run.name); } }));
    if (run.training || run.evaluating) actions.append(el("button", { class: "stop", text: t("runs.stop"), onclick: () => stopRun(run.name) }));
    else if (["interrupted", "failed", "running"].includes(run.status)) {
      actions.append(el("button", { class: "resume", text: t("runs.resume"), onclick: () => resumeRun(run.name) }));
    }
  });
  $("runs-list").replaceChildren(state.runs.length ? tableNode : el("p", { class: "help", text: t("runs.none") }));
}

function fillRunSelects() {
  for (const id of ["eval-run", "chat-run"]) {
    const select = $(id), chosen = select.value;
    const finished = state.runs.filter((r) => r.status === "finished");
    select.replaceChildren(...finished.map((r) => el("option", { value: r.name, text: r.name })));
    if (finished.some((r) => r.name === chosen)) select.value = chosen;
  }
}

async function showRun(name) {
  let run;
  try { run = await call(`/api/runs/${encodeURIComponent(name)}`); } catch (error) { showError("train", error); return; }
  const line = run.step
    ? t("runs.progress", { step: run.step, max: run.max_steps ?? "?", speed: Math.round(run.tokens_per_second || 0).toLocaleString(), eta: fmtSeconds(run.eta_seconds) })
    : t("runs.waiting");
  const parts = [el("h3", { text: `${name}: ${t(`status.${runState(run)}`)}` }), el("p", { id: "run-progress", text: line })];
  if (run.error) parts.push(el("p", { class: "bad", text: run.error }));
  if (run.losses.length) parts.push(lossChart(run.losses));
  if (run.log.length) parts.push(el("pre", { class: "log", text: run.log.join("\n") }));
  $("run-detail").replaceChildren(...parts);
}

function lossChart(points) {
  const width = 640, height = 220, pad = 36;
  const steps = points.map((p) => p[0]), losses = points.map((p) => p[1]);
  const [x0, x1] = [Math.min(...steps), Math.max(...steps, Math.min(...steps) + 1)];
  const [y0, y1] = [Math.min(...losses), Math.max(...losses, Math.min(...losses) + 1e-6)];
  const x = (v) => pad + ((v - x0) / (x1 - x0)) * (width - 2 * pad);
  const y = (v) => height - pad - ((v - y0) / (y1 - y0)) * (height - 2 * pad);
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", "loss");
  svg.setAttribute("id", "loss-chart");
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  svg.dataset.points = String(points.length);
  const line = document.createElementNS(svg.namespaceURI, "polyline");
  line.setAttribute("points", points.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(" "));
  svg.append(line);
  for (const [text, tx, ty] of [[t("runs.loss"), 4, 14], [y1.toFixed(2), 4, pad], [y0.toFixed(2), 4, height - pad],
                                [`${t("runs.step")} ${x0}`, pad, height - 8], [String(x1), width - pad, height - 8]]) {
    const label = document.createElementNS(svg.namespaceURI, "text");
    label.setAttribute("x", tx);
    label.setAttribute("y", ty);
    label.textContent = text;
    svg.append(label);
  }
  return svg;
}

async function stopRun(name) {
  try { addCommand("train", (await call(`/api/runs/${encodeURIComponent(name)}/stop`, {})).command); }
  catch (error) { showError("train", error); }
  await refreshRuns();
}

async function resumeRun(name) {
  try {
    const result = await call(`/api/runs/${encodeURIComponent(name)}/resume`, {});
    addCommand("train", result.command);
    state.selectedRun = name;
  } catch (error) { showError("train", error); }
  await refreshRuns();
}

function startTrainTab() {
  $("train-load").addEventListener("click", (e) => busy(e.target, loadRecipe));
  $("train-save").addEventListener("click", (e) => busy(e.target, saveRecipe));
  $("train-start").addEventListener("click", (e) => busy(e.target, startTraining));
  $("train-allow-phi").addEventListener("input", refreshTrainConfig);
  $("runs-refresh").addEventListener("click", (e) => busy(e.target, refreshRuns));
}

// Evaluate ---------------------------------------------------------------------------------------------------------

function evalRequest() {
  const limit = $("eval-limit").value.trim();
  return { data: $("eval-data").value.trim() || null, max_new_tokens: Number($("eval-tokens").value),
           limit: limit ? Number(limit) : null, judge: $("eval-judge").value.trim() || null,
           judge_model: $("eval-judge-model").value.trim() || null,
           judge_key_env: $("eval-judge-key-env").value.trim() || null };
}

async function startEvaluation() {
  showError("eval", null);
  const name = $("eval-run").value;
  if (!name) { showError("eval", t("eval.no_run")); return; }
  try {
    const result = await call(`/api/runs/${encodeURIComponent(name)}/eval`, evalRequest());
    addCommand("eval", result.command);
    show("evalStatus", { running: name });
    await refreshRuns();
    waitForEvaluation(name);
  } catch (error) { showError("eval", error); }
}

async function waitForEvaluation(name) {
  const run = await call(`/api/runs/${encodeURIComponent(name)}`);
  if (run.evaluating) { setTimeout(() => waitForEvaluation(name), 2000); return; }
  if (!run.evaluated) {
    showError("eval", run.eval_log.slice(-1)[0] || t("eval.failed"));
    show("evalStatus", {});
    return;
  }
  show("evalStatus", { done: name });
  await showMetrics();
}

async function showMetrics() {
  showError("eval", null);
  try {
    const metrics = await call(`/api/runs/${encodeURIComponent($("eval-run").value)}/metrics`);
    addCommand("eval", metrics.command);
    show("eval", metrics);
  }
  catch (error) { showError("eval", error); }
}

const pct = (v) => (v === null || v === undefined ? "–" : `${(100 * v).toFixed(1)}%`);
const score = (v) => (v === null || v === undefined ? "–" : v.toFixed(3));

renderers.eval = function (m) {
  const overall = ["overall", m.base.overall, m.tuned.overall];
  const tasks = Object.keys(m.tuned.per_task).map((task) => [task, m.base.per_task[task], m.tuned.per_task[task]]);
  const interval = (m) => (m.ci95 && m.ci95.rouge_l ? ` [${score(m.ci95.rouge_l[0])}, ${score(m.ci95.rouge_l[1])}]` : "");
  const rows = [overall, ...tasks].map(([task, base, tuned]) => {
    return [task === "overall" ? t("eval.overall") : task, tuned.n, score(base.rouge_l) + interval(base),
            score(tuned.rouge_l) + interval(tuned),
            `${((tuned.rouge_l - base.rouge_l) * 100).toFixed(1)}`, pct(base.ungrounded_share), pct(tuned.ungrounded_share)];
  });
  const parts = [el("h3", { text: t("eval.result", { model: m.model }) }),
    table([t("col.task"), "n", t("eval.base_rouge"), t("eval.tuned_rouge"), t("eval.gain"), t("eval.base_ungrounded"),
           t("eval.tuned_ungrounded")], rows)];
  if (m.tuned.overall.n_unanswerable) {
    parts.push(el("p", { text: t("eval.unanswerable", { rate: pct(m.tuned.overall.unanswerable_accuracy),
                                                        n: m.tuned.overall.n_unanswerable,
                                                        alarms: pct(m.tuned.overall.unanswerable_false_alarm) }) }));
  }
  $("eval-result").replaceChildren(...parts);
};

renderers.evalStatus = function (status) {
  const node = status.report ? el("a", { id: "report-link", href: status.report, target: "_blank", text: t("eval.open_report") })
    : status.running ? el("p", { class: "status-evaluating", text: t("eval.running", { run: status.running }) })
    : status.done ? el("p", { class: "ok", text: t("eval.done", { run: status.done }) }) : null;
  $("eval-status").replaceChildren(...(node ? [node] : []));
};

async function writeReport() {
  showError("eval", null);
  try {
    const result = await call(`/api/runs/${encodeURIComponent($("eval-run").value)}/report`, {});
    addCommand("eval", result.command);
    show("evalStatus", { report: result.report });
  } catch (error) { showError("eval", error); }
}

function startEvalTab() {
  $("eval-start").addEventListener("click", (e) => busy(e.target, startEvaluation));
  $("eval-show").addEventListener("click", (e) => busy(e.target, showMetrics));
  $("eval-report").addEventListener("click", (e) => busy(e.target, writeReport));
}

// Chat -------------------------------------------------------------------------------------------------------------

async function ask() {
  showError("chat", null);
  for (const side of ["base", "tuned"]) { $(`chat-${side}`).textContent = ""; delete $(`chat-${side}`).dataset.done; }
  const body = { run: $("chat-run").value, note: $("chat-note").value, question: $("chat-question").value,
                 max_tokens: Number($("chat-tokens").value) };
  if (!body.run) { showError("chat", t("chat.no_run")); return; }
  const response = await fetch("/api/chat", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (!response.ok) {
    let error;
    try { error = studioError(await response.json(), response.status); } catch { error = t("error.unreadable", { status: response.status }); }
    showError("chat", error);
    return;
  }
  const reader = response.body.getReader(), decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    const lines = buffer.split("\n");
    buffer = lines.pop();
    for (const line of lines.filter(Boolean)) {
      const event = JSON.parse(line);
      if (event.prompt !== undefined) { $("chat-prompt").textContent = event.prompt; addCommand("chat", event.command); }
      else if (event.text) $(`chat-${event.side}`).textContent += event.text;
      else if (event.error) $(`chat-${event.side}`).textContent = `${t("error.prefix")} ${event.error}`;
      else if (event.done) $(`chat-${event.side}`).dataset.done = "true";
    }
  }
}

function startChatTab() {
  $("chat-ask").addEventListener("click", (e) => busy(e.target, ask));
}
