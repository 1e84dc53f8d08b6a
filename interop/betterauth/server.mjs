// A real Better Auth server (better-auth + its jwt() plugin, in-memory
// database) on loopback, for testing that `lectern api` accepts the JWTs it
// mints.
//
//   BA_PORT=4100 BA_JWT_ALG=EdDSA node server.mjs
//
// BA_JWT_ALG empty means the plugin's default key type. Prints "ready <url>"
// on stdout once it listens. Stops on SIGTERM or SIGINT.

import http from "node:http";
import crypto from "node:crypto";
import { betterAuth } from "better-auth";
import { memoryAdapter } from "better-auth/adapters/memory";
import { toNodeHandler } from "better-auth/node";
import { jwt } from "better-auth/plugins";

const port = Number(process.env.BA_PORT);
if (!Number.isInteger(port) || port <= 0) {
	console.error("BA_PORT must be a port number");
	process.exit(2);
}
const alg = process.env.BA_JWT_ALG || "";
const baseURL = `http://127.0.0.1:${port}`;

const db = { user: [], session: [], account: [], verification: [], jwks: [] };

const auth = betterAuth({
	baseURL,
	secret: crypto.randomBytes(32).toString("base64url"),
	database: memoryAdapter(db),
	emailAndPassword: { enabled: true },
	rateLimit: { enabled: false },
	plugins: [jwt(alg ? { jwks: { keyPairConfig: { alg } } } : {})],
});

const server = http.createServer(toNodeHandler(auth));
server.listen(port, "127.0.0.1", () => {
	console.log(`ready ${baseURL}`);
});

function stop() {
	server.close(() => process.exit(0));
	setTimeout(() => process.exit(0), 2000).unref();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
