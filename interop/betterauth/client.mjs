// Interoperability test: the OFFICIAL Better Auth client (better-auth/client +
// jwtClient()) against a running `lectern serve`.
//
//   LECTERN_URL=http://127.0.0.1:8080 node client.mjs
//
// Optional: LECTERN_JWT_ALG=RS256|ES256|EdDSA makes the test also require that
// the JWT header and the JWKS key use that algorithm.
//
// Node has no cookie jar, so (as a Node app using Better Auth would) we give the
// client a customFetchImpl that keeps one and sends Cookie + Origin headers
// (Origin is required for any POST that carries a Cookie; see
// shared/reference/better-auth-wire.md §7 and §9).
//
// Every step is asserted with node:assert/strict. The script prints one line
// per step, then "N passed, M failed", and exits 1 if anything failed.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import { createAuthClient } from "better-auth/client";
import { jwtClient } from "better-auth/client/plugins";

const BASE = process.env.LECTERN_URL;
if (!BASE) {
	console.error("LECTERN_URL is not set (e.g. LECTERN_URL=http://127.0.0.1:8080)");
	process.exit(2);
}
const ORIGIN = new URL(BASE).origin;
const EXPECTED_ALG = process.env.LECTERN_JWT_ALG || "";
const REQUEST_TIMEOUT_MS = 15_000;
const VERBOSE = process.env.INTEROP_VERBOSE === "1";

// Whole-run watchdog: never hang a CI job.
setTimeout(() => {
	console.error("FATAL: interop test did not finish within 120 s");
	process.exit(3);
}, 120_000).unref();

// ---------------------------------------------------------------------------
// Cookie jar + fetch wrapper

/** name -> value of every live cookie the server has set. */
const jar = new Map();

/** Raw wire view of each response: Response -> {method, url, status, headers, setCookie, text}. */
const raw = new WeakMap();

/** Parses one Set-Cookie header into {name, value, attrs (lower-cased keys)}. */
function parseSetCookie(line) {
	const [pair, ...attrParts] = line.split(";");
	const eq = pair.indexOf("=");
	const name = pair.slice(0, eq).trim();
	const value = pair.slice(eq + 1).trim();
	const attrs = {};
	for (const a of attrParts) {
		const i = a.indexOf("=");
		const k = (i < 0 ? a : a.slice(0, i)).trim().toLowerCase();
		attrs[k] = i < 0 ? true : a.slice(i + 1).trim();
	}
	return { name, value, attrs };
}

function storeCookies(setCookies) {
	for (const line of setCookies) {
		const c = parseSetCookie(line);
		if (!c.name) continue;
		const expired =
			(c.attrs["max-age"] !== undefined && Number(c.attrs["max-age"]) <= 0) ||
			(typeof c.attrs.expires === "string" && Date.parse(c.attrs.expires) <= Date.now());
		if (expired) jar.delete(c.name);
		else jar.set(c.name, c.value);
	}
}

/**
 * The cookies of the Better Auth session: every cookie but Lectern's own
 * mark that a device signed in (`known_device`), which outlives sessions
 * on purpose so that a lockout by others spares the owner's device
 * (docs/security.md). Better Auth's client neither reads nor needs it.
 */
function sessionCookies() {
	return [...jar.keys()].filter((name) => !name.endsWith("known_device"));
}

