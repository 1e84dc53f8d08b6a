// The reading assistant: a panel with the conversation, shared by the
// reader's pages (app.js) and other sites (widget.js → mountWidget).
// Answers are shown only from the server's sanitized HTML; everything else
// goes in as text.
import { ApiError, createClient } from "./api.js";
import { errorText, h, icon, store } from "./dom.js";

const KEY = "lectern.conversation";
const QUOTED_KEY = "lectern.quotedNotice"; // set once the reader has been told answers are quotations
const enc = encodeURIComponent;

// mountChat fills panel (a hidden <aside>) and wires toggle to it. page is
// the current_page; bookBase the book's origin when not this page's (the
// widget); login and signup the gate's links. Answers {open, close, quote, ask}.
export function mountChat({ client, toggle, panel, page = "", bookBase = "", login, signup }) {
  let user;                        // the reader; null for a guest; undefined until known
  let conv = store.get(KEY) || ""; // the current conversation
  let loaded = null;               // promise: its messages are shown
  let ctrl = null;                 // aborts the answer being streamed
  let highlight = "";              // the selection quoted in the input

  const setConv = (id) => { conv = id || ""; store.set(KEY, conv); };
  const button = (cls, label, name, onclick, extra = {}) =>
    h("button", { type: "button", class: `${cls} icon-button`, "aria-label": label, title: label, onclick, ...extra }, icon(name));

  const heading = h("h2", { id: "chat-heading", text: "Ask the book" });
  const closeBtn = button("chat-close", "Close the assistant", "close", () => close(true));
  const newBtn = button("chat-new", "New conversation", "plus", () => newChat(true), { id: "chat-new" });
  const histBtn = button("chat-history", "Your conversations", "history", () => showHistory(list.hidden),
    { id: "chat-history", "aria-expanded": "false", "aria-controls": "chat-conversations" });
  const list = h("ul", { id: "chat-conversations", class: "conversations", "aria-label": "Your conversations", hidden: true });
  const hint = h("p", { class: "chat-hint", text: "Ask about what you are reading; answers cite the book. Or select text on a page to ask about it." });
  // Shown once, with the first answer that quotes the book (no model is
  // configured on the server), rather than repeated in every answer.
  const notice = h("p", { id: "chat-quoted-notice", class: "chat-notice", role: "note", hidden: true,
    text: "Answers here are passages quoted from the book, the ones that best match your question, with links to where they come from. The assistant does not write answers of its own." });
  const log = h("div", { id: "chat-messages", class: "chat-log", role: "log", "aria-live": "polite", "aria-label": "Conversation" });
  const input = h("textarea", { id: "chat-input", name: "query", rows: "2", maxlength: "4000", placeholder: "Ask a question…", "aria-describedby": "chat-help" });
  const sendBtn = h("button", { id: "chat-send", type: "submit", class: "icon-button primary", "aria-label": "Send", title: "Send" }, icon("send"));
  const form = h("form", { id: "chat-form", class: "chat-form", novalidate: true },
    h("label", { for: "chat-input", class: "visually-hidden", text: "Your question" }), input, sendBtn,
    h("p", { id: "chat-help", class: "chat-help", text: "Enter sends; Shift+Enter starts a new line." }));
  const gate = h("div", { id: "chat-gate", class: "chat-gate" },
    h("p", { text: "Sign in to ask the assistant about the book. Its answers cite the sections they come from, and your conversations stay private." }),
    h("p", { class: "actions" },
      h("a", { id: "chat-login", class: "button primary", href: login, text: "Sign in" }),
      h("a", { id: "chat-signup", class: "button", href: signup, text: "Create an account" })));

  panel.classList.add("chat-panel");
  panel.setAttribute("aria-labelledby", "chat-heading");
  panel.setAttribute("tabindex", "-1");
  panel.hidden = true;

  function render() {
    const tools = user ? [newBtn, histBtn] : [];
    const head = h("div", { class: "chat-head" }, heading, ...tools, closeBtn);
    const main = user === undefined ? [h("p", { class: "chat-hint", text: "Loading…" })] : user ? [list, hint, notice, log, form] : [gate];
    panel.replaceChildren(head, ...main);
  }
  render();
  const ready = client.session().then((s) => {
    user = s?.user || null;
    render();
    if (!panel.hidden) {
      if (user) ensureLoaded();
      if (document.activeElement === panel) focusFirst();
    }
  });
  client.onSignedOut(() => { stop(); user = null; render(); });

  // Opening and closing.
  toggle.hidden = false;
  toggle.setAttribute("aria-expanded", "false");
  toggle.setAttribute("aria-controls", "chat-panel");
  toggle.addEventListener("click", () => (panel.hidden ? open() : close()));
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape" || panel.hidden || e.defaultPrevented) return;
    const a = document.activeElement;
    close(!a || a === document.body || panel.contains(a));
  });

  function open() {
    if (!panel.hidden) return;
    panel.hidden = false;
    toggle.setAttribute("aria-expanded", "true");
    if (user) ensureLoaded();
    focusFirst();
  }
  const focusFirst = () => (user ? input : user === null ? gate.querySelector("a") : panel).focus();
  function close(returnFocus) {
    panel.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
    if (returnFocus) toggle.focus();
  }

  // Sending.
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submit();
    }
  });
  form.addEventListener("submit", (e) => { e.preventDefault(); submit(); });

  function submit() {
    const query = input.value.trim();
    if (!query || ctrl) return;
    const quoted = highlight && input.value.startsWith("> ") ? highlight : "";
    highlight = "";
    input.value = "";
    ask({ query, highlighted_text: quoted });
  }

  // ask sends a question: {query, highlighted_text?, agent_type?}.
  async function ask({ query, highlighted_text = "", agent_type = "triage" }) {
    open();
    await ready;
    if (!user || ctrl) return;
    await ensureLoaded();
    const q = userMsg(query);
    const el = h("div", { class: "message assistant" });
    hint.hidden = true;
    log.append(q, el);
    const body = { agent_type, query };
    if (page) body.current_page = page;
    if (highlighted_text) body.highlighted_text = highlighted_text;
    run({ q, el, body });
  }

  // follow scrolls the log to its end, but no further than the question
  // at the top, so a long answer is read from its beginning.
  const follow = (q) => { log.scrollTop = Math.min(log.scrollHeight - log.clientHeight, q.offsetTop - log.offsetTop - 8); };

  // run streams the answer of turn.body into turn.el; a failure shows a
  // retry button that sends the same question to the same conversation.
  async function run(turn) {
    const { el } = turn;
    const text = h("p", { class: "streaming" });
    const body = h("div", { class: "message-body" }, text);
    const typing = h("span", { class: "typing" }, h("span"), h("span"), h("span"),
      h("span", { class: "visually-hidden", text: "The assistant is writing" }));
    el.replaceChildren(body, typing);
    el.removeAttribute("data-id");
    follow(turn.q);
    const mine = (ctrl = new AbortController());
    sendBtn.disabled = true;
    log.setAttribute("aria-busy", "true");
    turn.body.session_id = conv;
    let done = false;
    try {
      await client.stream(turn.body, (event, d) => {
        if (event === "start") setConv(d.session_id);
        else if (event === "sources") {
          el.append(sourcesList(d.sources));
          if (d.quoted && !store.get(QUOTED_KEY)) {
            notice.hidden = false;
            store.set(QUOTED_KEY, "1");
          }
        }
        else if (event === "delta") {
          text.textContent += d.text;
          follow(turn.q);
        } else if (event === "done") {
          done = true;
          finish(el, { id: d.message_id, content_html: d.message_html, content: d.message, sources: d.sources });
          follow(turn.q);
        } else if (event === "error") throw new ApiError(d.message, d.code);
      }, mine.signal);
      if (!done) throw new ApiError("The answer was cut off. Please try again.", "INCOMPLETE");
    } catch (e) {
      if (mine.signal.aborted) return;
      typing.remove();
      el.append(errorBox(e, h("button", { type: "button", class: "retry button", text: "Try again", onclick: () => ctrl || run(turn) })));
      follow(turn.q);
    } finally {
      if (ctrl === mine) stop();
    }
  }

  function stop() {
    ctrl?.abort();
    ctrl = null;
    sendBtn.disabled = false;
    log.removeAttribute("aria-busy");
  }

  // Messages.
  const errorBox = (e, ...kids) => h("div", { class: "message-error" }, h("p", { text: errorText(e) }), ...kids);

  function userMsg(text) {
    const el = h("div", { class: "message user" });
    const q = /^(?:> .*(?:\n|$))+/.exec(text); // a leading quote of the selection
    if (q) {
      el.append(h("blockquote", { text: q[0].replace(/^> /gm, "").trim() }));
      text = text.slice(q[0].length).trim();
    }
    if (text) el.append(h("p", { text }));
    return el;
  }

  const href = (u) => {
    try {
      const url = new URL(u, bookBase || location.href);
      return /^https?:$/.test(url.protocol) ? (bookBase ? url.href : u) : null;
    } catch {
      return null;
    }
  };

  function sourcesList(sources = []) {
    if (!sources.length) return "";
    return h("ol", { class: "sources", "aria-label": "Sources" }, ...sources.map((s) => h("li", {},
      h("a", { href: href(s.url), target: bookBase ? "_blank" : null, text: s.heading && s.heading !== s.title ? `${s.title} › ${s.heading}` : s.title }),
      s.page_number ? h("span", { class: "page-number", text: ` · p. ${s.page_number}` }) : "")));
  }

  // finish shows a stored answer: {id, content_html, content, sources, rating}.
  function finish(el, m) {
    const body = h("div", { class: "message-body" });
    if (m.content_html) body.innerHTML = m.content_html; // sanitized by the server
    else body.append(h("p", { text: m.content }));
    if (bookBase) {
      for (const a of body.querySelectorAll("a[href]")) {
        const u = href(a.getAttribute("href"));
        if (u) Object.assign(a, { href: u, target: "_blank", rel: "noopener" });
        else a.removeAttribute("href");
      }
    }
    el.dataset.id = m.id;
    el.replaceChildren(body, sourcesList(m.sources), actions(m, body));
    return el;
  }

  function actions(m, body) {
    const rate = (r) => async () => {
      const was = m.rating;
      if (was === r) return;
      press(r);
      try {
        await client.api(`/api/messages/${enc(m.id)}/feedback`, { method: "POST", body: { rating: r } });
      } catch {
        press(was);
      }
    };
    const up = button("rate-up", "Helpful", "up", rate("up"));
    const down = button("rate-down", "Not helpful", "down", rate("down"));
    const press = (r) => {
      m.rating = r;
      up.setAttribute("aria-pressed", String(r === "up"));
      down.setAttribute("aria-pressed", String(r === "down"));
    };
    press(m.rating || null);
    const copy = button("copy", "Copy the answer", "copy", async () => {
      try {
        await navigator.clipboard.writeText(body.innerText.trim());
        copy.setAttribute("aria-label", "Copied");
        setTimeout(() => copy.setAttribute("aria-label", "Copy the answer"), 2000);
      } catch {
        getSelection().selectAllChildren(body); // the reader can copy it by hand
      }
    });
    return h("div", { class: "message-actions" }, up, down, copy);
  }

  // Conversations.
  function ensureLoaded() {
    loaded ??= load(conv);
    return loaded;
  }

  async function load(id) {
    log.replaceChildren();
    hint.hidden = !!id;
    if (!id) return;
    log.setAttribute("aria-busy", "true");
    try {
      let cursor = "";
      for (let i = 0; i < 20; i++) {
        const r = await client.api(`/api/conversations/${enc(id)}/messages?limit=100${cursor ? "&cursor=" + enc(cursor) : ""}`);
        if (id !== conv) return;
        for (const m of r.messages) log.append(m.role === "user" ? userMsg(m.content) : finish(h("div", { class: "message assistant" }), m));
        if (!(cursor = r.next_cursor)) break;
      }
      log.scrollTop = log.scrollHeight;
    } catch (e) {
      if (id !== conv) return;
      if (e.status === 404) {
        setConv(""); // deleted elsewhere
        hint.hidden = false;
      } else log.append(errorBox(e));
    } finally {
      if (!ctrl) log.removeAttribute("aria-busy");
    }
  }

  function newChat(focus) {
    stop();
    setConv("");
    highlight = "";
    loaded = load("");
    if (focus) {
      showHistory(false);
      input.focus();
    }
  }

  function openConv(id) {
    stop();
    setConv(id);
    loaded = load(id);
    showHistory(false);
    input.focus();
  }

  async function showHistory(show, cursor = "") {
    list.hidden = !show;
    histBtn.setAttribute("aria-expanded", String(show));
    if (!show) return;
    if (!cursor) list.replaceChildren(h("li", { class: "muted", text: "Loading…" }));
    try {
      const r = await client.api(`/api/conversations?limit=30${cursor ? "&cursor=" + enc(cursor) : ""}`);
      if (!cursor) list.replaceChildren();
      list.append(...r.conversations.map(item));
      if (!list.children.length) list.append(h("li", { class: "muted", text: "No conversations yet." }));
      if (r.next_cursor) {
        const more = h("li", { class: "more" }, h("button", { type: "button", class: "button", text: "Show older",
          onclick: () => { more.remove(); showHistory(true, r.next_cursor); } }));
        list.append(more);
      }
    } catch (e) {
      list.replaceChildren(h("li", { class: "message-error", text: errorText(e) }));
    }
  }

  function item(c) {
    const li = h("li", { class: "conversation", "data-id": c.id });
    const openBtn = h("button", { type: "button", class: "open", text: c.title || "Untitled",
      "aria-current": c.id === conv ? "true" : null, onclick: () => openConv(c.id) });
    const when = h("span", { class: "when", text: new Date(c.updated_at).toLocaleDateString(undefined, { month: "short", day: "numeric" }) });
    const ren = button("rename", "", "edit", rename);
    const del = button("delete", "", "trash", askDelete);
    const row = (focus) => {
      ren.title = ren.ariaLabel = `Rename “${c.title}”`;
      del.title = del.ariaLabel = `Delete “${c.title}”`;
      li.replaceChildren(openBtn, when, ren, del);
      focus?.focus();
    };
    row();

    function rename() {
      const field = h("input", { class: "rename-input", type: "text", maxlength: "200", "aria-label": "New title (Enter saves, Escape cancels)" });
      field.value = c.title;
      let saving = false;
      li.replaceChildren(field);
      field.focus();
      field.select();
      field.addEventListener("blur", () => { if (!saving && field.isConnected) row(); });
      field.addEventListener("keydown", async (e) => {
        if (e.key === "Escape") {
          e.preventDefault();
          row(ren);
        } else if (e.key === "Enter") {
          e.preventDefault();
          const title = field.value.trim();
          if (!title || saving) return;
          saving = true;
          try {
            const r = await client.api(`/api/conversations/${enc(c.id)}`, { method: "PATCH", body: { title } });
            c.title = openBtn.textContent = r.title;
            row(ren);
          } catch (err) {
            saving = false;
            field.setAttribute("aria-invalid", "true");
            field.title = errorText(err);
          }
        }
      });
    }

    function askDelete() {
      const msg = h("span", { class: "confirm-text", text: `Delete “${c.title}” for good?` });
      const keep = h("button", { type: "button", class: "button", text: "Keep", onclick: () => row(del) });
      const yes = h("button", { type: "button", class: "confirm-delete button danger", text: "Delete" });
      yes.addEventListener("click", async () => {
        yes.disabled = true;
        try {
          await client.api(`/api/conversations/${enc(c.id)}`, { method: "DELETE" });
        } catch (e) {
          if (e.status !== 404) {
            yes.disabled = false;
            msg.textContent = errorText(e);
            return;
          }
        }
        const nextFocus = li.nextElementSibling?.querySelector("button") || li.previousElementSibling?.querySelector("button") || histBtn;
        li.remove();
        if (c.id === conv) newChat(false);
        if (!list.querySelector(".conversation")) list.replaceChildren(h("li", { class: "muted", text: "No conversations yet." }));
        nextFocus.focus();
      });
      li.replaceChildren(msg, yes, keep);
      keep.focus();
    }
    return li;
  }

  // quote puts the reader's selection in the input; it goes with the next
  // question as highlighted_text.
  async function quote(text) {
    open();
    await ready;
    if (!user) return;
    highlight = text;
    const flat = text.replace(/\s+/g, " ").trim();
    const rest = input.value.replace(/^(?:> .*(?:\n|$))+\n*/, "");
    input.value = `> ${flat.length > 300 ? flat.slice(0, 300) + "…" : flat}\n\n${rest}`;
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }

  return { open, close, quote, ask };
}

// mountWidget adds the panel to another site's page, talking to the
// Lectern server at origin (widget.js loads this module from there).
export function mountWidget({ origin, page = "" }) {
  const client = createClient({ apiBase: origin, authBase: origin });
  const toggle = h("button", { id: "chat-toggle", type: "button", class: "chat-toggle chat-fab", "aria-label": "Ask the book" },
    icon("chat"), h("span", { text: "Ask" }));
  const panel = h("aside", { id: "chat-panel", role: "complementary", class: "lectern-widget" });
  document.body.append(toggle, panel);
  const next = enc(location.href);
  return mountChat({ client, toggle, panel, page, bookBase: origin, login: `${origin}/login?next=${next}`, signup: `${origin}/signup?next=${next}` });
}
