// The operator console page: draws what the server streams on /ws and sends what the person does.
"use strict";

const $ = (id) => document.getElementById(id);
const view = {
  imageSize: 96,          // the policy frame's pixels: perception boxes are in these units
  frame: null,            // the latest camera image (an Image)
  objects: [],            // perceived objects [{index, box, color, shape, size}]
  target: null,           // the policy's TARGET box, normalised 0..1
  question: null,         // {text, yes_no, candidates: [{number, index, name, box}]}
  idle: false,
};
// Figures the benchmark and the tests read: lag of each state shown (ms), frames drawn, outcomes.
window.consoleStats = { stateLags: [], frames: 0, frameTimes: [], states: 0, outcomes: [], lastState: null };

let ws = null;
function connect() {
  ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
  ws.onopen = () => setPill("link", "connected", "ok");
  ws.onclose = () => { setPill("link", "disconnected", "bad"); setTimeout(connect, 1000); };
  ws.onmessage = (ev) => handle(JSON.parse(ev.data));
}
function send(message) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
}
function setPill(id, text, kind) { const el = $(id); el.textContent = text; el.className = "pill " + (kind || ""); }

// ---------------------------------------------------------------- messages from the server
function handle(m) {
  switch (m.type) {
    case "state": return showState(m);
    case "frame": return showFrame(m);
    case "event": return showEvent(m);
    case "asking": return showAsking(m);
    case "busy": view.idle = false; clearQuestion(); setPill("turn", "working", "wait"); return;
    case "session": return showSession(m);
    case "sessions": return listSessions(m.sessions);
    case "note": return chat("note", "", m.text);
    case "heard": return chat("note", "", `heard: "${m.text}"`);
  }
}

let shownState = null, nextState = null;
function showState(m) {  // applied at the next animation frame: the panel updates at most once a frame
  if (!nextState) requestAnimationFrame(applyState);
  nextState = m;
}
function applyState() {
  const m = nextState;
  nextState = null;
  if (!m) return;
  $("arm-status").textContent = m.status;
  $("arm-step").textContent = m.step;
  $("arm-ee").textContent = m.ee.map((v) => v.toFixed(3)).join(", ");
  $("arm-yaw").textContent = m.rpy[2].toFixed(2);
  $("arm-opening").textContent = m.opening.toFixed(2);
  $("arm-grip").textContent = m.grip >= 0.5 ? "closed" : "open";
  const stats = window.consoleStats;
  stats.states += 1;
  stats.lastState = m;
  if (m.status === "moving" || m.status === "held") stats.stateLags.push(Date.now() - m.t * 1000);
  shownState = m;
}

function showFrame(m) {
  const img = new Image();
  img.onload = () => {
    view.frame = img;
    window.consoleStats.frames += 1;
    window.consoleStats.frameTimes.push(Date.now());
    draw();
  };
  img.src = "data:image/jpeg;base64," + m.jpeg;
}

function showEvent(m) {
  const d = m.data || {};
  switch (m.kind) {
    case "utterance": return chat("you", "you", m.text);
    case "answer": return chat("you", "you", m.text);
    case "interjection": if (!d.after_motion) chat("you", "you (while moving)", m.text); return;
    case "say": return chat("robot", "robot", m.text);
    case "question": return chat("robot question", "robot asks", m.text);
    case "perception": view.objects = d.objects || []; view.target = null; return draw();
    case "decision": return showDecision(d);
    case "reasoning": return showReasoning(d.reasoning, m.text);
    case "outcome": return showOutcome(m.text, d);
    default: return chat("note", m.kind, m.text);
  }
}

function showDecision(d) {
  $("dec-kind").textContent = d.kind;
  $("dec-reason").textContent = d.reason;
  $("dec-confidence").textContent = (d.confidence ?? 0).toFixed(2);
  $("dec-set").textContent = d.set_size;
  $("dec-consistency").textContent = d.consistency == null ? "-" : d.consistency.toFixed(2);
}

function showReasoning(r, raw) {
  if (!r) { $("cot-task").textContent = raw || "-"; return; }
  $("cot-task").textContent = r.task || "-";
  $("cot-plan").textContent = (r.plan || []).join(" → ") || "-";
  $("cot-target").textContent = r.target ? r.target.name : "-";
  $("cot-move").textContent = r.move || "-";
  view.target = r.target ? r.target.box : null;
  draw();
}

