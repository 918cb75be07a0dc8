// MangaAssist chat page: the WebSocket protocol of docs/PROTOCOL.md, no build step, no dependencies.
import { ConversationView } from "./conversation.js";

const KEYS = {
  customer: "mangaassist.customer_id", session: "mangaassist.session_id", token: "mangaassist.token",
};
const SUBPROTOCOL = "manga-assist";
const HANDOFF_REASON = "The customer asked for a human from the chat page";
const MAX_BACKOFF_MS = 15000;
const MAX_AUTO_RETRIES = 4;
// API Gateway closes a connection that sends a frame over 32 KB; the server takes at most 24 KB
// of text (UTF-8), so that its frame, escapes and ids included, stays under that.
const MAX_FRAME_BYTES = 32 * 1024;
const MAX_MESSAGE_BYTES = 24 * 1024;
const utf8 = new TextEncoder();

const $ = (id) => document.getElementById(id);
const els = {
  form: $("composer"), input: $("message-input"), handoff: $("handoff"), newChat: $("new-chat"),
  status: $("status"), statusText: $("status-text"),
};
const view = new ConversationView({ log: $("conversation"), empty: $("empty"), scroller: $("main") });

const state = {
  socket: null,
  ready: false, // this connection has shown its history: messages may go out
  attempts: 0,
  timer: null,
  lastAction: null,
  status: "active", // the session's: "handoff" while a human agent has it
  pending: new Map(), // message_id -> {text, item, socket, retries, blocked}: not answered yet
  holdUntil: 0, // too fast: nothing goes out before this time (ms)
  holdTimer: null,
  streams: new Map(), // response_id -> {item, parts, chunks}
  replies: new Map(), // response_id -> contents of a long reply's message frames, by part
  historyParts: [], // a long history's frames, by part, until all have come
};

function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function customerId() {
  let id = localStorage.getItem(KEYS.customer);
  if (!id) { id = `web-${newId()}`; localStorage.setItem(KEYS.customer, id); }
  return id;
}

// A token handed to the page in its address fragment (#token=..., which never reaches a server) is
// kept and taken out of the address; a guest's resume_token is kept the same way. Either travels as
// the second subprotocol, never in the URL.
function adoptTokenFromAddress() {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get("token");
  if (!token) return;
  localStorage.setItem(KEYS.token, token);
  localStorage.removeItem(KEYS.session);
  history.replaceState(null, "", location.pathname + location.search);
}

function subprotocols() {
  const token = localStorage.getItem(KEYS.token);
  return token ? [SUBPROTOCOL, token] : [SUBPROTOCOL];
}

function socketUrl() {
  const url = new URL("/ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  // Read only where the server trusts the query string (AUTH_MODE=none, local development).
  url.searchParams.set("customer_id", customerId());
  const session = localStorage.getItem(KEYS.session);
  if (session) url.searchParams.set("session_id", session);
  return url.toString();
}

// --- connection -------------------------------------------------------------------------------

function isOpen() {
  return Boolean(state.socket) && state.socket.readyState === WebSocket.OPEN;
}

function setStatus(kind, text) {
  els.status.dataset.state = kind;
  els.statusText.textContent = text;
  els.handoff.disabled = kind !== "open" || state.status === "handoff";
}

function connect() {
  clearTimeout(state.timer);
  state.ready = false;
  setStatus("connecting", state.attempts ? "Reconnecting…" : "Connecting…");
  const socket = new WebSocket(socketUrl(), subprotocols());
  const withToken = Boolean(localStorage.getItem(KEYS.token));
  let opened = false;
  state.socket = socket;
  socket.addEventListener("open", () => {
    opened = true;
    state.attempts = 0;
    setStatus("open", "Connected");
    send({ action: "session" });
  });
  socket.addEventListener("message", (event) => {
    if (state.socket === socket) handleFrame(event.data);
  });
  socket.addEventListener("close", () => {
    if (state.socket !== socket) return;
    state.socket = null;
    state.ready = false;
    if (!opened && withToken) {
      // Refused at the handshake with a token: it expired, or the server restarted with another
      // secret. Come back without it (as a guest, where the server allows guests).
      localStorage.removeItem(KEYS.token);
      localStorage.removeItem(KEYS.session);
      view.notice("Your sign-in could not be used, so we connected you without it.");
    }
    scheduleReconnect();
  });
}

function scheduleReconnect() {
  const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** state.attempts) * (0.6 + Math.random() * 0.4);
  state.attempts += 1;
  setStatus("closed", `Disconnected. Retrying in ${Math.ceil(delay / 1000)} s…`);
  state.timer = setTimeout(connect, delay);
}

