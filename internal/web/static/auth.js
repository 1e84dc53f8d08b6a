// The header's account links, and the sign-in, sign-up, forgot-password and
// reset-password forms.
import { $, h, onSubmit, safeNext, say, store } from "./dom.js";

// here is the current page, for ?next= links back to it.
const here = () => location.pathname + location.search + location.hash;

export function loginURL(next = here()) {
  return "/login?next=" + encodeURIComponent(next);
}

// initNav shows the reader's name and a sign-out button once the session
// is known; guests keep the server-rendered sign-in links.
export async function initNav(client, view) {
  const nav = $("#account-nav");
  if (!nav) return;
  const bookView = !["login", "signup", "forgot", "reset", "account"].includes(view);
  const s = await client.session().catch(() => null);
  if (!s) {
    if (bookView) {
      $("#nav-login", nav)?.setAttribute("href", loginURL());
      $("#nav-signup", nav)?.setAttribute("href", "/signup?next=" + encodeURIComponent(here()));
    }
    return;
  }
  const account = h("a", { id: "nav-account", href: "/account", text: s.user.name || s.user.email });
  if (view === "account") account.setAttribute("aria-current", "page");
  const out = h("button", {
    id: "nav-signout", type: "button", class: "link", text: "Sign out",
    onclick: async () => {
      out.disabled = true;
      try { await client.auth("sign-out", {}); } catch { /* signed out anyway below */ }
      store.set("lectern.conversation", "");
      if (view === "account") location.assign("/");
      else location.reload();
    },
  });
  nav.replaceChildren(account, out);
}

// next is where to go after signing in: the server's checked ?next= (a
// page of a site showing the widget may be given in full), else a local
// path from the address.
function next(form) {
  const checked = form.dataset.next || "";
  if (/^https?:\/\//.test(checked)) return checked;
  return safeNext(checked || new URLSearchParams(location.search).get("next") || "/");
}

const forms = {
  login() {
    const form = $("#login-form");
    onSubmit(form, $("#form-error"), async (v) => {
      await client.auth("sign-in/email", { email: v.email.trim(), password: v.password, rememberMe: !!v.rememberMe });
      location.assign(next(form));
    });
  },

  signup() {
    const form = $("#signup-form");
    onSubmit(form, $("#form-error"), async (v) => {
      await client.auth("sign-up/email", { name: v.name.trim(), email: v.email.trim(), password: v.password });
      location.assign(next(form));
    });
  },

  forgot() {
    const form = $("#forgot-form");
    const status = $("#form-status");
    onSubmit(form, status, async (v) => {
      await client.auth("request-password-reset", { email: v.email.trim(), redirectTo: location.origin + "/reset-password" });
      say(status, `If an account exists for ${v.email.trim()}, we sent it a link to choose a new password. The link works for an hour.`);
    });
  },

  reset() {
    const form = $("#reset-form");
    const status = $("#form-status");
    const q = new URLSearchParams(location.search);
    const token = q.get("token");
    // Keep the token out of the address bar (and history) once read.
    if (token) history.replaceState(null, "", location.pathname);
    if (!token || q.get("error")) {
      say(status, "This reset link is invalid or has expired. Ask for a new one below.", true);
      form.hidden = true;
      return;
    }
    onSubmit(form, status, async (v) => {
      await client.auth("reset-password", { newPassword: v.password, token });
      form.hidden = true;
      say(status, "Your password has been changed, and every device signed out.");
      const a = $("#login-after-reset");
      a.hidden = false;
      a.focus();
    });
  },
};

let client;

// initForm wires the form of an account view (login, signup, forgot, reset).
export function initForm(view, c) {
  client = c;
  forms[view]?.();
}