function showOutcome(text, d) {
  const ok = !!d.success;
  chat(ok ? "ok" : "fail", ok ? "done" : "ended", text);
  const el = $("outcome");
  el.textContent = `${d.status || (ok ? "success" : "failed")}: ${text}`;
  el.className = ok ? "ok" : "fail";
  window.consoleStats.outcomes.push({ success: ok, status: d.status, text });
}

function showAsking(m) {
  view.idle = true;
  view.question = m.question;
  setPill("turn", m.question ? "question for you" : "your turn", "ok");
  const panel = $("question"), box = $("candidates");
  box.replaceChildren();
  if (m.question) {
    $("question-text").textContent = m.question.text;
    for (const c of m.question.candidates) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "candidate-btn";
      b.dataset.number = c.number;
      b.textContent = m.question.yes_no ? `yes: ${c.name}` : `${c.number}. ${c.name}`;
      b.onclick = () => choose(c.number);
      box.appendChild(b);
    }
    if (m.question.yes_no) {
      const no = document.createElement("button");
      no.type = "button";
      no.textContent = "no";
      no.onclick = () => send({ type: "say", text: "no" });
      box.appendChild(no);
    }
  }
  panel.hidden = !m.question;
  draw();
}

function clearQuestion() { view.question = null; $("question").hidden = true; draw(); }

function showSession(m) {
  view.imageSize = m.image_size;
  view.objects = []; view.target = null; view.question = null;
  $("session-id").textContent = `${m.id} (${m.policy})`;
  $("chat").replaceChildren();
  chat("note", "", `${m.resumed ? "resumed" : "new"} session ${m.id}: ${m.objects.join(", ")}`);
  for (const e of m.history) showEvent({ kind: e.kind, text: e.text, data: { after_motion: true } });
  $("talk").hidden = !m.voice;
  listSessions(m.sessions);
}

function listSessions(rows) {
  const list = $("session-list");
  list.replaceChildren();
  for (const s of rows) {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = "resume";
    b.dataset.session = s.id;
    b.onclick = () => send({ type: "open_session", session_id: s.id });
    li.appendChild(b);
    li.appendChild(document.createTextNode(`${s.id} · ${s.updated} · ${s.policy} · ${s.utterances} said · ${s.objects}`));
    list.appendChild(li);
  }
}

function chat(cls, who, text) {
  const el = document.createElement("div");
  el.className = "msg " + cls;
  if (who) { const w = document.createElement("span"); w.className = "who"; w.textContent = who; el.appendChild(w); }
  el.appendChild(document.createTextNode(text));
  const log = $("chat");
  log.appendChild(el);
  log.scrollTop = log.scrollHeight;
}

// ---------------------------------------------------------------- the picture
function pixelBox(box, scale) {  // [x0, y0, x1, y1] in `scale` units -> canvas pixels
  const c = $("camera"), sx = c.width / scale, sy = c.height / scale;
  return [box[0] * sx, box[1] * sy, (box[2] - box[0]) * sx, (box[3] - box[1]) * sy];
}

function draw() {
  const c = $("camera"), g = c.getContext("2d");
  g.fillStyle = "#000"; g.fillRect(0, 0, c.width, c.height);
  if (view.frame) { g.imageSmoothingEnabled = true; g.drawImage(view.frame, 0, 0, c.width, c.height); }
  g.font = "12px system-ui"; g.lineWidth = 1;
  for (const o of view.objects) {
    const [x, y, w, h] = pixelBox(o.box, view.imageSize);
    g.strokeStyle = "rgba(255,255,255,0.8)"; g.strokeRect(x, y, w, h);
    const label = `${o.color} ${o.shape}`;  // no number: the numbers on the picture are a question's
    g.fillStyle = "rgba(0,0,0,0.6)"; g.fillRect(x, y + h, g.measureText(label).width + 6, 15);
    g.fillStyle = "#fff"; g.fillText(label, x + 3, y + h + 12);
  }
  if (view.target) {
    const [x, y, w, h] = pixelBox(view.target, 1);
    g.setLineDash([6, 4]); g.lineWidth = 2; g.strokeStyle = "#00e5ff"; g.strokeRect(x, y, w, h); g.setLineDash([]);
    g.fillStyle = "#00e5ff"; g.fillText("TARGET", x, Math.max(12, y - 4));
  }
  if (view.question) {
    g.lineWidth = 3; g.font = "bold 20px system-ui";
    for (const cand of view.question.candidates) {
      const [x, y, w, h] = pixelBox(cand.box, view.imageSize);
      g.strokeStyle = "#ffb300"; g.strokeRect(x - 2, y - 2, w + 4, h + 4);
      g.fillStyle = "#ffb300"; g.fillRect(x - 2, y - 26, 24, 24);
      g.fillStyle = "#000"; g.fillText(String(cand.number), x + 4, y - 7);
    }
  }
}