function send(frame) {
  if (!isOpen()) return false;
  state.lastAction = frame.action;
  state.socket.send(JSON.stringify(frame));
  return true;
}

// Unanswered messages go out once this connection shows its history, always with their first
// message_id: the server answers an id once, and sends the stored reply to a repeat. The assistant
// answers one message at a time per session, so the next one waits here until the reply to the one
// in flight has arrived (an agent takes them as they come).
function flushPending() {
  if (!state.ready || Date.now() < state.holdUntil) return;
  const oneAtATime = state.status !== "handoff";
  for (const [id, entry] of state.pending) {
    if (entry.blocked) continue;
    if (entry.socket === state.socket) {
      if (oneAtATime) return; // its reply comes first
      continue;
    }
    if (!send({ action: "sendMessage", message: entry.text, message_id: id })) continue;
    entry.socket = state.socket;
    if (state.status === "handoff") view.setMeta(entry.item, "Sent to the agent");
    else view.setMeta(entry.item, "Sending…");
    if (oneAtATime) return;
  }
}

function resend(entry) {
  view.setMeta(entry.item, "Sending…");
  entry.socket = null;
  entry.blocked = false;
  flushPending();
}

function waitLabel(seconds) {
  if (seconds < 120) return `${seconds} s`;
  const minutes = Math.ceil(seconds / 60);
  const hours = Math.floor(minutes / 60);
  return hours ? `${hours} h ${minutes % 60} min` : `${minutes} min`;
}

// Over a limit (429 rate_limited): the message was not stored. Too fast: it goes out again by itself
// when the server's retry_after has passed. Today's limit: it waits for the reader to retry.
function limited(frame) {
  const seconds = Math.max(1, Math.ceil(Number(frame.retry_after) || 1));
  const refused = [...state.pending.values()].filter((e) => e.socket === state.socket);
  for (const entry of refused) entry.socket = null;
  if (frame.limit !== "message_rate") {
    const whose = frame.limit === "daily_tokens" ? "MangaAssist has" : "You've";
    view.limit(`${whose} reached today's limit.`, `It resets at 00:00 UTC, in ${waitLabel(seconds)}.`);
    for (const entry of state.pending.values()) {
      entry.blocked = true;
      view.offerRetry(entry.item, entry.text, () => resend(entry));
    }
    return;
  }
  state.holdUntil = Date.now() + seconds * 1000;
  view.limit("You're sending messages too fast.", `Your message goes out by itself in ${waitLabel(seconds)}.`);
  for (const entry of refused) view.setMeta(entry.item, `Waiting ${waitLabel(seconds)}…`);
  clearTimeout(state.holdTimer);
  state.holdTimer = setTimeout(flushPending, seconds * 1000 + 50);
}

// --- frames -----------------------------------------------------------------------------------

