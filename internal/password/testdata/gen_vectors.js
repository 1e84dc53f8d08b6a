// Regenerates the fixtures in this directory; see README.md.
// Usage: npm install @node-rs/argon2@2.2.1 && node gen_vectors.js
const crypto = require("crypto");
const fs = require("fs");
const { hashSync } = require("@node-rs/argon2");

const scryptPws = ["correct horse battery staple", "p\u00e4ssw\u00f6rd-\ufb01", "\u30d1\u30b9\u30ef\u30fc\u30c9\uff11\uff12\uff13"];
const scryptVectors = scryptPws.map((pw) => {
  const saltHex = crypto.randomBytes(16).toString("hex");
  const key = crypto.scryptSync(pw.normalize("NFKC"), saltHex, 64, { N: 16384, r: 16, p: 1, maxmem: 128 * 16384 * 16 * 2 });
  return { password: pw, hash: saltHex + ":" + key.toString("hex") };
});
fs.writeFileSync("better-auth-scrypt.json", JSON.stringify({
  generator: `node ${process.version} crypto.scryptSync(pw.normalize("NFKC"), saltHex, 64, {N:16384, r:16, p:1})`,
  vectors: scryptVectors,
}, null, 2) + "\n");

const argon = (pw, m, t, p) => ({ password: pw, hash: hashSync(pw, { algorithm: 2, memoryCost: m, timeCost: t, parallelism: p, outputLen: 32 }) });
fs.writeFileSync("argon2id-node-rs.json", JSON.stringify({
  generator: `node ${process.version} @node-rs/argon2@2.2.1 hashSync (Rust argon2 crate)`,
  vectors: [
    argon("correct horse battery staple", 19456, 2, 1),
    argon("p\u00e4ssw\u00f6rd-fi", 19456, 2, 1),
    argon("correct horse battery staple", 4096, 3, 2),
  ],
}, null, 2) + "\n");
