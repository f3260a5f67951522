// fourd console: a thin client of the REST API (see admin/admin.go).
// It polls GET /rest/$activity and GET /rest/$info once a second and acts
// through the admin resources; it keeps no state of its own but the last
// minutes of samples for the Monitor charts.
"use strict";

const POLL_MS = 1000;
const SAMPLES = 180; // three minutes at one sample a second

const $ = (sel) => document.querySelector(sel);
const state = {
  page: "monitor",
  activity: null,
  info: null,
  isAdmin: true,
  sort: { key: "ID", dir: 1 },
  match: "",
  samples: [], // {t, sessions, processes, maxID}
  skew: 0,     // server time minus local time, from the Date header
  timer: null,
  tick: 0,     // polls since $info last answered 401
};

// api calls a REST resource with the session cookie and returns the
// decoded JSON; a 4D error envelope becomes an Error carrying its status.
async function api(method, path, body, headers) {
  const init = { method, credentials: "same-origin", headers: headers || {} };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const res = await fetch(path, init);
  const date = res.headers.get("Date");
  if (date) state.skew = Date.parse(date) - Date.now();
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (!res.ok) {
    const e = data && data.__ERROR && data.__ERROR[0];
    const err = new Error(e ? e.message + " (errCode " + e.errCode + ")" : res.status + " " + res.statusText);
    err.status = res.status;
    throw err;
  }
  return data;
}

function el(tag, attrs, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith("on")) n.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) n.setAttribute(k, v);
  }
  for (const c of children) n.append(c instanceof Node ? c : String(c));
  return n;
}

// confirmAction asks in a modal dialog (keyboard usable: Escape cancels)
// and resolves true only on Confirm.
function confirmAction(text) {
  const d = $("#confirm");
  $("#confirm-text").textContent = text;
  return new Promise((resolve) => {
    d.addEventListener("close", () => resolve(d.returnValue === "ok"), { once: true });
    d.returnValue = "";
    d.showModal();
    $("#confirm-cancel").focus();
  });
}

async function act(question, method, path, body) {
  if (!(await confirmAction(question))) return;
  try {
    await api(method, path, body);
    $("#status").textContent = "";
    poll();
  } catch (err) {
    $("#status").textContent = err.message;
  }
}

// ---- login ----

$("#login").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("#login-error").textContent = "";
  try {
    await api("POST", "/rest/$directory/login", undefined, {
      "username-4D": $("#username").value,
      "password-4D": $("#password").value,
    });
    $("#password").value = "";
    start();
  } catch (err) {
    $("#login-error").textContent = "Login failed: " + err.message;
  }
});

$("#logout").addEventListener("click", async () => {
  try { await api("POST", "/rest/$directory/logout"); } catch (e) { /* the session may already be gone */ }
  stop();
});

function start() {
  $("#login").hidden = true;
  $("#app").hidden = false;
  $("#logout").hidden = false;
  state.samples = [];
  show(state.page);
  poll();
  state.timer = setInterval(poll, POLL_MS);
}

function stop() {
  clearInterval(state.timer);
  state.timer = null;
  $("#app").hidden = true;
  $("#logout").hidden = true;
  $("#login").hidden = false;
  $("#whoami").textContent = "";
  $("#username").focus();
}

// ---- navigation ----

function show(page) {
  state.page = page;
  for (const b of document.querySelectorAll("nav button")) {
    if (b.dataset.page === page) b.setAttribute("aria-current", "page");
    else b.removeAttribute("aria-current");
  }
  for (const s of document.querySelectorAll("section[id^=page-]")) s.hidden = s.id !== "page-" + page;
  render();
}
for (const b of document.querySelectorAll("nav button")) b.addEventListener("click", () => show(b.dataset.page));

// ---- polling ----

let polling = false;
async function poll() {
  if (polling) return; // one snapshot at a time
  polling = true;
  try {
    const q = state.match ? "?$match=" + encodeURIComponent(state.match) : "";
    const [act, info] = await Promise.allSettled([
      api("GET", "/rest/$activity" + q),
      state.isAdmin || ++state.tick % 30 === 0 ? api("GET", "/rest/$info") : Promise.reject({ status: 401 }),
    ]);
    if (act.status === "rejected") {
      if (act.reason.status === 401 && !state.activity) return stop();
      $("#status").textContent = act.reason.message;
    } else {
      state.activity = act.value;
      $("#status").textContent = "";
    }
    if (info.status === "fulfilled") {
      state.info = info.value;
      state.isAdmin = true;
    } else if (info.reason.status === 401) {
      state.info = null;
      state.isAdmin = false;
    }
    $("#notadmin").hidden = state.isAdmin;
    sample();
    render();
  } finally {
    polling = false;
  }
}

