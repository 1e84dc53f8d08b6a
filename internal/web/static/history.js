// The list of the reader's conversations in the assistant's panel: open
// one, rename it, delete it. It owns the list element and nothing else.
import { errorText, h } from "./dom.js";
import { iconButton } from "./messages.js";

const enc = encodeURIComponent;

// createHistory fills list with the reader's conversations when shown.
// button is the toggle that shows it; current() is the conversation on
// screen; onOpen(id) opens one; onDeleted(id) is told of a deletion.
export function createHistory({ client, list, button, current, onOpen, onDeleted }) {
  async function show(visible, cursor = "") {
    list.hidden = !visible;
    button.setAttribute("aria-expanded", String(visible));
    if (!visible) return;
    if (!cursor) list.replaceChildren(h("li", { class: "muted", text: "Loading…" }));
    try {
      const r = await client.api(`/api/conversations?limit=30${cursor ? "&cursor=" + enc(cursor) : ""}`);
      if (!cursor) list.replaceChildren();
      list.append(...r.conversations.map(item));
      if (!list.children.length) list.append(h("li", { class: "muted", text: "No conversations yet." }));
      if (r.next_cursor) {
        const more = h("li", { class: "more" }, h("button", { type: "button", class: "button", text: "Show older",
          onclick: () => { more.remove(); show(true, r.next_cursor); } }));
        list.append(more);
      }
    } catch (e) {
      list.replaceChildren(h("li", { class: "message-error", text: errorText(e) }));
    }
  }

  function item(c) {
    const li = h("li", { class: "conversation", "data-id": c.id });
    const openBtn = h("button", { type: "button", class: "open", text: c.title || "Untitled",
      "aria-current": c.id === current() ? "true" : null, onclick: () => onOpen(c.id) });
    const when = h("span", { class: "when", text: new Date(c.updated_at).toLocaleDateString(undefined, { month: "short", day: "numeric" }) });
    const ren = iconButton("rename", "", "edit", rename);
    const del = iconButton("delete", "", "trash", askDelete);
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
        const nextFocus = li.nextElementSibling?.querySelector("button") || li.previousElementSibling?.querySelector("button") || button;
        li.remove();
        onDeleted(c.id);
        if (!list.querySelector(".conversation")) list.replaceChildren(h("li", { class: "muted", text: "No conversations yet." }));
        nextFocus.focus();
      });
      li.replaceChildren(msg, yes, keep);
      keep.focus();
    }
    return li;
  }

  return { show };
}
