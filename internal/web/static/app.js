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