const HANDLERS = {
  session(frame) {
    const previous = localStorage.getItem(KEYS.session);
    localStorage.setItem(KEYS.session, frame.session_id);
    if (frame.resume_token) localStorage.setItem(KEYS.token, frame.resume_token);
    setSessionStatus(frame.status);
    if (previous && previous !== frame.session_id && !frame.resumed) {
      clearConversation();
      view.notice("Your previous conversation could not be resumed, so we started a new one.");
    }
    send({ action: "history" });
  },

  history(frame) {
    const turns = wholeHistory(frame);
    if (!turns) return; // more parts to come
    clearConversation({ keepPending: true });
    const items = turns.map((turn) =>
      turn.role === "system" ? view.notice(turn.content) : view.turn(turn.role, turn.content, { time: turn.created_at }));
    for (const [id, entry] of state.pending) {
      const found = turns.findLastIndex((t) => t.role === "user" && t.content === entry.text);
      if (found >= 0 && turns.slice(found + 1).some((t) => t.role === "assistant")) {
        state.pending.delete(id); // answered while we were away: the history shows the reply
        continue;
      }
      // Stored but unanswered: it is in the history already. Never stored: show it again.
      entry.item = found >= 0 ? items[found] : view.turn("user", entry.text);
      view.setMeta(entry.item, "Sending…");
    }
    state.ready = true;
    flushPending();
  },

  chunk(frame) {
    let stream = state.streams.get(frame.response_id);
    if (!stream) {
      const item = view.turn("assistant", "", { state: "streaming" });
      item.dataset.responseId = frame.response_id;
      item.setAttribute("aria-busy", "true"); // announced once, when final
      stream = { item, parts: [], chunks: 0 };
      state.streams.set(frame.response_id, stream);
    }
    stream.parts[frame.index] = frame.delta; // placed by index, whatever the arrival order
    stream.chunks += 1;
    view.setText(stream.item, stream.parts.join(""));
  },

  message(frame) {
    const content = wholeReply(frame);
    if (content === null) return;
    const stream = state.streams.get(frame.response_id);
    state.streams.delete(frame.response_id);
    const item = stream ? stream.item : view.turn("assistant", "", { agent: Boolean(frame.agent_id) });
    item.dataset.responseId = frame.response_id;
    item.dataset.state = "final";
    item.dataset.chunks = String(stream ? stream.chunks : 0);
    item.removeAttribute("aria-busy");
    view.setText(item, content);
    const asked = state.pending.get(frame.reply_to);
    if (asked) { view.setMeta(asked.item); state.pending.delete(frame.reply_to); }
    flushPending(); // the next message's turn
  },

  error(frame) {
    const afterMessage = state.lastAction === "sendMessage" && state.pending.size > 0;
    if (frame.code === "rate_limited" && afterMessage) { limited(frame); return; }
    if (frame.code === "conflict" && afterMessage && retryLater()) return;
    view.error(frame.code, frame.message);
    if (afterMessage) {
      for (const entry of state.pending.values()) view.offerRetry(entry.item, entry.text, () => resend(entry));
    } else if (state.lastAction === "handoff") {
      setSessionStatus(state.status); // it failed: the button may be pressed again
    }
  },

  // During a handoff each message is acknowledged: stored, and with an agent or waiting for one.
  forwarded(frame) {
    const asked = state.pending.get(frame.reply_to);
    if (asked) { view.setMeta(asked.item, "Sent to the agent"); state.pending.delete(frame.reply_to); }
  },

  handoff(frame) {
    const before = state.status;
    setSessionStatus(frame.status);
    const told = HANDOFF_NOTICES[frame.transition];
    if (told) view.notice(told(frame));
    else if (frame.status === "handoff" && before !== "handoff") {
      view.notice("You're being connected to a human agent. They will answer here.");
    } else if (frame.status === "active" && before === "handoff") {
      view.notice("The agent handed the conversation back to MangaAssist.");
    }
  },
};

const HANDOFF_NOTICES = {
  waiting: () => "You're in the queue for a human agent. They will answer here.",
  claimed: (f) => `${f.agent_id} joined the conversation.`,
  transferred: (f) => (f.agent_id ? `${f.agent_id} takes over the conversation.` : "You're back in the queue for the next free agent."),
  released: () => "The agent handed the conversation back to MangaAssist.",
  unclaimed: (f) => f.message || "No agent is free yet. You are still in the queue.",
};

function handleFrame(data) {
  let frame;
  try { frame = JSON.parse(data); } catch { return; }
  const handler = HANDLERS[frame.type];
  if (handler) handler(frame);
}

// A reply over 32 KB comes as several message frames with part/parts.
function wholeReply(frame) {
  if (!frame.parts) return frame.content;
  const pieces = state.replies.get(frame.response_id) || [];
  pieces[frame.part] = frame.content;
  state.replies.set(frame.response_id, pieces);
  if (pieces.filter((piece) => piece !== undefined).length < frame.parts) return null;
  state.replies.delete(frame.response_id);
  return pieces.join("");
}

