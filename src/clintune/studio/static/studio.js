// clintune studio: plain JavaScript over the studio's JSON API. Every label comes from the locale files
// (/api/locales/en, /api/locales/ko); results are kept and re-drawn when the language changes.
"use strict";

const state = { lang: localStorage.getItem("clintune.lang") || "en", strings: {}, options: null,
                results: {}, commands: { data: [], memory: [] } };

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
  if (!response.ok) throw new Error(data.error || t("error.unreadable", { status: response.status }));
  return data;
}

function showError(tab, error) {
  const box = $(`${tab}-error`);
  box.hidden = !error;
  box.textContent = error ? `${t("error.prefix")} ${error.message || error}` : "";
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
    if (!response.ok) throw new Error(data.error);
    $("data-path").value = data.path;
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

// A suggestion's overrides ("train.batch_size=1 train.grad_accum=8") set the matching fields of the forms.
const FIELDS = { "train.batch_size": "mem-batch", "train.max_length": "mem-seq", "train.method": "mem-method",
                 "train.gradient_checkpointing": "mem-ckpt" };

function applySuggestion(overrides) {
  for (const pair of overrides.split(" ")) {
    const [key, value] = pair.split("=");
    state.pendingOverrides = { ...(state.pendingOverrides || {}), [key]: value };
    const field = FIELDS[key] && $(FIELDS[key]);
    if (!field) continue;
    if (field.type === "checkbox") field.checked = value === "true"; else field.value = value;
  }
  planMemory();
}

// Start ------------------------------------------------------------------------------------------------------------

async function start() {
  for (const button of document.querySelectorAll("#tabs button")) button.addEventListener("click", () => openTab(button.dataset.tab));
  $("lang").addEventListener("change", (e) => setLanguage(e.target.value));
  $("data-file").addEventListener("change", (e) => e.target.files[0] && uploadFile(e.target.files[0]));
  $("gen-run").addEventListener("click", (e) => busy(e.target, generateData));
  $("data-check").addEventListener("click", (e) => busy(e.target, checkData));
  $("mem-plan").addEventListener("click", (e) => busy(e.target, planMemory));
  state.options = await call("/api/options");
  await setLanguage(state.lang);
  openTab((location.hash || "#data").slice(1));
  document.body.dataset.ready = "true";
}

start();
