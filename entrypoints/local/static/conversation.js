// The conversation on screen: bubbles, notices, and keeping the newest in view. No protocol here.

export class ConversationView {
  constructor({ log, empty, scroller }) {
    this.log = log;
    this.empty = empty;
    this.scroller = scroller;
  }

  clear() {
    this.log.replaceChildren();
    this.updateEmpty();
  }

  updateEmpty() {
    this.empty.hidden = this.log.children.length > 0;
  }

  turn(role, text, { time, meta, agent, state } = {}) {
    const item = document.createElement("li");
    item.className = `turn turn-${role === "user" ? "user" : "assistant"}`;
    item.dataset.role = role;
    item.dataset.state = state || "final";
    const who = document.createElement("p");
    who.className = "turn-who";
    const name = role === "user" ? "You" : agent ? "Support agent" : "MangaAssist";
    who.textContent = `${name} · ${timeLabel(time)}`;
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    bubble.textContent = text;
    const footer = document.createElement("p");
    footer.className = "turn-meta";
    if (meta) footer.textContent = meta;
    item.append(who, bubble, footer);
    return this.append(item);
  }

  notice(text, kind = "info") {
    const item = document.createElement("li");
    item.className = kind === "error" ? "notice notice-error" : "notice";
    item.textContent = text;
    if (kind === "error") item.setAttribute("role", "alert");
    return this.append(item);
  }

  limit(headline, detail) {
    const item = this.notice("", "error");
    item.classList.add("notice-limit");
    const strong = document.createElement("strong");
    strong.textContent = headline;
    item.append(strong, document.createTextNode(` ${detail}`));
    return item;
  }

  error(code, message) {
    const item = this.notice("", "error");
    const strong = document.createElement("strong");
    strong.textContent = code === "unavailable" ? "Busy." : "Sorry —";
    item.append(strong, document.createTextNode(message || "something went wrong"));
    return item;
  }

  append(item) {
    this.keepingNewestInView(() => this.log.append(item));
    this.updateEmpty();
    return item;
  }

  setText(item, text) {
    this.keepingNewestInView(() => { item.querySelector(".bubble").textContent = text; });
  }

  setMeta(item, ...content) {
    if (item && item.isConnected) item.querySelector(".turn-meta").replaceChildren(...content);
  }

  offerRetry(item, label, onRetry) {
    if (!item || !item.isConnected) return;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button button-outline retry";
    button.textContent = "Retry";
    button.setAttribute("aria-label", `Retry sending: ${label.slice(0, 60)}`);
    button.addEventListener("click", onRetry);
    this.setMeta(item, "Not answered.", button);
  }

  // Follow new content only when the reader is already at the bottom: never yank them away.
  keepingNewestInView(change) {
    const s = this.scroller;
    const atBottom = s.scrollHeight - s.scrollTop - s.clientHeight < 80;
    change();
    if (atBottom) s.scrollTop = s.scrollHeight;
  }
}

function timeLabel(iso) {
  const at = iso ? new Date(iso) : new Date();
  return at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}
