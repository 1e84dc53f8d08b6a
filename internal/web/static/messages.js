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
// open there, in a new tab; or, when siteDocs is set (the path under which
// the site serves the book's pages, "/docs" on a Docusaurus site), links
// to the book's pages open the site's own, in the same tab.
export function createAnswers({ client, bookBase = "", siteDocs = null }) {
  const href = (u) => {
    try {
      const url = new URL(u, bookBase || location.href);
      if (!/^https?:$/.test(url.protocol)) return null;
      if (siteDocs != null && bookBase && url.origin === new URL(bookBase).origin && url.pathname.startsWith("/docs/")) {
        return location.origin + siteDocs.replace(/\/$/, "") + url.pathname.slice("/docs".length) + url.hash;
      }
      return bookBase ? url.href : u;
    } catch {
      return null;
    }
  };
  // Links to the site's own pages stay in its tab; others open a new one.
  const newTab = (u) => !!bookBase && !(siteDocs != null && u?.startsWith(location.origin + "/"));

  function sources(list = []) {
    if (!list.length) return "";
    return h("ol", { class: "sources", "aria-label": "Sources" }, ...list.map((s) => h("li", {},
      h("a", { href: href(s.url), target: newTab(href(s.url)) ? "_blank" : null, text: s.heading && s.heading !== s.title ? `${s.title} › ${s.heading}` : s.title }),
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
        if (u && newTab(u)) Object.assign(a, { href: u, target: "_blank", rel: "noopener" });
        else if (u) a.href = u;
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

// draft shows an answer as it streams in, as the Markdown it will be once
// finished: paragraphs, lists, code blocks, **bold**, *emphasis* and
// `code`, built as elements from text (no HTML is parsed), so that no raw
// "**" shows while the reader waits. The finished answer replaces it with
// the server's sanitized rendering.
export function draft(text) {
  const out = [];
  const blocks = text.split(/\n{2,}/);
  for (let i = 0; i < blocks.length; i++) {
    let b = blocks[i];
    if (/^```/.test(b)) {
      // A code block runs to its closing fence, blank lines and all.
      while (!/\n```\s*$/.test(b) && i + 1 < blocks.length) b += "\n\n" + blocks[++i];
      out.push(h("pre", {}, h("code", { text: b.replace(/^```[^\n]*\n?/, "").replace(/\n?```\s*$/, "") })));
      continue;
    }
    const lines = b.split("\n");
    if (lines.every((l) => /^\s*([-*]|\d+\.)\s+/.test(l))) {
      const ordered = /^\s*\d+\./.test(lines[0]);
      out.push(h(ordered ? "ol" : "ul", {}, ...lines.map((l) => h("li", {}, ...inline(l.replace(/^\s*([-*]|\d+\.)\s+/, ""))))));
    } else if (b.trim()) {
      out.push(h("p", {}, ...inline(b)));
    }
  }
  return out;
}

// inline turns **bold**, *emphasis* (or _emphasis_) and `code` of a
// paragraph into elements; an unclosed mark stays as it is typed.
function inline(text) {
  const nodes = [];
  const re = /`([^`]+)`|\*\*([^*]+)\*\*|\*([^*\s][^*]*)\*|_([^_\s][^_]*)_/g;
  let last = 0;
  for (let m; (m = re.exec(text));) {
    if (m.index > last) nodes.push(text.slice(last, m.index));
    if (m[1] != null) nodes.push(h("code", { text: m[1] }));
    else if (m[2] != null) nodes.push(h("strong", { text: m[2] }));
    else nodes.push(h("em", { text: m[3] ?? m[4] }));
    last = re.lastIndex;
  }
  if (last < text.length) nodes.push(text.slice(last));
  return nodes;
}
