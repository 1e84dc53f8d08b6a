// Interoperability test: JWTs minted by a REAL Better Auth server (server.mjs)
// used against `lectern api`, which verifies them through the server's JWKS.
//
//   BA_URL=http://127.0.0.1:4100 LECTERN_API_URL=http://127.0.0.1:4200 node api-client.mjs
//
// Optional: BA_JWT_ALG makes the test also require that algorithm in the JWT
// header. Prints one line per step, then "N passed, M failed"; exits 1 on any
// failure.

import assert from "node:assert/strict";
import crypto from "node:crypto";

const BA = process.env.BA_URL;
const API = process.env.LECTERN_API_URL;
if (!BA || !API) {
	console.error("BA_URL and LECTERN_API_URL must be set");
	process.exit(2);
}
const EXPECTED_ALG = process.env.BA_JWT_ALG || "";
const REQUEST_TIMEOUT_MS = 15_000;

setTimeout(() => {
	console.error("FATAL: interop test did not finish within 120 s");
	process.exit(3);
}, 120_000).unref();

/** Sends one request and returns {status, headers, body (parsed JSON or text)}. */
async function request(method, url, { headers = {}, json } = {}) {
	const init = { method, headers: { ...headers }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) };
	if (json !== undefined) {
		init.headers["content-type"] = "application/json";
		init.body = JSON.stringify(json);
	}
	const res = await fetch(url, init);
	const text = await res.text();
	let body = text;
	try {
		body = JSON.parse(text);
	} catch {}
	return { status: res.status, headers: res.headers, body, text };
}

/** A Better Auth account: signs up, keeps its session cookie, fetches JWTs. */
class Reader {
	constructor(label) {
		const rand = crypto.randomBytes(5).toString("hex");
		this.email = `${label}.${rand}@example.com`;
		this.name = `${label} ${rand}`;
		this.password = `pw-${crypto.randomBytes(12).toString("base64url")}`;
		this.cookies = new Map();
	}

	cookieHeader() {
		return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
	}

	async auth(method, path, json) {
		const headers = { origin: new URL(BA).origin };
		if (this.cookies.size) headers.cookie = this.cookieHeader();
		const r = await request(method, BA + path, { headers, json });
		for (const line of r.headers.getSetCookie()) {
			const pair = line.split(";")[0];
			const eq = pair.indexOf("=");
			this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
		}
		return r;
	}

	async signUp() {
		const r = await this.auth("POST", "/api/auth/sign-up/email", {
			email: this.email,
			name: this.name,
			password: this.password,
		});
		assert.equal(r.status, 200, `sign-up: ${r.status} ${r.text}`);
		assert.equal(typeof r.body?.user?.id, "string", "sign-up returns the user");
		this.id = r.body.user.id;
		return r.body;
	}

	async token() {
		const r = await this.auth("GET", "/api/auth/token");
		assert.equal(r.status, 200, `token: ${r.status} ${r.text}`);
		assert.equal(typeof r.body?.token, "string", "token response has a token");
		return r.body.token;
	}

	async api(method, path, { token, json, headers = {} } = {}) {
		const h = { ...headers };
		if (token !== undefined) h.authorization = `Bearer ${token}`;
		return request(method, API + path, { headers: h, json });
	}
}

function decodeJWT(token) {
	const [h, p] = token.split(".");
	return {
		header: JSON.parse(Buffer.from(h, "base64url").toString()),
		payload: JSON.parse(Buffer.from(p, "base64url").toString()),
	};
}

/** Returns the token with one character of its payload changed. */
function tamper(token) {
	const [h, p, s] = token.split(".");
	const claims = JSON.parse(Buffer.from(p, "base64url").toString());
	claims.sub = "someone-else";
	claims.id = "someone-else";
	return `${h}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${s}`;
}

function assertUnauthorized(r, what) {
	assert.equal(r.status, 401, `${what}: ${r.status} ${r.text}`);
	assert.deepEqual(r.body, { message: "Unauthorized", code: "UNAUTHORIZED" }, `${what}: body`);
}

const alice = new Reader("alice");
const bob = new Reader("bob");
const state = {};