function sample() {
  const a = state.activity;
  if (!a) return;
  let maxID = 0;
  for (const p of a.processes) maxID = Math.max(maxID, p.ID);
  state.samples.push({ t: Date.now(), sessions: a.sessions.length, processes: a.processes.length, maxID });
  if (state.samples.length > SAMPLES) state.samples.shift();
}

// ---- rendering ----

function render() {
  const a = state.activity;
  if (!a) return;
  const mine = a.processes.find((p) => p.url === "/rest/$activity" || (p.url || "").startsWith("/rest/$activity?"));
  if (mine && mine.session) $("#whoami").textContent = "Logged in as " + (mine.session.userName || "guest");
  const missing = a.unansweredNodes || [];
  $("#unanswered").hidden = missing.length === 0;
  $("#unanswered").textContent = missing.length ? "Not answering in time, their processes are missing: " + missing.join(", ") : "";
  switch (state.page) {
    case "monitor": return renderMonitor();
    case "processes": return renderProcesses();
    case "sessions": return renderSessions();
    case "sets": return renderSets();
    case "progress": return renderProgress();
  }
}

function chart(svg, values) {
  svg.replaceChildren();
  if (values.length < 2) return;
  const max = Math.max(1, ...values);
  const step = 240 / (SAMPLES - 1);
  const x0 = 240 - (values.length - 1) * step;
  const pts = values.map((v, i) => (x0 + i * step).toFixed(1) + "," + (58 - (v / max) * 54).toFixed(1));
  const ns = "http://www.w3.org/2000/svg";
  const line = document.createElementNS(ns, "polyline");
  line.setAttribute("points", pts.join(" "));
  const label = document.createElementNS(ns, "text");
  label.setAttribute("x", "2"); label.setAttribute("y", "10"); label.setAttribute("font-size", "9");
  label.textContent = "max " + (Math.round(max * 10) / 10);
  svg.append(line, label);
}

function renderMonitor() {
  const info = state.info;
  if (info) {
    $("#cache-meter").value = info.cacheSize ? info.usedCache / info.cacheSize : 0;
    $("#cache-text").textContent = bytes(info.usedCache) + " of " + bytes(info.cacheSize) + " used";
  } else {
    $("#cache-text").textContent = "not shown: $info needs an administrator";
  }
  const s = state.samples;
  // The request rate: every REST request runs as a new process and
  // process IDs are never reused, so the growth of the highest ID per
  // second counts the processes started (the console's own two polls
  // included).
  const rate = [];
  for (let i = 1; i < s.length; i++) {
    const dt = (s[i].t - s[i - 1].t) / 1000;
    rate.push(dt > 0 ? Math.max(0, s[i].maxID - s[i - 1].maxID) / dt : 0);
  }
  chart($("#chart-sessions"), s.map((x) => x.sessions));
  chart($("#chart-processes"), s.map((x) => x.processes));
  chart($("#chart-rate"), rate);
  const last = s[s.length - 1];
  $("#sessions-now").textContent = last ? "(" + last.sessions + ")" : "";
  $("#processes-now").textContent = last ? "(" + last.processes + ")" : "";
  $("#rate-now").textContent = rate.length ? "(" + rate[rate.length - 1].toFixed(1) + ")" : "";
}

const STATES = { 0: "executing", 1: "delayed", 2: "waiting for user event", 3: "waiting for I/O", 4: "waiting for internal flag", 5: "paused" };

function procValue(p, key, now) {
  switch (key) {
    case "user": return p.session ? p.session.userName || "" : "";
    case "age": return now - Date.parse(p.creationDateTime);
    case "node": return p.node || "";
    default: return p[key];
  }
}

