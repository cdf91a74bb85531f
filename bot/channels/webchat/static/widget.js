/*
 * The Azerbaijan Child Helpline (116111): the web chat widget.
 *
 * One line on any page of an allowed site adds a chat button and panel:
 *   <script src="https://BOT-ADDRESS/chat/widget.js" async></script>
 * Options (attributes of that tag): data-lang="az|ru|en", data-leave-url="https://..." (where
 * "Leave quickly" goes), data-mode="page" (full screen: the bot's own /chat/ page).
 *
 * Plain JavaScript, no build step. The words come from the server (bot/content/strings/webchat.*),
 * put into CONFIG when this file is served. The session token is kept in localStorage (nothing else
 * identifies the person); this tab's conversation and unsent messages in sessionStorage. "Leave
 * quickly" removes both and leaves the page.
 */
(() => {
  "use strict";

  const CONFIG = /*@CONFIG@*/ null;
  const script = document.currentScript;
  if (!CONFIG || !script || window.__helplineChat) return;
  window.__helplineChat = true;

  const base = new URL(".", script.src);
  const mode = script.dataset.mode === "page" ? "page" : "widget";
  const leaveUrl = script.dataset.leaveUrl || "https://www.google.com/";
  const KEY = {
    token: "helpline-chat:session",
    lang: "helpline-chat:lang",
    log: "helpline-chat:log",
    outbox: "helpline-chat:outbox",
    open: "helpline-chat:open",
  };
  const MAX_LOG = 200;
  const NUMBERS = /(\b116111\b|\b112\b)/;

  // ---- storage (may be unavailable: private modes, blocked third-party storage) ----------------
  const store = {
    get(area, key) {
      try { return window[area].getItem(key); } catch (e) { return null; }
    },
    set(area, key, value) {
      try { window[area].setItem(key, value); } catch (e) { /* kept in memory only */ }
    },
    remove(area, key) {
      try { window[area].removeItem(key); } catch (e) { /* nothing to remove */ }
    },
    json(area, key, fallback) {
      try { return JSON.parse(store.get(area, key)) || fallback; } catch (e) { return fallback; }
    },
  };

  function pickLanguage() {
    const wanted = [
      store.get("localStorage", KEY.lang),
      script.dataset.lang,
      (document.documentElement.lang || "").slice(0, 2).toLowerCase(),
    ];
    return wanted.find((l) => CONFIG.languages.includes(l)) || CONFIG.defaultLanguage;
  }

  const state = {
    lang: pickLanguage(),
    token: store.get("localStorage", KEY.token),
    log: store.json("sessionStorage", KEY.log, []),
    outbox: store.json("sessionStorage", KEY.outbox, []),
    open: mode === "page" || store.get("sessionStorage", KEY.open) === "1",
    ws: null,
    conn: 0,
    ready: false,
    attempts: 0,
    timer: null,
    counsellor: false,
    left: false,
  };
  for (const frame of state.outbox) frame.sentOn = null; // a new page: nothing sent on it yet
  for (const entry of state.log) {
    if (entry.status === "counsellor_joined" || entry.kind === "relay") state.counsellor = true;
    if (entry.status === "counsellor_left") state.counsellor = false;
  }

  function t(key, values) {
    const strings = CONFIG.strings[state.lang] || CONFIG.strings[CONFIG.defaultLanguage];
    let text = strings[key] || CONFIG.strings[CONFIG.defaultLanguage][key] || "";
    for (const [name, value] of Object.entries(values || {})) text = text.split(`{${name}}`).join(String(value));
    return text;
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // ---- building the interface ------------------------------------------------------------------
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = value;
      else if (name === "className") node.className = value;
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children || []) node.append(child);
    return node;
  }

  /** Text with 112 and 116111 as phone links; new lines kept by CSS. */
  function withNumbers(text) {
    const fragment = document.createDocumentFragment();
    for (const part of String(text).split(NUMBERS)) {
      if (!part) continue;
      if (part === "112" || part === "116111") fragment.append(el("a", { href: `tel:${part}`, text: part }));
      else fragment.append(document.createTextNode(part));
    }
    return fragment;
  }

  const host = el("div", { className: "helpline-chat-host", "data-mode": mode });
  const root = host.attachShadow({ mode: "open" });
  const sheet = el("link", { rel: "stylesheet", href: new URL("widget.css", base).href });
  const shown = () => host.classList.add("helpline-chat-ready");
  sheet.addEventListener("load", shown);
  sheet.addEventListener("error", shown); // the host page's policy refused the styles: show it plain
  setTimeout(shown, 4000);
  root.append(sheet);

  const ui = {};
  ui.launcher = el("button", { type: "button", className: "launcher", "aria-expanded": "false", "aria-controls": "panel" });
  ui.title = el("h2", { id: "title", className: "title" });
  ui.subtitle = el("p", { className: "subtitle" });
  ui.langs = el("div", { className: "langs", role: "group" });
  ui.langButtons = CONFIG.languages.map((code) => {
    const button = el("button", { type: "button", className: "lang", "data-lang": code, lang: code });
    button.addEventListener("click", () => setLanguage(code));
    ui.langs.append(button);
    return button;
  });
  ui.leave = el("button", { type: "button", className: "leave" });
  ui.close = el("button", { type: "button", className: "close" });
  ui.emergency = el("p", { className: "emergency" });
  ui.counsellor = el("p", { className: "counsellor", hidden: true });
  ui.status = el("p", { className: "status", role: "status", "aria-live": "polite" });
  ui.log = el("ol", { className: "log", role: "log", "aria-live": "polite", tabindex: "0" });
  ui.input = el("textarea", { id: "input", className: "input", rows: "2", maxlength: String(CONFIG.maxChars), autocomplete: "off" });
  ui.inputLabel = el("label", { for: "input", className: "sr-only" });
  ui.send = el("button", { type: "submit", className: "send" });
  ui.notice = el("p", { className: "notice", role: "alert", hidden: true });
  ui.form = el("form", { className: "compose", novalidate: true }, [ui.inputLabel, ui.input, ui.send]);
  const tools = el("div", { className: "tools" }, mode === "page" ? [ui.langs, ui.leave] : [ui.langs, ui.leave, ui.close]);
  const header = el("header", { className: "head" }, [el("div", { className: "heading" }, [ui.title, ui.subtitle]), tools]);
  ui.panel = el(
    "section",
    { id: "panel", className: "panel", "aria-labelledby": "title", role: mode === "page" ? "main" : "dialog", hidden: !state.open },
    [header, ui.emergency, ui.counsellor, ui.status, ui.log, ui.notice, ui.form],
  );
  if (mode === "widget") root.append(ui.launcher);
  root.append(ui.panel);

  function label() {
    ui.launcher.textContent = t("open");
    ui.launcher.setAttribute("aria-label", t("open_label"));
    ui.title.textContent = t("title");
    ui.subtitle.textContent = t("subtitle");
    ui.langs.setAttribute("aria-label", t("language_label"));
    for (const button of ui.langButtons) {
      const code = button.dataset.lang;
      button.textContent = t(`lang.${code}`);
      button.setAttribute("aria-label", t(`lang_name.${code}`));
      button.setAttribute("aria-pressed", String(code === state.lang));
    }
    ui.leave.textContent = t("leave");
    ui.leave.setAttribute("aria-label", t("leave_label"));
    ui.close.textContent = t("close");
    ui.close.setAttribute("aria-label", t("close_label"));
    ui.emergency.replaceChildren(withNumbers(t("emergency")));
    ui.counsellor.textContent = t("counsellor_joined");
    ui.counsellor.hidden = !state.counsellor;
    ui.log.setAttribute("aria-label", t("log_label"));
    ui.inputLabel.textContent = t("input_label");
    ui.input.placeholder = t("placeholder");
    ui.send.textContent = t("send");
    ui.send.setAttribute("aria-label", t("send_label"));
    if (mode === "page") {
      document.title = t("title");
      document.documentElement.lang = state.lang;
    }
    showStatus();
    renderLog();
  }

  function setLanguage(code) {
    state.lang = code;
    store.set("localStorage", KEY.lang, code);
    label();
  }

  // ---- the conversation ------------------------------------------------------------------------
  function saveLog() {
    if (state.left) return;
    state.log = state.log.slice(-MAX_LOG);
    store.set("sessionStorage", KEY.log, JSON.stringify(state.log));
    store.set("sessionStorage", KEY.outbox, JSON.stringify(state.outbox));
  }

  function renderEntry(entry) {
    const who = entry.mine ? "from_you" : "from_bot";
    const item = el("li", {
      className: `msg ${entry.mine ? "mine" : entry.kind === "relay" ? "relay" : "bot"}${entry.pending ? " pending" : ""}`,
      "data-id": entry.id || null,
    });
    // a counsellor's words come already named ("👤 Counsellor:"); the others get a name for screen readers
    if (entry.kind !== "relay") item.append(el("span", { className: "sr-only", text: `${t(who)}: ` }));
    item.append(el("span", { className: "text" }, [withNumbers(entry.text)]));
    if (entry.pending) item.append(el("span", { className: "state", text: t("sending") }));
    if (entry.buttons && entry.buttons.length) {
      const group = el("div", { className: "choices", role: "group", "aria-label": t("buttons_label") });
      for (const choice of entry.buttons) {
        const button = el("button", { type: "button", className: "choice", text: choice.text });
        button.addEventListener("click", () => press(choice));
        group.append(button);
      }
      item.append(group);
    }
    return item;
  }

  function renderLog() {
    ui.log.replaceChildren(...state.log.map(renderEntry));
    scrollDown();
  }

  function append(entry) {
    state.log.push(entry);
    saveLog();
    ui.log.append(renderEntry(entry));
    scrollDown();
    if (mode === "widget" && !state.open && !entry.mine) ui.launcher.classList.add("unread");
  }

  function scrollDown() {
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  function showStatus(key, values) {
    if (key !== undefined) state.statusKey = key ? [key, values] : null;
    const current = state.statusKey;
    ui.status.textContent = current ? t(current[0], current[1]) : "";
    ui.status.hidden = !current;
  }

  function showNotice(text) {
    ui.notice.textContent = text || "";
    ui.notice.hidden = !text;
  }

  function queue(frame, shown) {
    const id = newId();
    state.outbox.push({ ...frame, id });
    append({ id: `out:${id}`, mine: true, text: shown, pending: true });
    flush();
  }

  function press(choice) {
    showNotice("");
    queue({ type: "button", data: choice.data }, choice.text);
  }

  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = ui.input.value.trim();
    if (!text) return;
    if (text.length > CONFIG.maxChars) {
      showNotice(t("too_long", { limit: CONFIG.maxChars }));
      return;
    }
    showNotice("");
    ui.input.value = "";
    queue({ type: "text", text }, text);
    ui.input.focus();
  });
  ui.input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      ui.form.requestSubmit();
    }
  });

  function settle(id, refused) {
    const entryId = `out:${id}`;
    const frame = state.outbox.find((f) => f.id === id);
    state.outbox = state.outbox.filter((f) => f.id !== id);
    if (refused) {
      state.log = state.log.filter((e) => e.id !== entryId);
      if (frame && frame.type === "text" && !ui.input.value) ui.input.value = frame.text;
    } else {
      const entry = state.log.find((e) => e.id === entryId);
      if (entry) entry.pending = false;
    }
    saveLog();
    const node = ui.log.querySelector(`[data-id="${CSS.escape(entryId)}"]`);
    if (node && refused) node.remove();
    else if (node) node.replaceWith(renderEntry(state.log.find((e) => e.id === entryId)));
  }

  // ---- the connection --------------------------------------------------------------------------
  function socketUrl() {
    const url = new URL("ws", base);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    return url.href;
  }

  function flush() {
    if (!state.ready) {
      connect();
      return;
    }
    for (const frame of state.outbox) {
      if (frame.sentOn === state.conn) continue;
      frame.sentOn = state.conn;
      state.ws.send(JSON.stringify({ type: frame.type, text: frame.text, data: frame.data, id: frame.id }));
    }
  }

  function connect() {
    if (state.ws || state.left) return;
    clearTimeout(state.timer);
    showStatus(state.attempts ? "reconnecting" : "connecting");
    let ws;
    try {
      ws = new WebSocket(socketUrl());
    } catch (e) {
      retry(5);
      return;
    }
    state.ws = ws;
    state.conn += 1;
    let wait = null;
    ws.addEventListener("open", () => {
      ws.send(JSON.stringify({ type: "hello", session: state.token, lang: state.lang }));
    });
    ws.addEventListener("message", (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame.type === "session") {
        if (frame.new && state.token && state.log.length) {
          state.log = [];
          renderLog();
          showNotice(t("new_session"));
        }
        state.token = frame.session;
        store.set("localStorage", KEY.token, frame.session);
        state.ready = true;
        state.attempts = 0;
        showStatus(null);
        flush();
      } else if (frame.type === "message") {
        receive(frame);
      } else if (frame.type === "ack") {
        settle(frame.id, false);
      } else if (frame.type === "refused") {
        refused(frame);
        if (frame.reason === "too_many_connections" || frame.reason === "unavailable") wait = frame.retry_after;
      }
    });
    ws.addEventListener("close", (event) => {
      if (state.ws !== ws) return;
      state.ws = null;
      state.ready = false;
      for (const frame of state.outbox) frame.sentOn = null;
      if (state.left) return;
      if (event.code === 1009) {
        state.outbox = state.outbox.filter((f) => !(f.text && f.text.length > CONFIG.maxChars));
        showNotice(t("too_long", { limit: CONFIG.maxChars }));
      }
      retry(wait || (event.code === 1013 ? 1 : null));
    });
  }

  function retry(seconds) {
    state.attempts += 1;
    const delay = seconds ? seconds * 1000 : Math.min(30000, 1000 * 2 ** Math.min(state.attempts - 1, 5));
    showStatus("reconnecting");
    clearTimeout(state.timer);
    state.timer = setTimeout(connect, delay * (0.8 + Math.random() * 0.4));
  }

  window.addEventListener("online", () => {
    if (!state.ws && (state.open || state.outbox.length)) {
      state.attempts = Math.max(state.attempts, 1);
      connect();
    }
  });

  function receive(frame) {
    if (frame.id !== undefined && state.log.some((e) => e.id === frame.id)) return; // delivered again
    if (frame.status === "counsellor_joined" || frame.kind === "relay") state.counsellor = true;
    if (frame.status === "counsellor_left") state.counsellor = false;
    ui.counsellor.hidden = !state.counsellor;
    append({
      id: frame.id,
      kind: frame.kind === "relay" ? "relay" : "bot",
      status: frame.status || null,
      text: String(frame.text || ""),
      buttons: Array.isArray(frame.buttons) ? frame.buttons.filter((b) => b && b.text && b.data) : [],
    });
  }

  function refused(frame) {
    if (frame.reason === "unavailable" && frame.id) {
      const kept = state.outbox.find((f) => f.id === frame.id);
      if (kept) kept.sentOn = null; // sent again after the reconnect
    } else if (frame.id) {
      settle(frame.id, true);
    }
    showNotice(frame.text);
    if (frame.reason === "unavailable" && state.ws) state.ws.close(4000);
  }

  // ---- open, close, leave ----------------------------------------------------------------------
  function setOpen(open) {
    state.open = open;
    store.set("sessionStorage", KEY.open, open ? "1" : "0");
    ui.panel.hidden = !open;
    ui.launcher.setAttribute("aria-expanded", String(open));
    ui.launcher.hidden = open && mode === "widget" && window.matchMedia("(max-width: 600px)").matches;
    if (open) {
      ui.launcher.classList.remove("unread");
      connect();
      scrollDown();
      ui.input.focus();
    } else {
      ui.launcher.hidden = false;
      ui.launcher.focus();
    }
  }

  ui.launcher.addEventListener("click", () => setOpen(!state.open));
  ui.close.addEventListener("click", () => setOpen(false));
  ui.panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && mode === "widget") setOpen(false);
  });

  function leave() {
    state.left = true;
    clearTimeout(state.timer);
    if (state.ws) {
      try { state.ws.close(1000); } catch (e) { /* already closed */ }
    }
    for (const key of Object.values(KEY)) {
      store.remove("localStorage", key);
      store.remove("sessionStorage", key);
    }
    host.remove();
    if (mode === "page") {
      document.title = "";
      document.body.replaceChildren();
    }
    window.location.replace(leaveUrl);
  }
  ui.leave.addEventListener("click", leave);

  // ---- start -----------------------------------------------------------------------------------
  label();
  const mount = () => {
    document.body.append(host);
    if (mode === "widget") setOpen(state.open);
    if (state.open || state.outbox.length) connect();
  };
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
