// The menu that appears over a selection in the book's text: ask about it,
// or summarize it.
import { h } from "./dom.js";

// mountSelection offers the menu for selections inside article; place puts
// the menu in the page (by default right after article, next in the tab
// order; the widget keeps it in its shadow root).
export function mountSelection(article, chat, place = (menu) => article.after(menu)) {
  let text = "";
  const ask = h("button", { id: "ask-about", type: "button", text: "Ask about this" });
  const sum = h("button", { id: "summarize-selection", type: "button", text: "Summarize" });
  const menu = h("div", { id: "selection-menu", class: "selection-menu", role: "toolbar", "aria-label": "Selected text", hidden: true }, ask, sum);
  place(menu);

  // Clicking the menu must not clear the selection.
  menu.addEventListener("mousedown", (e) => e.preventDefault());
  ask.addEventListener("click", () => { hide(); chat.quote(text); });
  sum.addEventListener("click", () => {
    hide();
    chat.ask({ agent_type: "summarizer", query: "Summarize this passage", highlighted_text: text });
  });

  function hide() { menu.hidden = true; }

  function update() {
    const sel = getSelection();
    const range = sel.rangeCount && !sel.isCollapsed ? sel.getRangeAt(0) : null;
    if (!range || !article.contains(range.commonAncestorContainer) || !sel.toString().trim()) return hide();
    text = sel.toString(); // the full selection, as the reader made it
    const r = range.getBoundingClientRect();
    menu.hidden = false;
    const w = menu.offsetWidth, ht = menu.offsetHeight;
    // Above the selection, or below it when there is no room under the header.
    let top = r.top - ht - 8;
    if (top < 64) top = r.bottom + 8;
    const left = Math.max(8, Math.min(r.left + r.width / 2 - w / 2, document.documentElement.clientWidth - w - 8));
    menu.style.top = `${Math.round(top + scrollY)}px`;
    menu.style.left = `${Math.round(left + scrollX)}px`;
  }

  let timer;
  document.addEventListener("selectionchange", () => {
    clearTimeout(timer);
    timer = setTimeout(update, 120);
  });
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") hide(); });
}
