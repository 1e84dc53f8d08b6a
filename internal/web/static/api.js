// The HTTP client: the identity service (cookie session) and the API
// (bearer JWT, kept in memory only), including the answer stream.

export class ApiError extends Error {
  constructor(message, code, status = 0, retryAfter = 0) {
    super(message);
    this.code = code;
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

async function send(url, opts) {
  try {
    return await fetch(url, opts);
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError("Could not reach the server.", "NETWORK");
  }
}

// fail turns an error response ({message, code}) into an ApiError.
async function fail(res) {
  let body = null;
  try { body = await res.json(); } catch { /* not JSON */ }
  throw new ApiError(body?.message || `Request failed (${res.status})`, body?.code || `HTTP_${res.status}`,
    res.status, parseInt(res.headers.get("Retry-After"), 10) || 0);
}

// expOf reads a JWT's exp (seconds), unverified: only to know when to renew.
function expOf(jwt) {
  try {
    const p = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(p)).exp || 0;
  } catch {
    return 0;
  }
}

// createClient talks to the identity service at authBase and the API at
// apiBase ("" = this origin).
export function createClient({ apiBase = "", authBase = "" } = {}) {
  let jwt = "", exp = 0, pending = null, sess = null, timer = 0;
  const listeners = new Set();

  // auth calls /api/auth/<path>: GET without a body, POST with one.
  async function auth(path, body) {
    const res = await send(`${authBase}/api/auth/${path}`, {
      method: body ? "POST" : "GET",
      credentials: "include",
      cache: "no-store",
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) await fail(res);
    const text = await res.text();
    return text ? JSON.parse(text) : null;
  }

  // session resolves to {session, user} or null (a guest); cached. It
  // rejects with a NETWORK ApiError when the server cannot be reached at
  // all (down, or a browser refusing the request: CORS, CSP), which is not
  // the same as being signed out.
  function session(fresh = false) {
    if (!sess || fresh) sess = auth("get-session").catch((e) => { if (e.code === "NETWORK") throw e; return null; });
    return sess;
  }

  // token returns a JWT; a new one is fetched a minute before it expires.
  function token(force = false) {
    if (!force && jwt && Date.now() / 1000 < exp - 60) return Promise.resolve(jwt);
    pending ??= auth("token")
      .then((r) => {
        jwt = r.token;
        exp = expOf(jwt);
        clearTimeout(timer);
        if (exp) timer = setTimeout(() => token(true).catch(() => {}), Math.max(5e3, (exp - 60) * 1e3 - Date.now()));
        return jwt;
      })
      .catch((e) => { if (e.status === 401) signedOut(); throw e; })
      .finally(() => { pending = null; });
    return pending;
  }

  function signedOut() {
    jwt = "";
    clearTimeout(timer);
    sess = Promise.resolve(null);
    listeners.forEach((f) => f());
  }

  // api calls the API with the bearer token; on a 401 it gets a new token
  // and tries once more. raw answers the Response.
  async function api(path, { method = "GET", body, signal, raw = false } = {}) {
    for (let attempt = 0; ; attempt++) {
      const t = await token(attempt > 0);
      const headers = { Authorization: `Bearer ${t}` };
      if (body) headers["Content-Type"] = "application/json";
      const res = await send(apiBase + path, { method, headers, signal, body: body ? JSON.stringify(body) : undefined });
      if (res.status === 401 && attempt === 0) continue;
      if (!res.ok) await fail(res);
      if (raw) return res;
      return res.status === 204 ? null : res.json();
    }
  }

  // stream posts to /api/agents/stream and calls onEvent(name, data) per event.
  async function stream(body, onEvent, signal) {
    const res = await api("/api/agents/stream", { method: "POST", body, signal, raw: true });
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += value;
        let i;
        while ((i = buf.search(/\r?\n\r?\n/)) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i).replace(/^\r?\n\r?\n/, "");
          let event = "message";
          const data = [];
          for (const line of block.split(/\r?\n/)) {
            if (line.startsWith("event:")) event = line.slice(6).trim();
            else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
          }
          if (data.length) onEvent(event, JSON.parse(data.join("\n")));
        }
      }
    } finally {
      reader.cancel().catch(() => {});
    }
  }

  return {
    apiBase, authBase, auth, session, token, api, stream,
    // onSignedOut(f): f runs when the session turns out to be gone.
    onSignedOut: (f) => listeners.add(f),
  };
}
