// Small DOM helpers shared by every module.

export const $ = (sel, root = document) => root.querySelector(sel);

// h builds an element: h("button", {class: "x", text: "Hi", onclick: f}, child…).
// Text goes in as textContent; false or null attributes are left out.
export function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v == null) continue;
    if (k === "text") el.textContent = v;
    else if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  el.append(...kids.filter((k) => k != null && k !== false));
  return el;
}

// Icons: 24×24 stroked paths; the button that holds one carries the aria-label.
const ICONS = {
  chat: "M21 12a8 8 0 0 1-11.6 7.1L4 21l1.9-5.4A8 8 0 1 1 21 12z",
  close: "M6 6l12 12M18 6L6 18",
  plus: "M12 5v14M5 12h14",
  history: "M3 12a9 9 0 1 0 3-6.7L3 8M3 3v5h5M12 7v5l3 3",
  send: "M4 12l16-8-6 16-2-7z",
  up: "M7 11v9H4v-9zM7 11l4-8a2 2 0 0 1 2 2v4h5.5a2 2 0 0 1 2 2.3l-1.2 7A2 2 0 0 1 17.3 20H7",
  down: "M17 13V4h3v9zM17 13l-4 8a2 2 0 0 1-2-2v-4H5.5a2 2 0 0 1-2-2.3l1.2-7A2 2 0 0 1 6.7 4H17",
  copy: "M9 9h11v11H9zM5 15H4V4h11v1",
  edit: "M4 20h4L19 9l-4-4L4 16zM14 6l4 4",
  trash: "M4 7h16M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3",
};
const SVG = "http://www.w3.org/2000/svg";
export function icon(name) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", "icon");
  const p = document.createElementNS(SVG, "path");
  p.setAttribute("d", ICONS[name]);
  svg.append(p);
  return svg;
}

// safeNext keeps a path on this site ("/docs/x"), else "/" (the server checks too).
export function safeNext(p) {
  return typeof p === "string" && /^\/(?![/\\])/.test(p) && !p.includes("\\") ? p : "/";
}

// Human words for the error codes a reader can meet.
const MESSAGES = {
  NETWORK: "Could not reach the server. Check your connection and try again.",
  INVALID_EMAIL_OR_PASSWORD: "Wrong email or password.",
  USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL: "An account with this email already exists. Sign in instead, or use another email.",
  PASSWORD_TOO_SHORT: "The password is too short: use at least 8 characters.",
  PASSWORD_TOO_LONG: "The password is too long: use at most 128 characters.",
  INVALID_PASSWORD: "That password is not right.",
  INVALID_EMAIL: "Enter a valid email address.",
  INVALID_TOKEN: "This reset link is invalid or has expired. Ask for a new one.",
  DAILY_BUDGET_EXCEEDED: "You have reached today's limit of questions. It resets at midnight UTC.",
  SERVICE_UNAVAILABLE: "The assistant is not available right now. Please try again in a moment.",
};

export function errorText(e) {
  if (e && (e.code === "RATE_LIMITED" || (e.status === 429 && e.code !== "DAILY_BUDGET_EXCEEDED"))) {
    return `Too many attempts. Please wait ${e.retryAfter ? e.retryAfter + " seconds" : "a moment"} and try again.`;
  }
  return (e && MESSAGES[e.code]) || (e && e.message) || "Something went wrong. Please try again.";
}

// onSubmit runs fn(values, form) on submit (button disabled meanwhile) and
// shows a thrown error in out.
export function onSubmit(form, out, fn) {
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const btn = form.querySelector("[type=submit]");
    if (btn?.disabled) return;
    say(out, "");
    const bad = [...form.elements].find((el) => el.willValidate && !el.checkValidity());
    for (const el of form.elements) if (el.willValidate) el.toggleAttribute("aria-invalid", !el.checkValidity());
    if (bad) {
      say(out, invalidText(bad), true);
      bad.focus();
      return;
    }
    if (btn) btn.disabled = true;
    form.setAttribute("aria-busy", "true");
    try {
      await fn(Object.fromEntries(new FormData(form)), form);
    } catch (e) {
      say(out, errorText(e), true);
    } finally {
      if (btn) btn.disabled = false;
      form.removeAttribute("aria-busy");
    }
  });
}

function invalidText(el) {
  const label = el.labels?.[0]?.textContent.trim() || el.name;
  return el.validity.valueMissing ? `${label}: this field is required.` : `${label}: ${el.validationMessage}`;
}

// say writes a status or error message (textContent) into out.
export function say(out, text, isError = false) {
  if (!out) return;
  out.textContent = text;
  out.classList.toggle("error", isError);
}

// store wraps sessionStorage, which may be unavailable (privacy modes).
export const store = {
  get(k) { try { return sessionStorage.getItem(k); } catch { return null; } },
  set(k, v) { try { v ? sessionStorage.setItem(k, v) : sessionStorage.removeItem(k); } catch { /* not kept */ } },
};