function renderProcesses() {
  const now = Date.now() + state.skew;
  const { key, dir } = state.sort;
  const rows = state.activity.processes.slice().sort((a, b) => {
    const x = procValue(a, key, now), y = procValue(b, key, now);
    return (x < y ? -1 : x > y ? 1 : 0) * dir || a.ID - b.ID;
  });
  for (const b of document.querySelectorAll("th button[data-sort]")) {
    if (b.dataset.sort === key) b.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
    else b.removeAttribute("aria-sort");
  }
  keepFocus($("#processes tbody"), rows.map((p) => {
    const actions = el("td", { class: "actions" });
    if (p.session) {
      actions.append(el("button", { type: "button", id: "session-" + p.ID, onclick: () => {
        const pre = $("#process-session");
        pre.textContent = "Session of process " + p.ID + " (" + p.name + "):\n" + JSON.stringify(p.session, null, 2);
        pre.hidden = false;
        pre.focus();
      } }, "Session"));
    }
    if (p.visible) {
      const ref = { ID: p.ID };
      actions.append(
        el("button", { type: "button", id: "abort-" + p.ID, onclick: () => act("Abort process " + p.ID + " (" + p.name + ")?", "POST", "/rest/$process/abort", ref) }, "Abort"),
        p.state === 5
          ? el("button", { type: "button", id: "resume-" + p.ID, onclick: () => act("Resume process " + p.ID + "?", "POST", "/rest/$process/resume", ref) }, "Resume")
          : el("button", { type: "button", id: "pause-" + p.ID, onclick: () => act("Pause process " + p.ID + "?", "POST", "/rest/$process/pause", ref) }, "Pause"));
    }
    return el("tr", { "data-id": p.ID },
      el("td", {}, p.ID), el("td", {}, p.node || ""), el("td", { title: p.url || "" }, p.name + (p.phase ? " [" + p.phase + (p.rowsDone !== undefined ? " " + p.rowsDone + " rows" : "") + "]" : "")), el("td", {}, p.type),
      el("td", {}, STATES[p.state] || p.state), el("td", {}, procValue(p, "user", now)),
      el("td", {}, (p.cpuUsage * 100).toFixed(1) + " %"), el("td", {}, (p.cpuTime || 0).toFixed(3) + " s"),
      el("td", {}, duration(procValue(p, "age", now))), actions);
  }));
}

for (const b of document.querySelectorAll("th button[data-sort]")) {
  b.addEventListener("click", () => {
    const k = b.dataset.sort;
    state.sort = { key: k, dir: state.sort.key === k ? -state.sort.dir : 1 };
    renderProcesses();
  });
}

$("#filter-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  state.match = $("#filter").value.trim();
  poll();
});

function keepFocus(body, rows) {
  const focused = document.activeElement && document.activeElement.id;
  body.replaceChildren(...rows);
  if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
}

function renderSessions() {
  keepFocus($("#sessions tbody"), state.activity.sessions.map((s) => el("tr", { "data-id": s.ID },
    el("td", {}, s.ID), el("td", {}, s.node || ""), el("td", {}, s.type), el("td", {}, s.userName || ""), el("td", {}, s.IPAddress || ""),
    el("td", {}, s.lastActivity || ""),
    el("td", { class: "actions" }, s.type === "storedProcedure" ? "" :
      el("button", { type: "button", id: "drop-" + s.ID, onclick: () => act("Drop session " + s.ID + " (" + (s.userName || "guest") + ")? Its processes are aborted and its entity sets released.", "POST", "/rest/$session/drop", { sessionID: s.ID }) }, "Drop")))));
}

function renderSets() {
  const now = Date.now() + state.skew;
  const sets = (state.info && state.info.entitySet) || [];
  keepFocus($("#sets tbody"), sets.map((s) => el("tr", { "data-id": s.id },
    el("td", {}, s.id), el("td", {}, s.dataClass), el("td", {}, s.selectionSize),
    el("td", {}, s.bytes === undefined ? "–" : bytes(s.bytes)),
    el("td", {}, duration(Date.parse(s.expires) - now)),
    el("td", { class: "actions" }, el("button", { type: "button", id: "release-" + s.id, onclick: () => act("Release entity set " + s.id + "?", "POST", "/rest/$entityset/$release", [s.id]) }, "Release")))));
}

function renderProgress() {
  const list = (state.info && state.info.ProgressInfo) || [];
  keepFocus($("#progress"), list.map((p, i) => el("li", { "data-info": p.UserInfo },
    el("strong", {}, p.Title || p.UserInfo),
    el("progress", { max: p.total || 100, value: p.total ? p.done : p.percent, "aria-label": p.Title || p.UserInfo }),
    p.total ? p.done + " / " + p.total : p.percent + " %",
    p.CanInterrupt && p.processID
      ? el("button", { type: "button", id: "progress-abort-" + i, onclick: () => act("Abort " + (p.Title || p.UserInfo) + "?", "POST", "/rest/$process/abort", { ID: p.processID }) }, "Abort")
      : "")));
}

function bytes(n) {
  if (n === undefined || n === null) return "–";
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + " " + u[i];
}

function duration(ms) {
  if (!(ms >= 0)) return "0 s";
  let s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  return (h ? h + " h " : "") + (h || m ? m + " min " : "") + s + " s";
}

$("#username").focus();
