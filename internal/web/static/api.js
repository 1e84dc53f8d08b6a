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

// expOf reads the exp claim (seconds) of a JWT without verifying it: the
// client only needs to know when to fetch a new one.
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
  let jwt = "", exp = 0, pending = null, sess = null;
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

  // session resolves to {session, user} or null (a guest); cached.
  function session(fresh = false) {
    if (!sess || fresh) sess = auth("get-session").catch(() => null);
    return sess;
  }

  // token returns a JWT, fetching a new one a minute before it expires.
  function token(force = false) {
    if (!force && jwt && Date.now() / 1000 < exp - 60) return Promise.resolve(jwt);
    pending ??= auth("token")
      .then((r) => { jwt = r.token; exp = expOf(jwt); return jwt; })
      .catch((e) => { if (e.status === 401) signedOut(); throw e; })
      .finally(() => { pending = null; });
    return pending;
  }

  function signedOut() {
    jwt = "";
    sess = Promise.resolve(null);
    listeners.forEach((f) => f());
  }

  // api calls the API with the bearer token; on a 401 it fetches a new
  // token once and tries again. raw answers the Response itself.
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

  // stream posts a question to /api/agents/stream and calls onEvent(name,
  // data) for each Server-Sent Event until the stream ends.
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
