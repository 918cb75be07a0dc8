// MangaAssist agent console: the agents' frames of docs/PROTOCOL.md, no build step, no dependencies.
// Who the agent is comes from the server side: a token (sent as the WebSocket subprotocol), or, on a
// local `serve --auth none`, the gateway's word for `?agent_id=` from this machine.

const KEYS = { agent: "mangaassist.agent_id", token: "mangaassist.agent_token" };
const MAX_BACKOFF_MS = 15000;

const $ = (id) => document.getElementById(id);
const els = {
  name: $("agent-name"), status: $("status"), statusText: $("status-text"), refresh: $("refresh"),
  queue: $("queue"), queueEmpty: $("queue-empty"), title: $("conversation-title"),
  reason: $("conversation-reason"), log: $("conversation"), form: $("reply-form"),
  input: $("reply-input"), reply: $("reply"), transferTo: $("transfer-to"), transfer: $("transfer"),
  requeue: $("requeue"), release: $("release"),
};

const state = {
  socket: null, attempts: 0, timer: null, refreshTimer: null,
  queue: [], // the last `queue` frame's entries, patched by `queue_changed`
  open: null, // {session_id, customer_id, reason, turns[]} of the conversation on screen
  held: new Map(), // session_id -> conversation, for every session this console holds
};

function agentId() {
  const asked = new URLSearchParams(location.search).get("agent");
  if (asked) localStorage.setItem(KEYS.agent, asked);
  return localStorage.getItem(KEYS.agent) || "agent-local";
}

function token() {
  const fragment = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fragment) { localStorage.setItem(KEYS.token, fragment); history.replaceState(null, "", location.pathname + location.search); }
  return localStorage.getItem(KEYS.token);
}

function newId() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

// --- connection -------------------------------------------------------------------------------

function connect() {
  clearTimeout(state.timer);
  setStatus("connecting", state.attempts ? "Reconnecting…" : "Connecting…");
  const url = new URL("/ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("agent_id", agentId());
  const credential = token();
  const socket = credential ? new WebSocket(url, ["manga-assist", credential]) : new WebSocket(url);
  state.socket = socket;
  socket.addEventListener("open", () => {
    state.attempts = 0;
    setStatus("open", "Connected");
    send({ action: "agent.queue" });
    for (const sessionId of state.held.keys()) send({ action: "agent.claim", session_id: sessionId });
  });
  socket.addEventListener("message", (event) => { if (state.socket === socket) handle(event.data); });
  socket.addEventListener("close", () => {
    if (state.socket !== socket) return;
    state.socket = null;
    const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** state.attempts);
    state.attempts += 1;
    setStatus("closed", `Disconnected. Retrying in ${Math.ceil(delay / 1000)} s…`);
    state.timer = setTimeout(connect, delay);
  });
}

function send(frame) {
  if (!state.socket || state.socket.readyState !== WebSocket.OPEN) return false;
  state.socket.send(JSON.stringify(frame));
  return true;
}

function setStatus(kind, text) {
  els.status.dataset.state = kind;
  els.statusText.textContent = text;
}

// --- frames -----------------------------------------------------------------------------------

const HANDLERS = {
  queue(frame) {
    state.queue = frame.handoffs || [];
    renderQueue();
  },

  // The queue's index may lag a moment: show the moved entry now, read the queue again shortly.
  queue_changed(frame) {
    const entry = state.queue.find((e) => e.session_id === frame.session_id);
    if (entry && frame.status === "closed") state.queue = state.queue.filter((e) => e !== entry);
    else if (entry) Object.assign(entry, { status: frame.status, agent_id: frame.agent_id });
    renderQueue();
    clearTimeout(state.refreshTimer);
    state.refreshTimer = setTimeout(() => send({ action: "agent.queue" }), 400);
  },

  claimed(frame) {
    const conversation = {
      session_id: frame.session_id, customer_id: frame.customer_id, reason: frame.reason,
      summary: frame.summary, turns: frame.turns || [],
    };
    state.held.set(frame.session_id, conversation);
    const entry = state.queue.find((e) => e.session_id === frame.session_id);
    if (entry) Object.assign(entry, { status: "claimed", agent_id: agentId() });
    else state.queue.push({ session_id: frame.session_id, customer_id: frame.customer_id, reason: frame.reason, status: "claimed", agent_id: agentId() });
    open(conversation);
    if (frame.transferred_from) notice(`${frame.transferred_from} passed this conversation to you.`);
    if (frame.truncated) notice("Older turns are not shown: the summary covers them.");
    renderQueue();
  },

  customer_message(frame) {
    const conversation = state.held.get(frame.session_id);
    if (!conversation) return;
    conversation.turns.push({ role: "user", content: frame.content, created_at: frame.created_at, message_id: frame.message_id });
    conversation.turns.sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0));
    if (state.open === conversation) renderConversation();
  },

  replied(frame) {
    const conversation = state.held.get(frame.session_id);
    const pending = conversation && conversation.turns.find((t) => t.reply_id === frame.reply_id);
    if (pending) { pending.state = "sent"; if (state.open === conversation) renderConversation(); }
  },

  transferred(frame) { letGo(frame.session_id, frame.to_agent_id ? `Passed to ${frame.to_agent_id}.` : "Back in the queue."); },
  released(frame) { letGo(frame.session_id, "Handed back to MangaAssist."); },

  error(frame) { notice(`${frame.code}: ${frame.message}`, "error"); },
};