const steps = [
	["sign up two readers on the Better Auth server", async () => {
		await alice.signUp();
		await bob.signUp();
		assert.notEqual(alice.id, bob.id);
	}],
	["GET /api/auth/token mints a JWT with the expected algorithm", async () => {
		state.alice = await alice.token();
		state.bob = await bob.token();
		const { header, payload } = decodeJWT(state.alice);
		if (EXPECTED_ALG) assert.equal(header.alg, EXPECTED_ALG, "JWT alg");
		assert.equal(payload.sub, alice.id, "sub is the user id");
		assert.equal(payload.iss, new URL(BA).origin, "iss");
	}],
	["GET /api/users/me with the Better Auth JWT", async () => {
		const r = await alice.api("GET", "/api/users/me", { token: state.alice });
		assert.equal(r.status, 200, `${r.status} ${r.text}`);
		assert.equal(r.body.user_id, alice.id);
		assert.equal(r.body.email, alice.email);
		assert.equal(r.body.name, alice.name);
	}],
	["POST /api/agents/run twice continues one conversation", async () => {
		const first = await alice.api("POST", "/api/agents/run", {
			token: state.alice,
			json: { agent_type: "rag", query: "What is the first chapter about?" },
		});
		assert.equal(first.status, 200, `${first.status} ${first.text}`);
		for (const k of ["message", "agent_used", "timestamp", "session_id"]) {
			assert.equal(typeof first.body[k], "string", `response.${k}`);
		}
		assert.ok(Array.isArray(first.body.sources), "response.sources is an array");
		const second = await alice.api("POST", "/api/agents/run", {
			token: state.alice,
			json: { agent_type: "rag", query: "And the second one?", session_id: first.body.session_id },
		});
		assert.equal(second.status, 200, `${second.status} ${second.text}`);
		assert.equal(second.body.session_id, first.body.session_id, "same conversation");
		state.conversation = first.body.session_id;
	}],
	["GET /api/conversations lists exactly that conversation", async () => {
		const r = await alice.api("GET", "/api/conversations", { token: state.alice });
		assert.equal(r.status, 200, `${r.status} ${r.text}`);
		assert.deepEqual(r.body.conversations.map((c) => c.id), [state.conversation]);
		assert.equal(r.body.conversations[0].message_count, 4);
		assert.equal(r.body.conversations[0].user_id, alice.id);
	}],
	["GET /api/conversations/{id}/messages returns both turns in order", async () => {
		const r = await alice.api("GET", `/api/conversations/${state.conversation}/messages`, { token: state.alice });
		assert.equal(r.status, 200, `${r.status} ${r.text}`);
		assert.deepEqual(r.body.messages.map((m) => m.role), ["user", "assistant", "user", "assistant"]);
		assert.equal(r.body.messages[0].content, "What is the first chapter about?");
		assert.equal(r.body.messages[2].content, "And the second one?");
	}],
	["another reader's token sees none of it", async () => {
		const get = await bob.api("GET", `/api/conversations/${state.conversation}`, { token: state.bob });
		assert.equal(get.status, 404, `${get.status} ${get.text}`);
		const msgs = await bob.api("GET", `/api/conversations/${state.conversation}/messages`, { token: state.bob });
		assert.equal(msgs.status, 404, `${msgs.status} ${msgs.text}`);
		const list = await bob.api("GET", "/api/conversations", { token: state.bob });
		assert.equal(list.status, 200);
		assert.deepEqual(list.body.conversations, []);
	}],
	["the JWT from get-session's set-auth-jwt header is accepted too", async () => {
		const r = await alice.auth("GET", "/api/auth/get-session");
		assert.equal(r.status, 200, `${r.status} ${r.text}`);
		const jwt = r.headers.get("set-auth-jwt");
		assert.ok(jwt, "get-session sets set-auth-jwt");
		const me = await alice.api("GET", "/api/users/me", { token: jwt });
		assert.equal(me.status, 200, `${me.status} ${me.text}`);
		assert.equal(me.body.user_id, alice.id);
	}],
	["tampered, missing and non-JWT credentials answer 401", async () => {
		assertUnauthorized(await alice.api("GET", "/api/users/me", { token: tamper(state.alice) }), "tampered payload");
		assertUnauthorized(await alice.api("GET", "/api/users/me"), "no Authorization header");
		const session = alice.cookies.get("better-auth.session_token");
		assert.ok(session, "have a session cookie");
		assertUnauthorized(await alice.api("GET", "/api/users/me", { token: decodeURIComponent(session) }), "session token as bearer");
		assertUnauthorized(
			await alice.api("GET", "/api/users/me", { headers: { cookie: alice.cookieHeader() } }),
			"session cookie",
		);
		assertUnauthorized(
			await alice.api("GET", `/api/users/me?token=${state.alice}`),
			"token in the query string",
		);
		assertUnauthorized(
			await alice.api("GET", "/api/users/me", { headers: { "x-user-id": alice.id } }),
			"X-User-ID header",
		);
	}],
	["a signed-out reader's JWT still verifies until it expires (stateless)", async () => {
		const r = await alice.auth("POST", "/api/auth/sign-out", {});
		assert.equal(r.status, 200, `${r.status} ${r.text}`);
		const me = await alice.api("GET", "/api/users/me", { token: state.alice });
		assert.equal(me.status, 200, `${me.status} ${me.text}`);
	}],
];

let passed = 0;
let failed = 0;
for (const [name, fn] of steps) {
	try {
		await fn();
		passed++;
		console.log(`  ok    ${name}`);
	} catch (err) {
		failed++;
		console.log(`  FAIL  ${name}\n        ${String(err?.message ?? err).split("\n").join("\n        ")}`);
	}
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
