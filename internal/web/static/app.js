// The reader's entry point: reads what the server put on <body> and starts
// the parts this page needs.
import { createClient } from "./api.js";
import { initForm, initNav, loginURL } from "./auth.js";
import { $ } from "./dom.js";

const data = document.body.dataset;
const view = data.view || "";
const client = createClient({ apiBase: data.apiBase || "", authBase: data.authBase || "" });

initNav(client, view);

// Which parts a page has is the server's to say (web.Layout): the scripts
// start what the page holds.
initForm(view, client); // the sign-in, sign-up and password forms, where there is one

if (view === "account") import("./account.js").then((m) => m.initAccount(client));

initDrawer($("#toc-toggle"), $("#toc"));

// initDrawer makes the contents, on a narrow screen, a drawer behind the
// toggle: Escape or a click outside closes it, and the focus returns to
// the toggle. Without the scripts the contents stay above the page.
function initDrawer(toggle, toc) {
  if (!toggle || !toc) return;
  document.body.classList.add("drawer");
  toggle.hidden = false;
  const set = (open, focus) => {
    toc.classList.toggle("open", open);
    toggle.setAttribute("aria-expanded", String(open));
    if (open) (toc.querySelector('[aria-current="page"]') || toc.querySelector("a"))?.focus();
    else if (focus) toggle.focus();
  };
  toggle.addEventListener("click", () => set(!toc.classList.contains("open"), true));
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && toc.classList.contains("open")) set(false, true);
  });
  document.addEventListener("click", (e) => {
    if (toc.classList.contains("open") && !toc.contains(e.target) && !toggle.contains(e.target)) set(false, false);
  });
}

const toggle = $("#chat-toggle");
const panel = $("#chat-panel");
if (toggle && panel) {
  import("./chat.js").then(({ mountChat, questionsFrom }) => {
    const here = location.pathname + location.search;
    const article = $("article.doc");
    const chat = mountChat({
      client, toggle, panel, page: data.page || "",
      login: loginURL(here), signup: "/signup?next=" + encodeURIComponent(here),
      suggest: () => questionsFrom(article),
    });
    if (article) import("./selection.js").then((m) => m.mountSelection(article, chat));
  });
}
