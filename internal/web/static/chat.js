// The reading assistant: a panel with the conversation, shared by the
// reader's pages (app.js) and other sites (widget.js → mountWidget). This
// module owns the panel: who the reader is, whether it is open, and the
// question being written (with the selection it quotes). The conversation
// is thread.js's, the list of conversations history.js's, and how messages
// look messages.js's.
import { createClient } from "./api.js";
import { h, icon, store } from "./dom.js";
import { createHistory } from "./history.js";
import { createAnswers, iconButton } from "./messages.js";
import { createThread } from "./thread.js";

const enc = encodeURIComponent;

// SIGNING_IN marks, in this site's session storage, that the reader left
// through the widget's gate to sign in.
const SIGNING_IN = "lectern.signingIn";

// PANEL_OPEN marks, in the reader, that the panel is open, so that it stays
// open on the next page.
const PANEL_OPEN = "lectern.panelOpen";

// mountChat fills panel (a hidden <aside>) and wires toggle to it. suggest
// gives the questions an empty conversation offers (drawn from the page the
// reader is on). page is
// the current_page, or a function that tells it when a question is asked
// (a site that navigates without loading pages); bookBase the book's origin when not this page's (the
// widget); login and signup the gate's links. Answers {open, close, quote, ask}.
export function mountChat({ client, toggle, panel, page = "", bookBase = "", siteDocs = null, login, signup, suggest = () => [] }) {
  let user;          // the reader; null for a guest; undefined until known
  let highlight = ""; // the selection quoted in the input

  const heading = h("h2", { id: "chat-heading", text: "Ask the book" });
  const closeBtn = iconButton("chat-close", "Close the assistant", "close", () => close(true));
  const newBtn = iconButton("chat-new", "New conversation", "plus", () => newChat(true), { id: "chat-new" });
  const histBtn = iconButton("chat-history", "Your conversations", "history", () => history.show(list.hidden),
    { id: "chat-history", "aria-expanded": "false", "aria-controls": "chat-conversations" });
  const list = h("ul", { id: "chat-conversations", class: "conversations", "aria-label": "Your conversations", hidden: true });
  // The empty conversation: what to do, and questions about the page.
  const suggestions = h("ul", { class: "chat-suggestions", "aria-label": "Questions about this page" });
  const hint = h("div", { class: "chat-intro" },
    h("p", { class: "chat-hint", text: "Ask about what you are reading; answers cite the book. Or select text on a page to ask about it." }),
    suggestions);
  const showSuggestions = () => suggestions.replaceChildren(...suggest().map((q) =>
    h("li", {}, h("button", { type: "button", class: "suggestion", text: q, onclick: () => ask({ query: q }) }))));
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

  const thread = createThread({ client, log, hint, notice, answers: createAnswers({ client, bookBase, siteDocs }),
    onBusy: (busy) => { sendBtn.disabled = busy; } });
  const history = createHistory({ client, list, button: histBtn, current: thread.current,
    onOpen: openConversation, onDeleted: (id) => { if (id === thread.current()) newChat(false); } });

  panel.classList.add("chat-panel");
  panel.setAttribute("aria-labelledby", "chat-heading");
  panel.setAttribute("tabindex", "-1");
  panel.hidden = true;

  // Told apart from a guest: the server could not be reached at all, or
  // (on another site) the reader signed in but this site does not get the
  // session.
  const unreachable = h("div", { id: "chat-unreachable", class: "chat-gate", role: "alert" },
    h("p", { text: bookBase
      ? "The assistant cannot reach its server from this site. The site's settings need a change; the browser's console says which."
      : "The assistant cannot reach the server. Check your connection and reload the page." }));
  const noCookie = h("div", { id: "chat-no-session", class: "chat-gate", role: "alert" },
    h("p", { text: "You signed in, but this site does not receive your session: the browser keeps it for the assistant's own site. The site's settings need a change; the browser's console says which." }));
  let offline = false, cookieless = false;

  function render() {
    const tools = user ? [newBtn, histBtn] : [];
    const head = h("div", { class: "chat-head" }, heading, ...tools, closeBtn);
    const main = offline ? [unreachable] : cookieless ? [noCookie] : user === undefined ? [h("p", { class: "chat-hint", text: "Loading…" })] : user ? [list, hint, notice, log, form] : [gate];
    panel.replaceChildren(head, ...main);
  }
  render();
  const ready = client.session().then((s) => {
    user = s?.user || null;
    // The gate's links mark the sign-in (signingIn); coming back from it
    // still a guest means the session cookie does not reach this site.
    const since = Number(store.get(SIGNING_IN) || 0);
    store.set(SIGNING_IN, "");
    if (!user && bookBase && Date.now() - since < 15 * 60e3) {
      cookieless = true;
      console.error(`Lectern: you signed in at ${bookBase}, but its session cookie is not sent from ${location.origin}. ` +
        `The cookie is SameSite=Lax: serve this site and Lectern under one registrable domain (docs.example and lectern.example, ` +
        `or two ports of one host), and open both under the same host name (localhost and 127.0.0.1 are two sites to a browser).`);
    }
  }, (e) => {
    user = null;
    offline = true;
    if (bookBase) {
      console.error(`Lectern: ${bookBase} cannot be reached from ${location.origin} (${e.message}). ` +
        `Start Lectern with ${location.origin} in LECTERN_TRUSTED_ORIGINS; ` +
        `if this site sets a Content-Security-Policy, allow ${bookBase} in its connect-src; ` +
        `and open this site under the host name Lectern's settings give it (localhost and 127.0.0.1 are two sites to a browser).`);
    }
  }).then(() => {
    render();
    if (!panel.hidden) {
      if (user) thread.ensureLoaded();
      if (panel.getRootNode().activeElement === panel) focusFirst();
    }
  });
  client.onSignedOut(() => { thread.stop(); user = null; render(); });

  // Opening and closing.
  toggle.hidden = false;
  toggle.setAttribute("aria-expanded", "false");
  toggle.setAttribute("aria-controls", "chat-panel");
  toggle.addEventListener("click", () => (panel.hidden ? open() : close()));
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape" || panel.hidden || e.defaultPrevented) return;
    // In a shadow root (the widget) the focus inside is the root's.
    const a = panel.getRootNode().activeElement ?? document.activeElement;
    close(!a || a === document.body || panel.contains(a));
  });

  // In the reader the panel stays open from page to page (following a
  // source loads the cited page), and on a wide screen the article makes
  // room for it rather than being covered.
  const reader = !bookBase;
  function open({ focus = true, peek = false } = {}) {
    panel.classList.toggle("peek", peek);
    if (!panel.hidden) return;
    showSuggestions();
    panel.hidden = false;
    toggle.setAttribute("aria-expanded", "true");
    if (reader) {
      document.body.classList.add("chat-open");
      store.set(PANEL_OPEN, "1");
    }
    if (user) thread.ensureLoaded();
    if (focus) focusFirst();
  }
  const focusFirst = () => (user ? input : user === null && !offline ? gate.querySelector("a") : panel).focus();
  function close(returnFocus) {
    panel.hidden = true;
    panel.classList.remove("peek");
    toggle.setAttribute("aria-expanded", "false");
    if (reader) {
      document.body.classList.remove("chat-open");
      store.set(PANEL_OPEN, "");
    }
    if (returnFocus) toggle.focus();
  }
  // A peeking sheet (a phone, just after following a source) rises again
  // when the reader turns to it.
  const phone = () => matchMedia("(max-width: 40rem)").matches;
  panel.addEventListener("focusin", () => panel.classList.remove("peek"));
  panel.addEventListener("click", (e) => {
    // Following a source to a heading of this page: on a phone the sheet
    // lowers to a peek so that the heading shows above it.
    const a = e.target.closest?.("a[href]");
    panel.classList.toggle("peek", reader && phone() && !!a && a.hash !== "" && a.pathname === location.pathname);
  });
  if (reader && store.get(PANEL_OPEN)) {
    // Back from following a source: the cited text must stay in view, so
    // the focus stays on the page, and on a phone the sheet only peeks.
    open({ focus: false, peek: phone() && !!location.hash });
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
    if (!query || thread.busy()) return;
    const quoted = highlight && input.value.startsWith("> ") ? highlight : "";
    highlight = "";
    input.value = "";
    ask({ query, highlighted_text: quoted });
  }

  // ask sends a question: {query, highlighted_text?, agent_type?}.
  async function ask({ query, highlighted_text = "", agent_type = "triage" }) {
    open();
    await ready;
    if (!user || thread.busy()) return;
    const body = { agent_type, query };
    const current = typeof page === "function" ? page() : page;
    if (current) body.current_page = current;
    if (highlighted_text) body.highlighted_text = highlighted_text;
    thread.ask(body);
  }

  function newChat(focus) {
    thread.show("");
    highlight = "";
    if (focus) {
      history.show(false);
      input.focus();
    }
  }

  function openConversation(id) {
    thread.show(id);
    history.show(false);
    input.focus();
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

// mountWidget adds the assistant to another site's page, talking to the
// Lectern server at origin (widget.js loads this module from there). It
// lives in the shadow root of a <lectern-widget> element: no id or class of
// it is in the site's document, and none of the site's rules reach in. Its
// theme follows theme ("light", "dark"), else the site's (html[data-theme],
// or a "dark" class), live, else the OS. position "left" puts the button
// and the panel on the left (clear of a back-to-top button); siteDocs
// makes citations open the site's own pages (see createAnswers).
export function mountWidget({ origin, css, page = "", theme = "auto", position = "right", siteDocs = null }) {
  const client = createClient({ apiBase: origin, authBase: origin });
  const host = document.createElement("lectern-widget");
  host.style.visibility = "hidden"; // until its style sheet is in
  const root = host.attachShadow({ mode: "open" });
  const sheet = h("link", { rel: "stylesheet", href: css });
  sheet.addEventListener("load", () => host.style.removeProperty("visibility"));
  sheet.addEventListener("error", () => console.warn(`Lectern: the assistant's style sheet (${css}) could not load`));
  const toggle = h("button", { id: "chat-toggle", type: "button", class: "chat-toggle chat-fab", "aria-label": "Ask the book" },
    icon("chat"), h("span", { text: "Ask" }));
  const panel = h("aside", { id: "chat-panel", role: "complementary", class: "lectern-widget" });
  root.append(sheet, toggle, panel);
  if (position === "left") host.setAttribute("data-position", "left");
  document.body.append(host);
  followTheme(host, theme);
  // The gate's links send the reader back to the page they are on now,
  // which client-side navigation may have changed since.
  root.addEventListener("click", (e) => {
    const a = e.target.closest?.("#chat-login, #chat-signup");
    if (!a) return;
    a.href = `${origin}/${a.id === "chat-login" ? "login" : "signup"}?next=${enc(location.href)}`;
    store.set(SIGNING_IN, String(Date.now()));
  }, true);
  const next = enc(location.href);
  const chat = mountChat({ client, toggle, panel, page: page || (() => location.pathname), bookBase: origin, siteDocs,
    suggest: () => questionsFrom(document.querySelector("article") || document.querySelector("main") || document.body),
    login: `${origin}/login?next=${next}`, signup: `${origin}/signup?next=${next}` });
  // Selecting text of the site's page offers to ask about it, as in the reader.
  const text = document.querySelector("article") || document.querySelector("main") || document.body;
  import("./selection.js").then((m) => m.mountSelection(text, chat, (menu) => root.append(menu)));
  return chat;
}

// followTheme keeps the host's data-theme on the theme asked for, else on
// the page's own (as Docusaurus, VitePress and most docs sites mark it on
// <html>), following it as it changes; without either the OS decides.
function followTheme(host, theme) {
  const html = document.documentElement;
  const apply = () => {
    const site = html.getAttribute("data-theme") || html.getAttribute("data-color-mode") ||
      (html.classList.contains("dark") ? "dark" : "");
    const t = theme === "light" || theme === "dark" ? theme : site === "light" || site === "dark" ? site : "";
    if (t) host.setAttribute("data-theme", t);
    else host.removeAttribute("data-theme");
  };
  apply();
  if (theme !== "light" && theme !== "dark") {
    new MutationObserver(apply).observe(html, { attributes: true, attributeFilter: ["data-theme", "data-color-mode", "class"] });
  }
}

// questionsFrom offers up to three questions about a page: one per heading
// of its sections, in its order.
export function questionsFrom(article) {
  if (!article) return [];
  const seen = new Set();
  const out = [];
  for (const el of article.querySelectorAll("h2, h3")) {
    const t = el.textContent.replace(/[\u200b#¶]/g, "").replace(/\s+/g, " ").trim();
    if (!t || t.length > 80 || seen.has(t.toLowerCase())) continue;
    seen.add(t.toLowerCase());
    out.push(/\?$/.test(t) ? t : `What does the book say about “${t}”?`);
    if (out.length === 3) break;
  }
  return out;
}