function handle(data) {
  let frame;
  try { frame = JSON.parse(data); } catch { return; }
  const handler = HANDLERS[frame.type];
  if (handler) handler(frame);
}

function letGo(sessionId, text) {
  const conversation = state.held.get(sessionId);
  state.held.delete(sessionId);
  if (state.open === conversation) { notice(text); setEnabled(false); state.open = null; }
  send({ action: "agent.queue" });
}

// --- rendering --------------------------------------------------------------------------------

function renderQueue() {
  const me = agentId();
  els.queue.replaceChildren(...state.queue.map((entry) => {
    const item = document.createElement("li");
    item.className = "entry";
    item.dataset.sessionId = entry.session_id;
    item.dataset.status = entry.status;
    item.dataset.mine = String(entry.agent_id === me);
    const who = document.createElement("p");
    who.className = "entry-who";
    who.textContent = entry.customer_id || "anonymous visitor";
    const reason = document.createElement("p");
    reason.className = "entry-reason";
    reason.textContent = entry.reason || "";
    const status = document.createElement("p");
    status.className = "entry-state";
    status.textContent = entry.status === "waiting" ? `waiting ${waited(entry)}` : entry.agent_id === me ? "yours" : `with ${entry.agent_id}`;
    item.append(who, reason, status);
    if (entry.status === "waiting" || entry.agent_id === me) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = `button ${entry.status === "waiting" ? "button-primary claim" : "button-quiet open"}`;
      button.textContent = entry.status === "waiting" ? "Claim" : "Open";
      button.addEventListener("click", () => {
        const held = state.held.get(entry.session_id);
        if (held) open(held); else send({ action: "agent.claim", session_id: entry.session_id });
      });
      item.append(button);
    }
    return item;
  }));
  els.queueEmpty.hidden = state.queue.length > 0;
}

function waited(entry) {
  const seconds = entry.waiting_seconds ?? 0;
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min`;
}

function open(conversation) {
  state.open = conversation;
  els.title.textContent = `Conversation with ${conversation.customer_id || "an anonymous visitor"}`;
  els.reason.textContent = conversation.reason ? `Asked for a human: ${conversation.reason}` : "";
  setEnabled(true);
  renderConversation();
}

function renderConversation() {
  const conversation = state.open;
  const items = [];
  if (conversation.summary) items.push(noticeItem(`Summary so far: ${conversation.summary}`));
  for (const turn of conversation.turns) {
    if (turn.role === "system") { items.push(noticeItem(turn.content)); continue; }
    const kind = turn.role === "user" ? "customer" : turn.agent_id ? "agent" : "bot";
    const item = document.createElement("li");
    item.className = `turn turn-${kind}`;
    item.dataset.role = kind;
    const who = document.createElement("p");
    who.className = "turn-who";
    who.textContent = kind === "customer" ? "Customer" : kind === "bot" ? "MangaAssist" : turn.agent_id === agentId() ? "You" : turn.agent_id;
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    bubble.textContent = turn.content;
    const meta = document.createElement("p");
    meta.className = "turn-meta";
    meta.textContent = turn.state === "sending" ? "Sending…" : "";
    item.append(who, bubble, meta);
    items.push(item);
  }
  els.log.replaceChildren(...items);
  els.log.scrollTop = els.log.scrollHeight;
}

function noticeItem(text, kind = "info") {
  const item = document.createElement("li");
  item.className = kind === "error" ? "notice notice-error" : "notice";
  item.textContent = text;
  if (kind === "error") item.setAttribute("role", "alert");
  return item;
}

function notice(text, kind) {
  els.log.append(noticeItem(text, kind));
  els.log.scrollTop = els.log.scrollHeight;
}

function setEnabled(enabled) {
  for (const el of [els.input, els.reply, els.transferTo, els.transfer, els.requeue, els.release]) el.disabled = !enabled;
}

// --- the agent's moves ------------------------------------------------------------------------

els.form.addEventListener("submit", (event) => {
  event.preventDefault();
  const conversation = state.open;
  const text = els.input.value.trim();
  if (!conversation || !text) return;
  const replyId = newId();
  // One reply id per reply: if this frame is delivered or sent twice, the customer sees it once.
  if (!send({ action: "agent.reply", session_id: conversation.session_id, message: text, reply_id: replyId })) return;
  conversation.turns.push({ role: "assistant", agent_id: agentId(), content: text, created_at: new Date().toISOString(), reply_id: replyId, state: "sending" });
  els.input.value = "";
  renderConversation();
});
els.input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); els.form.requestSubmit(); }
});
els.transfer.addEventListener("click", () => {
  const to = els.transferTo.value.trim();
  if (state.open && to) send({ action: "agent.transfer", session_id: state.open.session_id, to_agent_id: to });
});
els.requeue.addEventListener("click", () => {
  if (state.open) send({ action: "agent.transfer", session_id: state.open.session_id });
});
els.release.addEventListener("click", () => {
  if (state.open) send({ action: "agent.release", session_id: state.open.session_id });
});
els.refresh.addEventListener("click", () => send({ action: "agent.queue" }));

els.name.textContent = agentId();
renderQueue();
connect();