function candidateAt(px, py) {  // the question candidate whose box holds canvas point (px, py)
  if (!view.question) return null;
  for (const cand of view.question.candidates) {
    const [x, y, w, h] = pixelBox(cand.box, view.imageSize);
    if (px >= x - 4 && px <= x + w + 4 && py >= y - 28 && py <= y + h + 4) return cand;
  }
  return null;
}

function choose(number) { send({ type: "choose", number }); }

// ---------------------------------------------------------------- the person's side
function stop() { send({ type: "stop", t_page: Date.now() }); }

function wireControls() {
  $("stop").onclick = stop;
  document.addEventListener("keydown", (ev) => {
    const typing = document.activeElement === $("text");
    if ((ev.code === "Space" && !typing) || ev.code === "Escape") { ev.preventDefault(); if (!ev.repeat) stop(); }
  });
  document.addEventListener("keyup", (ev) => {  // Space on a focused button stops; it does not also click it
    if (ev.code === "Space" && document.activeElement !== $("text")) ev.preventDefault();
  });
  $("say-form").onsubmit = (ev) => {
    ev.preventDefault();
    const text = $("text").value.trim();
    if (text) send({ type: "say", text });
    $("text").value = "";
  };
  $("camera").onclick = (ev) => {
    const c = $("camera"), r = c.getBoundingClientRect();
    const cand = candidateAt((ev.clientX - r.left) * c.width / r.width, (ev.clientY - r.top) * c.height / r.height);
    if (cand) choose(cand.number);
  };
  $("sessions-toggle").onclick = () => { $("sessions").hidden = !$("sessions").hidden; send({ type: "list_sessions" }); };
  $("new-session").onclick = () => send({ type: "open_session", session_id: null });
  wireTalk();
}

// Push-to-talk: microphone samples while the button is held, sent as a 16 kHz 16-bit WAV.
function wireTalk() {
  const button = $("talk");
  let rec = null;
  const start = async () => {
    if (rec) return;
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const ctx = new AudioContext();
      const source = ctx.createMediaStreamSource(stream);
      const node = ctx.createScriptProcessor(4096, 1, 1);
      const chunks = [];
      node.onaudioprocess = (e) => chunks.push(new Float32Array(e.inputBuffer.getChannelData(0)));
      source.connect(node); node.connect(ctx.destination);
      rec = { stream, ctx, node, chunks };
      button.classList.add("recording");
    } catch (err) { chat("note", "", `microphone unavailable: ${err}`); }
  };
  const end = () => {
    if (!rec) return;
    const { stream, ctx, node, chunks } = rec;
    rec = null;
    button.classList.remove("recording");
    node.disconnect(); stream.getTracks().forEach((t) => t.stop());
    const wav = encodeWav(chunks, ctx.sampleRate, 16000);
    ctx.close();
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(wav);
  };
  button.addEventListener("pointerdown", start);
  button.addEventListener("pointerup", end);
  button.addEventListener("pointerleave", end);
}

function encodeWav(chunks, fromRate, toRate) {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const all = new Float32Array(total);
  let at = 0;
  for (const c of chunks) { all.set(c, at); at += c.length; }
  const ratio = fromRate / toRate, n = Math.floor(total / ratio);
  const buf = new ArrayBuffer(44 + n * 2), v = new DataView(buf);
  const str = (o, s) => { for (let i = 0; i < s.length; i++) v.setUint8(o + i, s.charCodeAt(i)); };
  str(0, "RIFF"); v.setUint32(4, 36 + n * 2, true); str(8, "WAVE"); str(12, "fmt ");
  v.setUint32(16, 16, true); v.setUint16(20, 1, true); v.setUint16(22, 1, true);
  v.setUint32(24, toRate, true); v.setUint32(28, toRate * 2, true); v.setUint16(32, 2, true); v.setUint16(34, 16, true);
  str(36, "data"); v.setUint32(40, n * 2, true);
  for (let i = 0; i < n; i++) {  // average each output sample's input span (a simple low-pass)
    const lo = Math.floor(i * ratio), hi = Math.max(lo + 1, Math.floor((i + 1) * ratio));
    let s = 0;
    for (let j = lo; j < hi; j++) s += all[j];
    const x = Math.max(-1, Math.min(1, s / (hi - lo)));
    v.setInt16(44 + i * 2, x < 0 ? x * 0x8000 : x * 0x7fff, true);
  }
  return buf;
}

wireControls();
connect();
draw();
