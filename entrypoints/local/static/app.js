// MangaAssist chat page: the WebSocket protocol of CONTRACT §2, no build step, no dependencies.
"use strict";

(() => {
  const KEYS = { customer: "mangaassist.customer_id", session: "mangaassist.session_id" };
  const HANDOFF_REASON = "The customer asked for a human from the chat page";
  const MAX_BACKOFF_MS = 15000;

  const $ = (id) => document.getElementById(id);
  const els = {
    log: $("conversation"), empty: $("empty"), chat: $("main"), form: $("composer"),
    input: $("message-input"), send: $("send"), handoff: $("handoff"), newChat: $("new-chat"),
    status: $("status"), statusText: $("status-text"),
  };

  const state = {
    socket: null,
    ready: false, // the history of this connection is shown: new messages may go out
    attempts: 0,
    timer: null,
    lastAction: null,
    status: "active", // the session's: "handoff" while a human agent has it
    pending: new Map(), // message_id -> {text, item, socket}: sent (or to send), not answered yet
    streams: new Map(), // response_id -> {item, parts, chunks}
    replies: new Map(), // response_id -> contents of a long reply's message frames, by part
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

  function socketUrl() {
    const url = new URL("/ws", location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("customer_id", customerId());
    const session = localStorage.getItem(KEYS.session);
    if (session) url.searchParams.set("session_id", session);
    return url.toString();
  }

  // --- connection ---------------------------------------------------------------------------

  function setStatus(kind, text) {
    els.status.dataset.state = kind;
    els.statusText.textContent = text;
    els.handoff.disabled = kind !== "open" || state.status === "handoff";
  }

  function connect() {
    clearTimeout(state.timer);
    state.ready = false;
    setStatus("connecting", state.attempts ? "Reconnecting…" : "Connecting…");
    const socket = new WebSocket(socketUrl());
    state.socket = socket;
    socket.addEventListener("open", () => {
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
    if (!state.socket || state.socket.readyState !== WebSocket.OPEN) return false;
    state.lastAction = frame.action;
    state.socket.send(JSON.stringify(frame));
    return true;
  }

  // Pending messages go out once this connection shows its history, with their first message_id:
  // the server answers a repeated id once (or sends the stored reply), never twice.
  function flushPending() {
    if (!state.ready) return;
    for (const [id, entry] of state.pending) {
      if (entry.socket === state.socket) continue;
      if (!send({ action: "sendMessage", message: entry.text, message_id: id })) continue;
      entry.socket = state.socket;
      if (state.status === "handoff") setMeta(entry.item, "Sent to the agent");
    }
  }

  // --- frames -------------------------------------------------------------------------------

  function handleFrame(data) {
    let frame;
    try { frame = JSON.parse(data); } catch { return; }
    const handlers = { session: onSession, history: onHistory, chunk: onChunk, message: onMessage,
      error: onError, handoff: onHandoff };
    (handlers[frame.type] || (() => {}))(frame);
  }

  function onSession(frame) {
    const previous = localStorage.getItem(KEYS.session);
    localStorage.setItem(KEYS.session, frame.session_id);
    setSessionStatus(frame.status);
    if (previous && previous !== frame.session_id && !frame.resumed) {
      clearConversation();
      addNotice("Your previous conversation could not be resumed, so we started a new one.");
    }
    send({ action: "history" });
  }

  function onHistory(frame) {
    const turns = frame.turns || [];
    clearConversation({ keepPending: true });
    turns.forEach((turn) => {
      if (turn.role === "system") addNotice(turn.content);
      else addTurn(turn.role, turn.content, { time: turn.created_at });
    });
    for (const [id, entry] of state.pending) {
      const found = turns.findLastIndex((t) => t.role === "user" && t.content === entry.text);
      if (found >= 0 && turns.slice(found + 1).some((t) => t.role === "assistant")) {
        state.pending.delete(id); // answered while we were away: the history shows the reply
      } else if (found < 0) {
        entry.item = addTurn("user", entry.text, { meta: "Sending…" });
      }
    }
    state.ready = true;
    flushPending();
  }

  function onChunk(frame) {
    let stream = state.streams.get(frame.response_id);
    if (!stream) {
      const item = addTurn("assistant", "", { state: "streaming" });
      item.dataset.responseId = frame.response_id;
      item.setAttribute("aria-busy", "true");
      stream = { item, parts: [], chunks: 0 };
      state.streams.set(frame.response_id, stream);
    }
    stream.parts[frame.index] = frame.delta; // placed by index: frames may be reordered
    stream.chunks += 1;
    setText(stream.item, stream.parts.join(""));
  }

  // A reply over 16,000 characters comes as several message frames with part/parts.
  function wholeReply(frame) {
    if (!frame.parts) return frame.content;
    const pieces = state.replies.get(frame.response_id) || [];
    pieces[frame.part] = frame.content;
    state.replies.set(frame.response_id, pieces);
    if (pieces.filter((piece) => piece !== undefined).length < frame.parts) return null;
    state.replies.delete(frame.response_id);
    return pieces.join("");
  }

  function onMessage(frame) {
    const content = wholeReply(frame);
    if (content === null) return;
    const stream = state.streams.get(frame.response_id);
    const item = stream ? stream.item : addTurn("assistant", "", { agent: Boolean(frame.agent_id) });
    state.streams.delete(frame.response_id);
    item.dataset.responseId = frame.response_id;
    item.dataset.state = "final";
    item.dataset.chunks = String(stream ? stream.chunks : 0);
    item.removeAttribute("aria-busy");
    setText(item, content);
    const asked = state.pending.get(frame.reply_to);
    if (asked) { setMeta(asked.item, ""); state.pending.delete(frame.reply_to); }
  }

  function onError(frame) {
    const note = addNotice("", "error");
    note.setAttribute("role", "alert");
    const strong = document.createElement("strong");
    strong.textContent = frame.code === "unavailable" ? "Busy." : "Sorry —";
    note.append(strong, document.createTextNode(frame.message || "something went wrong"));
    if (state.lastAction === "sendMessage") {
      for (const [id, entry] of state.pending) offerRetry(id, entry);
    } else if (state.lastAction === "handoff") {
      setSessionStatus(state.status); // the request failed: the button may be pressed again
    }
  }

  function onHandoff(frame) {
    const before = state.status;
    setSessionStatus(frame.status);
    if (frame.status === "handoff" && before !== "handoff") {
      addNotice("You're being connected to a human agent. They will answer here.");
    } else if (frame.status === "active" && before === "handoff") {
      addNotice("The agent handed the conversation back to MangaAssist.");
    }
  }

  function setSessionStatus(status) {
    state.status = status || "active";
    const withAgent = state.status === "handoff";
    els.handoff.textContent = withAgent ? "With an agent" : "Talk to a human";
    els.handoff.disabled = withAgent || !state.socket || state.socket.readyState !== WebSocket.OPEN;
  }

  // --- conversation view --------------------------------------------------------------------

  function clearConversation({ keepPending = false } = {}) {
    els.log.replaceChildren();
    state.streams.clear();
    state.replies.clear();
    if (!keepPending) state.pending.clear();
    updateEmpty();
  }

  function updateEmpty() {
    els.empty.hidden = els.log.children.length > 0 || state.pending.size > 0;
  }

  function timeLabel(iso) {
    const at = iso ? new Date(iso) : new Date();
    return at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function addTurn(role, text, { time, meta, agent, state: turnState } = {}) {
    const item = document.createElement("li");
    item.className = `turn turn-${role === "user" ? "user" : "assistant"}`;
    item.dataset.role = role;
    item.dataset.state = turnState || "final";
    const who = document.createElement("p");
    who.className = "turn-who";
    const name = role === "user" ? "You" : agent ? "Support agent" : "MangaAssist";
    who.textContent = `${name} · ${timeLabel(time)}`;
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    bubble.textContent = text;
    const footer = document.createElement("p");
    footer.className = "turn-meta";
    item.append(who, bubble, footer);
    if (meta) footer.textContent = meta;
    return append(item);
  }

  function addNotice(text, kind = "info") {
    const item = document.createElement("li");
    item.className = kind === "error" ? "notice notice-error" : "notice";
    item.textContent = text;
    return append(item);
  }

  function append(item) {
    const near = els.chat.scrollHeight - els.chat.scrollTop - els.chat.clientHeight < 80;
    els.log.append(item);
    updateEmpty();
    if (near) els.chat.scrollTop = els.chat.scrollHeight;
    return item;
  }

  function setText(item, text) {
    const near = els.chat.scrollHeight - els.chat.scrollTop - els.chat.clientHeight < 80;
    item.querySelector(".bubble").textContent = text;
    if (near) els.chat.scrollTop = els.chat.scrollHeight;
  }

  function setMeta(item, text) {
    if (item && item.isConnected) item.querySelector(".turn-meta").replaceChildren(text);
  }

  function offerRetry(id, entry) {
    if (!entry.item || !entry.item.isConnected) return;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button button-outline retry";
    button.textContent = "Retry";
    button.setAttribute("aria-label", `Retry sending: ${entry.text.slice(0, 60)}`);
    button.addEventListener("click", () => {
      setMeta(entry.item, "Sending…");
      entry.socket = null;
      flushPending();
    });
    entry.item.querySelector(".turn-meta").replaceChildren("Not answered.", button);
  }

  // --- user actions -------------------------------------------------------------------------

  function submit(text) {
    const message = text.trim();
    if (!message) return;
    const id = newId();
    const item = addTurn("user", message, { meta: "Sending…" });
    state.pending.set(id, { text: message, item, socket: null });
    flushPending();
    els.input.value = "";
    autosize();
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

  connect();
})();
