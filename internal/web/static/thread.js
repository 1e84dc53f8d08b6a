// The conversation shown in the assistant's panel. It owns which
// conversation that is (kept across pages), its loading, and the answer
// being streamed, so that nothing else changes them.
import { ApiError } from "./api.js";
import { h, store } from "./dom.js";
import { draft, errorBox, userMessage } from "./messages.js";

const KEY = "lectern.conversation";
const QUOTED_KEY = "lectern.quotedNotice"; // set once the reader has been told answers are quotations
const enc = encodeURIComponent;

// createThread shows the conversation in log. answers renders messages
// (messages.js); hint is shown while the conversation is empty; notice the
// one-time note that answers are quotations; onBusy(true|false) is told
// when an answer starts and ends.
export function createThread({ client, log, hint, notice, answers, onBusy }) {
  let conv = store.get(KEY) || ""; // the conversation's id; "" for a new one
  let loaded = null;               // promise: its messages are shown
  let ctrl = null;                 // aborts the answer being streamed

  const setConv = (id) => { conv = id || ""; store.set(KEY, conv); };

  // follow scrolls the log to its end, but no further than the question
  // at the top, so a long answer is read from its beginning.
  const follow = (q) => { log.scrollTop = Math.min(log.scrollHeight - log.clientHeight, q.offsetTop - log.offsetTop - 8); };

  // ask adds the question {query, highlighted_text?, agent_type,
  // current_page?} to the conversation and streams its answer.
  async function ask(body) {
    await ensureLoaded();
    const q = userMessage(body.query);
    const el = h("div", { class: "message assistant" });
    hint.hidden = true;
    log.append(q, el);
    run({ q, el, body });
  }

  // run streams the answer of turn.body into turn.el; a failure shows a
  // retry button that sends the same question to the same conversation.
  async function run(turn) {
    const { el } = turn;
    const text = h("div", { class: "streaming" });
    const body = h("div", { class: "message-body" }, text);
    let written = "";
    const typing = h("span", { class: "typing" }, h("span"), h("span"), h("span"),
      h("span", { class: "visually-hidden", text: "The assistant is writing" }));
    el.replaceChildren(body, typing);
    el.removeAttribute("data-id");
    follow(turn.q);
    const mine = (ctrl = new AbortController());
    onBusy(true);
    log.setAttribute("aria-busy", "true");
    turn.body.session_id = conv;
    let done = false;
    try {
      await client.stream(turn.body, (event, d) => {
        if (event === "start") setConv(d.session_id);
        else if (event === "sources") {
          el.append(answers.sources(d.sources));
          if (d.quoted && !store.get(QUOTED_KEY)) {
            notice.hidden = false;
            store.set(QUOTED_KEY, "1");
          }
        } else if (event === "delta") {
          written += d.text;
          text.replaceChildren(...draft(written));
          follow(turn.q);
        } else if (event === "done") {
          done = true;
          answers.finish(el, { id: d.message_id, content_html: d.message_html, content: d.message, sources: d.sources });
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

  // stop abandons the answer being streamed, if any.
  function stop() {
    ctrl?.abort();
    ctrl = null;
    onBusy(false);
    log.removeAttribute("aria-busy");
  }

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
        log.append(...r.messages.map(answers.message));
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

  // show switches to conversation id ("" for a new one).
  function show(id) {
    stop();
    setConv(id);
    loaded = load(id);
  }

  return {
    ask, stop, ensureLoaded, show,
    current: () => conv,
    busy: () => ctrl !== null,
  };
}
