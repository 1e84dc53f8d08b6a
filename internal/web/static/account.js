// The account page: name, password, devices (sessions), data export and
// deleting the account. Guests are sent to sign in first.
import { $, errorText, h, onSubmit, say, store } from "./dom.js";

export async function initAccount(client) {
  const s = await client.session().catch(() => null);
  if (!s) {
    location.replace("/login?next=/account");
    return;
  }
  $("#account-email").textContent = s.user.email;
  const nameForm = $("#name-form");
  nameForm.elements.name.value = s.user.name;

  onSubmit(nameForm, $("#name-status"), async (v) => {
    const name = v.name.trim();
    await client.auth("update-user", { name });
    say($("#name-status"), "Your name is saved.");
    const nav = $("#nav-account");
    if (nav) nav.textContent = name || s.user.email;
  });

  const pwForm = $("#password-form");
  onSubmit(pwForm, $("#password-status"), async (v) => {
    await client.auth("change-password", {
      currentPassword: v.currentPassword, newPassword: v.newPassword, revokeOtherSessions: !!v.revokeOtherSessions,
    });
    pwForm.reset();
    say($("#password-status"), v.revokeOtherSessions ? "Password changed; your other devices are signed out." : "Password changed.");
    if (v.revokeOtherSessions) sessions();
  });

  // Devices.
  const list = $("#sessions-list");
  const status = $("#sessions-status");
  async function sessions() {
    try {
      const all = await client.auth("list-sessions");
      all.sort((a, b) => (a.id === s.session.id ? -1 : b.id === s.session.id ? 1 : b.updatedAt.localeCompare(a.updatedAt)));
      list.replaceChildren(...all.map(row));
    } catch (e) {
      say(status, errorText(e), true);
    }
  }
  function row(x) {
    const current = x.id === s.session.id;
    const what = device(x.userAgent);
    const li = h("li", { class: current ? "session current" : "session", "aria-current": current ? "true" : null },
      h("span", { class: "device", text: what }),
      h("span", { class: "where", text: [x.ipAddress, "since " + new Date(x.createdAt).toLocaleString()].filter(Boolean).join(" · ") }));
    if (current) li.append(h("strong", { class: "badge", text: "This device" }));
    else {
      const b = h("button", { type: "button", class: "revoke button", text: "Sign out", "aria-label": `Sign out ${what}, since ${new Date(x.createdAt).toLocaleString()}` });
      b.addEventListener("click", async () => {
        b.disabled = true;
        try {
          await client.auth("revoke-session", { token: x.token });
          say(status, `Signed out ${what}.`);
          sessions();
          $("#sign-out-everywhere").focus();
        } catch (e) {
          b.disabled = false;
          say(status, errorText(e), true);
        }
      });
      li.append(b);
    }
    return li;
  }
  sessions();

  $("#sign-out-everywhere").addEventListener("click", async (e) => {
    e.currentTarget.disabled = true;
    try {
      await client.auth("revoke-sessions", {});
      store.set("lectern.conversation", "");
      location.assign("/");
    } catch (err) {
      e.currentTarget.disabled = false;
      say(status, errorText(err), true);
    }
  });

  // Export: everything stored, as a JSON file.
  $("#export-data")?.addEventListener("click", async (e) => {
    const b = e.currentTarget;
    b.disabled = true;
    say($("#export-status"), "Preparing your data…");
    try {
      const res = await client.api("/api/users/me/export", { raw: true });
      const a = h("a", { href: URL.createObjectURL(await res.blob()), download: "lectern-export.json" });
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
      say($("#export-status"), "Your data was downloaded as lectern-export.json.");
    } catch (err) {
      say($("#export-status"), errorText(err), true);
    } finally {
      b.disabled = false;
    }
  });

  onSubmit($("#delete-form"), $("#delete-status"), async (v) => {
    await client.auth("delete-user", { password: v.password });
    store.set("lectern.conversation", "");
    location.assign("/");
  });

  // The buttons come disabled, so that nothing is clicked or submitted
  // before the handlers above are in place (the reader's session is
  // fetched first).
  for (const b of document.querySelectorAll("button[data-until-ready]")) b.disabled = false;
}

// device names a browser and system from a User-Agent, roughly.
function device(ua = "") {
  const b = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" : /Chrom(e|ium)\//.test(ua) ? "Chrome"
    : /Safari\//.test(ua) ? "Safari" : "A browser";
  const os = /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Windows/.test(ua) ? "Windows"
    : /Mac OS X/.test(ua) ? "macOS" : /Linux/.test(ua) ? "Linux" : "";
  return os ? `${b} on ${os}` : b;
}