// A history over 32 KB comes as several frames with part/parts; a turn too long for one frame is
// cut into entries marked "continued", each followed by the rest of its content.
function wholeHistory(frame) {
  let entries = frame.turns || [];
  if (frame.parts) {
    state.historyParts[frame.part] = entries;
    if (state.historyParts.filter((part) => part !== undefined).length < frame.parts) return null;
    entries = state.historyParts.slice(0, frame.parts).flat();
    state.historyParts = [];
  }
  const turns = [];
  let carried = "";
  for (const entry of entries) {
    if (entry.continued) { carried += entry.content; continue; }
    turns.push({ ...entry, content: carried + entry.content });
    carried = "";
  }
  return turns;
}

// "Being answered": an earlier reply of this session is still being written (we reconnected while
// it was, or another tab asked). Ask again a little later; a repeat then gets the stored reply.
function retryLater() {
  const entries = [...state.pending.values()].filter((e) => (e.retries || 0) < MAX_AUTO_RETRIES);
  if (!entries.length) return false;
  for (const entry of entries) {
    entry.retries = (entry.retries || 0) + 1;
    view.setMeta(entry.item, "Still being answered…");
    const stillPending = () => [...state.pending.values()].includes(entry);
    setTimeout(() => { if (stillPending()) resend(entry); }, 1000 * 2 ** entry.retries);
  }
  return true;
}

function setSessionStatus(status) {
  state.status = status || "active";
  const withAgent = state.status === "handoff";
  els.handoff.textContent = withAgent ? "With an agent" : "Talk to a human";
  els.handoff.disabled = withAgent || !isOpen();
}

function clearConversation({ keepPending = false } = {}) {
  view.clear();
  state.streams.clear();
  state.replies.clear();
  state.historyParts = [];
  if (!keepPending) state.pending.clear();
}

// --- user actions -----------------------------------------------------------------------------

function submit(text) {
  const message = text.trim();
  if (!message) return;
  if (!fitsOneFrame(message)) {
    const size = Math.ceil(utf8.encode(message).length / 1024);
    view.notice(`This message is too long to send (${size} KB); please keep it under ${MAX_MESSAGE_BYTES / 1024} KB.`, "error");
    return; // the text stays in the box, to be shortened
  }
  const item = view.turn("user", message, { meta: "Sending…" });
  state.pending.set(newId(), { text: message, item, socket: null, retries: 0 });
  flushPending();
  els.input.value = "";
  autosize();
}

// Measured before sending, as API Gateway measures it: a frame over 32 KB would close the connection.
// The message itself is measured as the server does: its UTF-8 inside a JSON string, escapes included.
function fitsOneFrame(message) {
  const frame = JSON.stringify({ action: "sendMessage", message, message_id: newId() });
  const inFrame = utf8.encode(JSON.stringify(message)).length - 2;
  return inFrame <= MAX_MESSAGE_BYTES && utf8.encode(frame).length <= MAX_FRAME_BYTES;
}

function autosize() {
  els.input.style.height = "auto";
  els.input.style.height = `${els.input.scrollHeight + 2}px`;
}

els.form.addEventListener("submit", (event) => {
  event.preventDefault();
  submit(els.input.value);
  els.input.focus();
});
els.input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    els.form.requestSubmit();
  }
});
els.input.addEventListener("input", autosize);
document.querySelectorAll(".suggestion").forEach((button) =>
  button.addEventListener("click", () => { submit(button.textContent); els.input.focus(); }));
els.handoff.addEventListener("click", () => {
  if (send({ action: "handoff", reason: HANDOFF_REASON })) els.handoff.disabled = true;
});
els.newChat.addEventListener("click", () => {
  localStorage.removeItem(KEYS.session);
  clearConversation();
  state.attempts = 0;
  const old = state.socket;
  state.socket = null;
  if (old) old.close(1000, "new chat");
  connect();
  els.input.focus();
});
window.addEventListener("online", () => { if (!state.socket) { state.attempts = 0; connect(); } });

adoptTokenFromAddress();
connect();
