// How the assistant's panel shows messages: the reader's questions, the
// answers with their sources and actions, and errors. These functions hold
// no state of their own; an answer's rating lives on its message object.
// Answers are shown only from the server's sanitized HTML; everything else
// goes in as text.
import { errorText, h, icon } from "./dom.js";

const enc = encodeURIComponent;

// iconButton is a button showing only an icon, named by label.
export const iconButton = (cls, label, name, onclick, extra = {}) =>
  h("button", { type: "button", class: `${cls} icon-button`, "aria-label": label, title: label, onclick, ...extra }, icon(name));

// errorBox shows what went wrong, with kids (a retry button) after it.
export const errorBox = (e, ...kids) => h("div", { class: "message-error" }, h("p", { text: errorText(e) }), ...kids);

// userMessage shows a question of the reader's; a leading "> " quote of a
// selection is shown as a quotation.
export function userMessage(text) {
  const el = h("div", { class: "message user" });
  const q = /^(?:> .*(?:\n|$))+/.exec(text);
  if (q) {
    el.append(h("blockquote", { text: q[0].replace(/^> /gm, "").trim() }));
    text = text.slice(q[0].length).trim();
  }
  if (text) el.append(h("p", { text }));
  return el;
}

// createAnswers returns the functions that show answers. bookBase is the
// book's origin when the panel is on another site (the widget): links then
// open there, in a new tab.
export function createAnswers({ client, bookBase = "" }) {
  const href = (u) => {
    try {
      const url = new URL(u, bookBase || location.href);
      return /^https?:$/.test(url.protocol) ? (bookBase ? url.href : u) : null;
    } catch {
      return null;
    }
  };

  function sources(list = []) {
    if (!list.length) return "";
    return h("ol", { class: "sources", "aria-label": "Sources" }, ...list.map((s) => h("li", {},
      h("a", { href: href(s.url), target: bookBase ? "_blank" : null, text: s.heading && s.heading !== s.title ? `${s.title} › ${s.heading}` : s.title }),
      s.page_number ? h("span", { class: "page-number", text: ` · p. ${s.page_number}` }) : "")));
  }

  // finish shows a stored answer {id, content_html, content, sources,
  // rating} in el.
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
    el.replaceChildren(body, sources(m.sources), actions(m, body));
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
    const up = iconButton("rate-up", "Helpful", "up", rate("up"));
    const down = iconButton("rate-down", "Not helpful", "down", rate("down"));
    const press = (r) => {
      m.rating = r;
      up.setAttribute("aria-pressed", String(r === "up"));
      down.setAttribute("aria-pressed", String(r === "down"));
    };
    press(m.rating || null);
    const copy = iconButton("copy", "Copy the answer", "copy", async () => {
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

  // message shows a stored message of either role.
  const message = (m) => (m.role === "user" ? userMessage(m.content) : finish(h("div", { class: "message assistant" }), m));

  return { sources, finish, message };
}