function cookieHeader() {
	return [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
}

async function customFetchImpl(input, init = {}) {
	const headers = new Headers(init.headers);
	if (jar.size > 0) headers.set("cookie", cookieHeader());
	else headers.delete("cookie");
	headers.set("origin", ORIGIN);
	const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
	const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
	const method = (init.method || "GET").toUpperCase();
	const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;

	const res = await fetch(input, { ...init, headers, signal });

	const setCookie = res.headers.getSetCookie();
	storeCookies(setCookie);
	const text = await res.clone().text();
	raw.set(res, { method, url, status: res.status, headers: res.headers, setCookie, text });
	if (VERBOSE) {
		console.log(`    >> ${method} ${url}  cookie=[${headers.get("cookie") ?? ""}]`);
		console.log(`    << ${res.status} ${text.slice(0, 300)}`);
		for (const sc of setCookie) console.log(`    << set-cookie: ${sc}`);
	}
	return res;
}

const authClient = createAuthClient({
	baseURL: BASE,
	plugins: [jwtClient()],
	fetchOptions: { customFetchImpl },
});

/**
 * Runs one client call and returns {data, error, wire}. `invoke` receives the
 * fetchOptions to pass through (they carry hooks that capture the Response,
 * so the raw status, headers and body text can be asserted too).
 */
async function call(invoke) {
	let response = null;
	const fetchOptions = {
		onResponse(ctx) {
			response = ctx.response;
		},
	};
	const result = await invoke(fetchOptions);
	const wire = response ? raw.get(response) : undefined;
	return { data: result?.data, error: result?.error, wire, response };
}

function describe(r) {
	if (!r?.wire) return "(no response captured)";
	return `${r.wire.method} ${r.wire.url} -> ${r.wire.status} ${r.wire.text.slice(0, 400)}`;
}

// ---------------------------------------------------------------------------
// JWT helpers (verification with node:crypto only)

function b64urlJSON(part) {
	return JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
}

const JWT_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

function decodeJWT(token) {
	assert.equal(typeof token, "string", "JWT must be a string");
	assert.match(token, JWT_RE, "JWT must be three base64url segments");
	const [h, p, s] = token.split(".");
	return { header: b64urlJSON(h), payload: b64urlJSON(p), signingInput: `${h}.${p}`, signature: Buffer.from(s, "base64url") };
}

function assertJWTShape(token, what) {
	const { header, payload } = decodeJWT(token);
	assert.ok(["RS256", "ES256", "EdDSA"].includes(header.alg), `${what}: unexpected alg ${header.alg}`);
	assert.equal(typeof header.kid, "string", `${what}: header has no kid`);
	if (EXPECTED_ALG) assert.equal(header.alg, EXPECTED_ALG, `${what}: alg`);
	return { header, payload };
}

/** Verifies a compact JWS against a JWKS document; returns the decoded JWT. */
function verifyJWT(token, jwks) {
	const jwt = decodeJWT(token);
	const { header } = jwt;
	const jwk = jwks.keys.find((k) => k.kid === header.kid);
	assert.ok(jwk, `no JWKS key with kid ${header.kid} (have: ${jwks.keys.map((k) => k.kid).join(", ")})`);
	if (jwk.alg !== undefined) assert.equal(jwk.alg, header.alg, "JWK alg vs JWT header alg");

	const { kid, alg, use, key_ops, ...material } = jwk; // node accepts only key material here
	const key = crypto.createPublicKey({ key: material, format: "jwk" });
	const data = Buffer.from(jwt.signingInput);
	let ok;
	switch (header.alg) {
		case "RS256":
			assert.equal(jwk.kty, "RSA");
			ok = crypto.verify("sha256", data, key, jwt.signature);
			break;
		case "ES256":
			assert.equal(jwk.kty, "EC");
			assert.equal(jwk.crv, "P-256");
			assert.equal(jwt.signature.length, 64, "ES256 signature must be JOSE r||s (64 bytes)");
			ok = crypto.verify("sha256", data, { key, dsaEncoding: "ieee-p1363" }, jwt.signature);
			break;
		case "EdDSA":
			assert.equal(jwk.kty, "OKP");
			assert.equal(jwk.crv, "Ed25519");
			ok = crypto.verify(null, data, key, jwt.signature);
			break;
		default:
			assert.fail(`unsupported alg ${header.alg}`);
	}
	assert.equal(ok, true, `${header.alg} signature does not verify against JWKS key ${header.kid}`);
	return jwt;
}

// ---------------------------------------------------------------------------
// Test data and assertions on shapes

const rand = crypto.randomBytes(6).toString("hex");
const SIGNUP_EMAIL = `Interop.User+${rand}@Example.COM`; // mixed case on purpose
const EMAIL = SIGNUP_EMAIL.toLowerCase();
const NAME = `Interop ${rand}`;
const PASSWORD = `pw-${crypto.randomBytes(12).toString("base64url")}`;

const ID_RE = /^[A-Za-z0-9]{32}$/;
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The client turns ISO strings into Date objects; check both the wire and the parsed form. */
function assertISO(parsed, wireValue, what) {
	assert.equal(typeof wireValue, "string", `${what} on the wire must be a string, got ${JSON.stringify(wireValue)}`);
	assert.match(wireValue, ISO_RE, `${what} must be ISO-8601 UTC with milliseconds`);
	assert.equal(new Date(wireValue).toISOString(), wireValue, `${what} must round-trip through Date`);
	assert.ok(parsed instanceof Date, `${what}: client should have parsed it into a Date`);
	assert.equal(parsed.toISOString(), wireValue);
}

function assertUser(user, wireUser, what = "user") {
	assert.ok(user && typeof user === "object", `${what} missing`);
	assert.ok(wireUser && typeof wireUser === "object", `${what} missing on the wire`);
	assert.match(user.id, ID_RE, `${what}.id must be 32 chars [A-Za-z0-9]`);
	assert.equal(user.name, NAME, `${what}.name`);
	assert.equal(user.email, EMAIL, `${what}.email must be lower-cased`);
	assert.equal(user.emailVerified, false, `${what}.emailVerified`);
	assert.ok("image" in wireUser, `${what}.image must be present (null), not omitted`);
	assert.equal(wireUser.image, null, `${what}.image`);
	assertISO(user.createdAt, wireUser.createdAt, `${what}.createdAt`);
	assertISO(user.updatedAt, wireUser.updatedAt, `${what}.updatedAt`);
}

function wireJSON(r) {
	assert.ok(r.wire, "no response captured");
	return JSON.parse(r.wire.text);
}

// ---------------------------------------------------------------------------
// Steps

const state = {};
const results = [];

async function step(name, fn) {
	try {
		const note = await fn();
		results.push({ name, ok: true });
		console.log(`  ok   ${String(results.length).padStart(2)}  ${name}${note ? `  (${note})` : ""}`);
	} catch (err) {
		results.push({ name, ok: false });
		console.log(`  FAIL ${String(results.length).padStart(2)}  ${name}`);
		const msg = err instanceof assert.AssertionError ? err.message : err?.stack || String(err);
		for (const line of String(msg).split("\n")) console.log(`         ${line}`);
		if (state.lastCall) console.log(`         wire: ${describe(state.lastCall)}`);
	}
	state.lastCall = undefined;
}

function track(r) {
	state.lastCall = r;
	return r;
}

console.log(`Better Auth client interop against ${BASE}${EXPECTED_ALG ? ` (expecting ${EXPECTED_ALG})` : ""}`);
console.log(`  sign-up email: ${SIGNUP_EMAIL}`);

await step("signUp.email returns {token, user} and sets the session cookie", async () => {
	const r = track(
		await call((fetchOptions) =>
			authClient.signUp.email({ name: NAME, email: SIGNUP_EMAIL, password: PASSWORD, fetchOptions }),
		),
	);
	assert.equal(r.error, null, `unexpected error: ${JSON.stringify(r.error)}`);
	assert.equal(r.wire.status, 200);
	const w = wireJSON(r);
	assertUser(r.data.user, w.user);
	assert.match(r.data.token, ID_RE, "data.token must be a 32-char session token");
	assert.ok(jar.has("better-auth.session_token"), `no better-auth.session_token cookie; jar=[${cookieHeader()}]`);
	state.userId = r.data.user.id;
	return `user ${state.userId}, email ${r.data.user.email}`;
});

await step("getSession returns session + user and a set-auth-jwt header", async () => {
	let headerJWT;
	let exposed;
	const r = track(
		await call((fetchOptions) =>
			authClient.getSession({
				fetchOptions: {
					...fetchOptions,
					onSuccess(ctx) {
						headerJWT = ctx.response.headers.get("set-auth-jwt");
						exposed = ctx.response.headers.get("access-control-expose-headers");
					},
				},
			}),
		),
	);
	assert.equal(r.error, null, `unexpected error: ${JSON.stringify(r.error)}`);
	assert.ok(r.data, "data must not be null while signed in");
	const w = wireJSON(r);
	assertUser(r.data.user, w.user);
	assert.equal(r.data.user.id, state.userId);
	const s = r.data.session;
	assert.ok(s, "data.session missing");
	assert.match(s.id, ID_RE, "session.id");
	assert.equal(s.userId, state.userId, "session.userId");
	assert.match(s.token, ID_RE, "session.token");
	assertISO(s.expiresAt, w.session.expiresAt, "session.expiresAt");
	assertISO(s.createdAt, w.session.createdAt, "session.createdAt");
	assert.ok(s.expiresAt.getTime() > Date.now(), "session.expiresAt must be in the future");
	assert.ok(headerJWT, "set-auth-jwt response header missing");
	const { payload } = assertJWTShape(headerJWT, "set-auth-jwt");
	assert.equal(payload.sub, state.userId, "set-auth-jwt sub");
	assert.match(exposed ?? "", /set-auth-jwt/i, "access-control-expose-headers must list set-auth-jwt");
	state.headerJWT = headerJWT;
	return `session ${s.id}, jwt alg ${decodeJWT(headerJWT).header.alg}`;
});

await step("signOut returns {success:true} and clears the cookie jar", async () => {
	const r = track(await call((fetchOptions) => authClient.signOut({ fetchOptions })));
	assert.equal(r.error, null, `unexpected error: ${JSON.stringify(r.error)}`);
	assert.equal(r.data?.success, true, "data.success");
	assert.equal(sessionCookies().length, 0, `session cookies left after sign-out: [${cookieHeader()}]`);
});

await step("getSession after sign-out returns null", async () => {
	const r = track(await call((fetchOptions) => authClient.getSession({ fetchOptions })));
	assert.equal(r.error, null, `unexpected error: ${JSON.stringify(r.error)}`);
	assert.equal(r.wire.status, 200);
	assert.equal(r.data, null, "data must be null without a session");
	assert.equal(r.wire.headers.get("set-auth-jwt"), null, "no set-auth-jwt without a session");
});

await step("signIn.email with the wrong password -> 401 INVALID_EMAIL_OR_PASSWORD", async () => {
	const r = track(
		await call((fetchOptions) =>
			authClient.signIn.email({ email: EMAIL, password: `${PASSWORD}-wrong`, fetchOptions }),
		),
	);
	assert.equal(r.data, null, "data must be null on error");
	assert.ok(r.error, "error expected");
	assert.equal(r.error.status, 401, "error.status");
	assert.equal(r.error.code, "INVALID_EMAIL_OR_PASSWORD", "error.code");
	assert.equal(sessionCookies().length, 0, "a failed sign-in must not set session cookies");
	return r.error.message;
});

await step("signIn.email with the right password returns the same user", async () => {
	const r = track(
		await call((fetchOptions) =>
			// Mixed-case input: sign-in must lower-case it too.
			authClient.signIn.email({ email: SIGNUP_EMAIL, password: PASSWORD, fetchOptions }),
		),
	);
	assert.equal(r.error, null, `unexpected error: ${JSON.stringify(r.error)}`);
	const w = wireJSON(r);
	assertUser(r.data.user, w.user);
	assert.equal(r.data.user.id, state.userId, "user id must equal the sign-up id");
	assert.match(r.data.token, ID_RE, "data.token");
	assert.equal(w.redirect, false, "redirect must be false without callbackURL");
	assert.ok(jar.has("better-auth.session_token"), `no session cookie after sign-in; jar=[${cookieHeader()}]`);
});

await step("getSession after sign-in returns the same user", async () => {
	const r = track(await call((fetchOptions) => authClient.getSession({ fetchOptions })));
	assert.equal(r.error, null, `unexpected error: ${JSON.stringify(r.error)}`);
	assert.ok(r.data, "data must not be null");
	assert.equal(r.data.user.id, state.userId);
	assert.equal(r.data.user.email, EMAIL);
	assert.ok(r.wire.headers.get("set-auth-jwt"), "set-auth-jwt header missing");
});

await step("token() returns a JWT", async () => {
	const r = track(await call((fetchOptions) => authClient.token({ fetchOptions })));
	assert.equal(r.error, null, `unexpected error: ${JSON.stringify(r.error)}`);
	assert.ok(r.data?.token, "data.token missing");
	assertJWTShape(r.data.token, "token()");
	state.jwt = r.data.token;
	return `${decodeJWT(r.data.token).header.alg}, kid ${decodeJWT(r.data.token).header.kid}`;
});

await step("jwks() returns keys with kid", async () => {
	const r = track(await call((fetchOptions) => authClient.jwks(fetchOptions)));
	assert.equal(r.error, null, `unexpected error: ${JSON.stringify(r.error)}`);
	assert.ok(Array.isArray(r.data?.keys), "data.keys must be an array");
	assert.ok(r.data.keys.length > 0, "JWKS is empty");
	for (const k of r.data.keys) {
		assert.equal(typeof k.kid, "string", "every key needs a kid");
		assert.ok(k.kid.length > 0);
		assert.equal(typeof k.kty, "string", "every key needs a kty");
		assert.ok(!("d" in k) && !("p" in k) && !("q" in k), `JWKS key ${k.kid} leaks private material`);
	}
	state.jwks = r.data;
	return r.data.keys.map((k) => `${k.alg ?? "?"}/${k.kid}`).join(", ");
});

await step("the token() JWT verifies against the JWKS and carries the expected claims", async () => {
	assert.ok(state.jwt && state.jwks, "needs the token() and jwks() steps");
	const { header, payload } = verifyJWT(state.jwt, state.jwks);
	assert.equal(payload.sub, state.userId, "sub");
	assert.equal(payload.id, state.userId, "id");
	assert.equal(payload.iss, BASE, "iss");
	assert.equal(payload.aud, BASE, "aud (a string)");
	assert.equal(payload.email, EMAIL, "email");
	assert.equal(payload.name, NAME, "name");
	assert.equal(Number.isInteger(payload.iat), true, "iat must be an integer");
	assert.equal(Number.isInteger(payload.exp), true, "exp must be an integer");
	assert.equal(payload.exp - payload.iat, 900, "exp - iat");
	const now = Math.floor(Date.now() / 1000);
	assert.ok(Math.abs(payload.iat - now) <= 60, `iat ${payload.iat} is far from now ${now}`);
	// The verifier must not be vacuous: a token with an altered payload has to fail.
	const [h, , s] = state.jwt.split(".");
	const forged = `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: "x".repeat(32) })).toString("base64url")}.${s}`;
	assert.throws(() => verifyJWT(forged, state.jwks), /signature does not verify/, "a forged payload must not verify");
	return `${header.alg} signature ok, sub=${payload.sub}`;
});

await step("the set-auth-jwt header JWT also verifies against the JWKS", async () => {
	assert.ok(state.headerJWT && state.jwks, "needs the getSession and jwks() steps");
	const { payload } = verifyJWT(state.headerJWT, state.jwks);
	assert.equal(payload.sub, state.userId, "sub");
	assert.equal(payload.iss, BASE, "iss");
	assert.equal(payload.aud, BASE, "aud");
	assert.equal(payload.exp - payload.iat, 900, "exp - iat");
});

await step("signUp.email with the same email -> 422 USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", async () => {
	const r = track(
		await call((fetchOptions) =>
			authClient.signUp.email({ name: NAME, email: SIGNUP_EMAIL, password: PASSWORD, fetchOptions }),
		),
	);
	assert.equal(r.data, null, "data must be null on error");
	assert.ok(r.error, "error expected");
	assert.equal(r.error.status, 422, "error.status");
	assert.equal(r.error.code, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", "error.code");
	return r.error.message;
});

const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
