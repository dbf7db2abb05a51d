/**
 * The hostile-input campaign: a seeded generator of bad requests, one function per kind, and a
 * driver that sends them to a running gateway and judges every answer. Request i is built from
 * its own generator seeded with (seed, i), so any failure is reproduced by its seed and index
 * alone, whatever the concurrency.
 *
 * A request is judged a failure when it is accepted (a 2xx where the kind allows none; a batch
 * item with 201; a replay that is not answered with the original leaf), answered 5xx, answered
 * with a 4xx that is not problem+json, or shows a stack trace. Connection failures count as
 * crashes unless the gateway still answers /livez.
 */
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { gzipSync } from "node:zlib";
import { keccak_256 as keccak } from "@noble/hashes/sha3.js";
import { bytesToHex } from "../../server/core/bytes.ts";
import { type Eip712Domain, SECP256K1_N, typedDataDigest } from "../../server/core/eip712.ts";
import { type RecordEnvelope, recordDigest, signedMessageOf } from "../../server/core/record.ts";
import { type DemandEnvelope, demandMessageOf, demandTypedDataDigest } from "../../server/core/demand.ts";
import { type RequestEnvelope, requestMessageOf, requestTypedDataDigest } from "../../server/core/request.ts";
import { SM2_N, SUITE_SM2, smSign, smSigningBytes } from "../../server/core/smSuite.ts";
import { TIP_CATEGORIES, monthOf, tipMessage, tipScope } from "../../server/core/tip.ts";

const native = createRequire(import.meta.url)("secp256k1") as {
  ecdsaSign(message: Uint8Array, privateKey: Uint8Array): { signature: Uint8Array; recid: number };
  publicKeyCreate(privateKey: Uint8Array, compressed: boolean): Uint8Array;
};

export { Rng } from "../helpers/seededRandom.ts";
import { Rng } from "../helpers/seededRandom.ts";

/** A deterministic secp256k1 key from a label (test keys only). */
export function testKey(seed: number, label: string): Uint8Array {
  return createHash("sha256").update(`dutyproof-hostile:${seed}:${label}`).digest();
}

/** The address of a private key, lower case. */
export function addressOf(privateKey: Uint8Array): string {
  const pub = native.publicKeyCreate(privateKey, false).subarray(1);
  return "0x" + bytesToHex(keccak(pub)).slice(-40);
}
/** Signs a 32-byte digest: r ‖ s ‖ v as 0x hex (low-s, as libsecp256k1 produces). */
function signDigest(privateKey: Uint8Array, digest: Uint8Array): string {
  const { signature, recid } = native.ecdsaSign(digest, privateKey);
  return bytesToHex(signature) + (27 + recid).toString(16);
}

/** Signs a record for `domain`. */
export function signRecord(privateKey: Uint8Array, domain: Eip712Domain, envelope: RecordEnvelope): string {
  return signDigest(privateKey, typedDataDigest(domain, signedMessageOf(envelope)));
}

/** An inspector's EIP-712 signature of an evidence demand, as demandClient.signDemand makes it. */
export function signDemandWith(privateKey: Uint8Array, domain: Eip712Domain, demand: DemandEnvelope): string {
  return signDigest(privateKey, demandTypedDataDigest(domain, demandMessageOf(demand)));
}

/** An inspector's EIP-712 signature of a burden request, as the CLI's `burden request` makes it. */
export function signRequestWith(privateKey: Uint8Array, domain: Eip712Domain, request: RequestEnvelope): string {
  return signDigest(privateKey, requestTypedDataDigest(domain, requestMessageOf(request)));
}

/** What the campaign knows of the gateway under attack (set up by the test). */
export interface CampaignContext {
  domain: Eip712Domain;
  /** The gateway's log id, which every record it takes must name (envelope version 2). */
  logId: string;
  /** A unit that is registered and active, with its current key. */
  village: { unitId: string; key: Uint8Array };
  /** A registered unit that has been suspended, and its key. */
  suspended: { unitId: string; key: Uint8Array };
  /** A unit whose key was rotated: the key that is no longer valid. */
  rotated: { unitId: string; oldKey: Uint8Array };
  /** Duty types: code → id, from /v1/duty-types. */
  dutyTypes: Record<string, string>;
  /** A record the gateway accepted and anchored: replays must get this leaf back. */
  accepted: { envelope: RecordEnvelope; signature: string; recordId: string; leafIndex: number; receipt: unknown };
  /** Tokens that must not read the village's records: another unit's, and an inspector's for the audit feed. */
  otherUnitToken: string;
  inspectorToken: string;
  /** An inspector registered for `department`, and a key the ledger does not list. */
  inspector: { key: Uint8Array; department: string };
  stranger: Uint8Array;
}

export interface HostileRequest {
  method: "GET" | "POST" | "PUT" | "DELETE" | "PATCH";
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** What an honest answer looks like beyond "4xx problem": see judge(). */
  allow?: "replay" | "batch" | "verdict" | "rpc-refusal" | "leaf-receipt";
}

export interface Kind {
  name: string;
  make: (rng: Rng, ctx: CampaignContext) => HostileRequest;
}

const json = (path: string, value: unknown, extra: Partial<HostileRequest> = {}): HostileRequest => ({
  method: "POST",
  path,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(value),
  ...extra,
});
const raw = (path: string, body: string, contentType = "application/json"): HostileRequest => ({
  method: "POST",
  path,
  headers: { "content-type": contentType },
  body,
});

const now = () => Math.floor(Date.now() / 1000);

function patrolFields(rng: Rng) {
  return {
    gridCode: `QS-${rng.int(100)}`,
    durationMinutes: 1 + rng.int(300),
    issuesFound: rng.int(5),
    gridWorker: "网格员",
  };
}

function envelopeFor(rng: Rng, ctx: CampaignContext, unitId: string, performedAt = now() - 60 - rng.int(3600)) {
  return {
    version: 2 as const,
    logId: ctx.logId,
    unitId,
    dutyTypeId: ctx.dutyTypes["grid-patrol"]!,
    performedAt,
    fields: patrolFields(rng),
    salt: rng.hex32(),
  };
}

/** The named keys of `object`. */
function pick<T extends object, K extends keyof T>(object: T, keys: K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((k) => [k, object[k]])) as Pick<T, K>;
}

/** A body that is a valid signed submission by the village (the base most kinds mutate). */
function validSubmission(rng: Rng, ctx: CampaignContext) {
  const envelope = envelopeFor(rng, ctx, ctx.village.unitId);
  return { envelope, signature: signRecord(ctx.village.key, ctx.domain, envelope) };
}

const endpoints = ["/v1/attestations", "/v1/attestations/batch", "/v1/verify"] as const;

/** Wraps a submission for the endpoint: a batch of one for the batch endpoint. */
function toEndpoint(rng: Rng, body: unknown): HostileRequest {
  return rng.int(4) === 0
    ? json("/v1/attestations/batch", { items: [body] }, { allow: "batch" })
    : json("/v1/attestations", body);
}

function deep(depth: number, rng: Rng): unknown {
  let value: unknown = rng.int(2) ? "leaf" : 1;
  for (let i = 0; i < depth; i++) value = rng.int(2) ? [value] : { a: value };
  return value;
}

function deepText(depth: number, asArray: boolean): string {
  return asArray ? "[".repeat(depth) + "]".repeat(depth) : '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
}

let hugeBatchBody: string | null = null;
const hugeBatch = () => (hugeBatchBody ??= JSON.stringify({ items: [{ pad: "x".repeat(9 * 1024 * 1024) }] }));

export const kinds: Kind[] = [
  {
    name: "malformed JSON",
    make: (rng, ctx) => {
      const good = JSON.stringify(validSubmission(rng, ctx));
      const variants = [
        () => good.slice(0, rng.int(good.length)),
        () => good.replace(/"/g, "'"),
        () => good.slice(0, -1) + ",}",
        () => good + "garbage",
        () => "",
        () => "null",
        () => "NaN",
        () => "\uFEFF" + good.slice(0, -1),
        () => good.replace(":", "::"),
        () => Buffer.from(rng.bytes(1 + rng.int(200))).toString("latin1"),
        () => '{"envelope": {"version": 1e999999}}',
        () => good.replace(/\d/, "\u0000"),
      ];
      return raw(rng.pick(endpoints), rng.pick(variants)());
    },
  },
  {
    name: "wrong content type",
    make: (rng, ctx) => {
      const body = JSON.stringify(validSubmission(rng, ctx));
      const type = rng.pick([
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/jsonx",
        "application/json; charset=utf-16",
        "application/json; charset=latin1",
        "",
      ]);
      const request = raw(rng.pick(endpoints), body, type);
      if (type === "") request.headers = {};
      return request;
    },
  },
  {
    name: "bad content encoding",
    make: (rng, ctx) => {
      const body = JSON.stringify(validSubmission(rng, ctx));
      const encoding = rng.pick(["gzip", "deflate", "br", "compress", "x-unknown"]);
      const payload = rng.int(2) ? Buffer.from(rng.bytes(40 + rng.int(200))) : gzipSync(body).subarray(0, 20);
      return {
        method: "POST",
        path: rng.pick(endpoints),
        headers: { "content-type": "application/json", "content-encoding": encoding },
        body: payload,
      };
    },
  },
  {
    name: "oversize body",
    make: (rng, ctx) => {
      const which = rng.int(20);
      if (which === 0) return raw("/v1/attestations/batch", hugeBatch());
      if (which < 4) return json("/v1/verify", { receipt: {}, pad: "y".repeat(1024 * 1024 + rng.int(50_000)) });
      const submission = validSubmission(rng, ctx);
      const fields = { ...submission.envelope.fields, gridWorker: "长".repeat(22_000 + rng.int(20_000)) };
      return json("/v1/attestations", { ...submission, envelope: { ...submission.envelope, fields } });
    },
  },
  {
    name: "deeply nested body",
    make: (rng, ctx) => {
      const depth = 17 + rng.int(rng.int(2) ? 40 : 20_000);
      if (rng.int(3) === 0) return raw(rng.pick(endpoints), deepText(depth, rng.int(2) === 0));
      const submission = validSubmission(rng, ctx);
      const where = rng.int(3);
      if (where === 0) return json(rng.pick(endpoints), { ...submission, extra: deep(Math.min(depth, 2000), rng) });
      if (where === 1) {
        const fields = { ...submission.envelope.fields, nested: deep(Math.min(depth, 2000), rng) };
        return toEndpoint(rng, { ...submission, envelope: { ...submission.envelope, fields } });
      }
      return json("/v1/attestations/batch", { items: [deep(Math.min(depth, 2000), rng)] }, { allow: "batch" });
    },
  },
  {
    name: "__proto__ / constructor / prototype keys",
    make: (rng, ctx) => {
      // The dangerous case is a record the unit really signed, sent with an extra key that a
      // parser might drop: it must be refused, not accepted without the key.
      const submission = validSubmission(rng, ctx);
      const key = rng.pick(["__proto__", "constructor", "prototype"]);
      const value = rng.pick(['{"gridWorker":"x","isAdmin":true}', '"x"', "1", "null", '{"polluted":1}']);
      const base = JSON.stringify(submission);
      const place = rng.int(4);
      let body: string;
      if (place === 0) body = `{"${key}":${value},` + base.slice(1);
      else if (place === 1) body = base.replace('"envelope":{', `"envelope":{"${key}":${value},`);
      else if (place === 2) body = base.replace('"fields":{', `"fields":{"${key}":${value},`);
      else body = `{"items":[${base.replace('"fields":{', `"fields":{"${key}":${value},`)}]}`;
      return place === 3 ? { ...raw("/v1/attestations/batch", body), allow: "batch" } : raw("/v1/attestations", body);
    },
  },
  {
    name: "extra keys",
    make: (rng, ctx) => {
      const submission = validSubmission(rng, ctx);
      const key = rng.pick(["admin", "leafIndex", "recordId", "status", "signer", "x".repeat(100)]);
      const variants = [
        () => ({ ...submission, [key]: 1 }),
        () => ({ ...submission, envelope: { ...submission.envelope, [key]: true } }),
        () => ({
          ...submission,
          envelope: { ...submission.envelope, fields: { ...submission.envelope.fields, [key]: "v" } },
        }),
      ];
      // Fields the unit did sign (the extra key inside the signed envelope): still refused.
      const body = rng.pick(variants)();
      if (rng.int(2)) body.signature = signRecord(ctx.village.key, ctx.domain, body.envelope as RecordEnvelope);
      return toEndpoint(rng, body);
    },
  },
  {
    name: "wrong types",
    make: (rng, ctx) => {
      const submission = validSubmission(rng, ctx) as Record<string, any>;
      const junk = rng.pick<unknown>([null, true, 0, -1, 1.5, "", "0", [], {}, [1, 2], "1e3", 2 ** 64, -(2 ** 53) - 2]);
      const target = rng.pick([
        "envelope",
        "signature",
        "version",
        "unitId",
        "dutyTypeId",
        "performedAt",
        "fields",
        "salt",
        "field",
        "amends",
        "demandId",
        "body",
      ]);
      let body: unknown = submission;
      // A replacement equal to the value it replaces (0 for a count of 0) would be a valid record.
      const differ = (old: unknown) => (JSON.stringify(old) === JSON.stringify(junk) ? null : junk);
      const fields = submission.envelope.fields;
      const field = rng.pick(Object.keys(fields));
      if (target === "envelope" || target === "signature") submission[target] = junk;
      else if (target === "field") fields[field] = differ(fields[field]);
      else if (target === "body") body = junk;
      else submission.envelope[target] = differ(submission.envelope[target]);
      return toEndpoint(rng, body);
    },
  },
  {
    name: "fields not of the duty type",
    make: (rng, ctx) => {
      const envelope = envelopeFor(rng, ctx, ctx.village.unitId) as RecordEnvelope;
      const fields = envelope.fields as Record<string, unknown>;
      rng.pick([
        () => delete fields.gridCode,
        () => (fields.durationMinutes = -5),
        () => (fields.durationMinutes = 10 ** 9),
        () => (fields.issuesFound = 1.5),
        () => (fields.gridCode = "  "),
        () => (fields.gridCode = "码".repeat(300)),
        () => (fields.unknownField = "x"),
      ])();
      return toEndpoint(rng, { envelope, signature: signRecord(ctx.village.key, ctx.domain, envelope) });
    },
  },
  {
    name: "unknown unit",
    make: (rng, ctx) => {
      const key = rng.bytes(32);
      key[0] = 1; // a valid scalar whatever the other bytes
      const envelope = envelopeFor(rng, ctx, rng.hex32()) as RecordEnvelope;
      return toEndpoint(rng, { envelope, signature: signRecord(key, ctx.domain, envelope) });
    },
  },
  {
    name: "unknown duty type",
    make: (rng, ctx) => {
      const envelope = { ...envelopeFor(rng, ctx, ctx.village.unitId), dutyTypeId: rng.hex32() };
      return toEndpoint(rng, { envelope, signature: signRecord(ctx.village.key, ctx.domain, envelope) });
    },
  },
  {
    name: "suspended unit",
    make: (rng, ctx) => {
      const envelope = envelopeFor(rng, ctx, ctx.suspended.unitId);
      return toEndpoint(rng, { envelope, signature: signRecord(ctx.suspended.key, ctx.domain, envelope) });
    },
  },
  {
    name: "rotated-out key",
    make: (rng, ctx) => {
      const envelope = envelopeFor(rng, ctx, ctx.rotated.unitId);
      return toEndpoint(rng, { envelope, signature: signRecord(ctx.rotated.oldKey, ctx.domain, envelope) });
    },
  },
  {
    name: "wrong chain id or contract in the signed domain",
    make: (rng, ctx) => {
      const envelope = envelopeFor(rng, ctx, ctx.village.unitId);
      const domain = rng.int(2)
        ? { ...ctx.domain, chainId: rng.pick([1, 5, 137, 31338, ctx.domain.chainId + 1 + rng.int(1000)]) }
        : { ...ctx.domain, verifyingContract: "0x" + bytesToHex(rng.bytes(20)).slice(2) };
      return toEndpoint(rng, { envelope, signature: signRecord(ctx.village.key, domain, envelope) });
    },
  },
  {
    name: "signed for another log of the deployment, or for none (version 1)",
    make: (rng, ctx) => {
      const own = envelopeFor(rng, ctx, ctx.village.unitId);
      const envelope = rng.int(2)
        ? { ...own, logId: bytesToHex(rng.bytes(32)) }
        : { version: 1 as const, ...pick(own, ["unitId", "dutyTypeId", "performedAt", "fields", "salt"]) };
      return toEndpoint(rng, { envelope, signature: signRecord(ctx.village.key, ctx.domain, envelope) });
    },
  },
  {
    name: "replayed record",
    make: (rng, ctx) => {
      const { envelope, signature } = ctx.accepted;
      const variants = [
        () => ({ envelope, signature }),
        () => ({ envelope, signature: "0x" + signature.slice(2).toUpperCase() }),
        // The same record with its keys in another order: the same canonical bytes, the same record.
        () => ({ signature, envelope: Object.fromEntries(Object.entries(envelope).reverse()) }),
      ];
      const body = rng.pick(variants)();
      return rng.int(3) === 0
        ? json("/v1/attestations/batch", { items: [body, body] }, { allow: "replay" })
        : json("/v1/attestations", body, { allow: "replay" });
    },
  },
  {
    name: "high-s signature",
    make: (rng, ctx) => {
      const { envelope, signature } = rng.int(3) === 0 ? ctx.accepted : validSubmission(rng, ctx);
      const s = BigInt("0x" + signature.slice(66, 130));
      const v = parseInt(signature.slice(130), 16);
      const highS =
        "0x" + signature.slice(2, 66) + (SECP256K1_N - s).toString(16).padStart(64, "0") + (v === 27 ? "1c" : "1b");
      return toEndpoint(rng, { envelope, signature: highS });
    },
  },
  {
    name: "64-byte compact and malformed signatures",
    make: (rng, ctx) => {
      const { envelope, signature } = validSubmission(rng, ctx);
      const r = signature.slice(2, 66);
      const s = signature.slice(66, 130);
      const v = parseInt(signature.slice(130), 16);
      const yParityAndS = (BigInt("0x" + s) | (BigInt(v - 27) << 255n)).toString(16).padStart(64, "0");
      const variants = [
        () => "0x" + r + yParityAndS, // EIP-2098 compact
        () => "0x" + r + s, // 64 bytes, no v
        () => "0x" + r + s + rng.pick(["00", "01", "1d", "ff"]),
        () => "0x" + "00".repeat(32) + s + "1b",
        () => "0x" + r + "00".repeat(32) + "1b",
        () => "0x" + SECP256K1_N.toString(16) + s + "1b",
        () => signature + "00",
        () => signature.slice(2),
        () => "0x" + "zz".repeat(65),
        () => "",
      ];
      return toEndpoint(rng, { envelope, signature: rng.pick(variants)() });
    },
  },
  {
    name: "expired or future timestamp",
    make: (rng, ctx) => {
      const t = now();
      const performedAt = rng.pick([
        t - 401 * 86_400 - rng.int(10 ** 7),
        t + 301 + rng.int(10 ** 6),
        946684800,
        4102444800,
        946684799,
        4102444801,
        -1,
        0,
      ]);
      const envelope = envelopeFor(rng, ctx, ctx.village.unitId, performedAt);
      let signature: string;
      try {
        signature = signRecord(ctx.village.key, ctx.domain, envelope);
      } catch {
        signature = "0x" + "11".repeat(65); // a negative time cannot be EIP-712 encoded
      }
      return toEndpoint(rng, { envelope, signature });
    },
  },
  {
    name: "batch endpoint abuse",
    make: (rng, ctx) => {
      const one = () => validSubmission(rng, ctx);
      const variants = [
        () => ({ items: [] }),
        () => ({ items: Array.from({ length: 1001 }, () => 0) }),
        () => ({ items: "all" }),
        () => ({ items: null }),
        () => ({}),
        () => ({ items: [1, "x", null, [], {}] }),
        () => ({ items: [{ ...one(), signature: "0x" }], more: true }),
        () => [one()],
        () => ({ items: { 0: one() } }),
      ];
      return json("/v1/attestations/batch", rng.pick(variants)(), { allow: "batch" });
    },
  },
  {
    name: "receipts, proofs and verify with junk parameters",
    make: (rng, ctx) => {
      const junk = () =>
        rng.pick([
          "0x",
          "0x" + "g".repeat(64),
          "0X" + "ab".repeat(32),
          "0x" + "AB".repeat(32),
          rng.hex32() + "00",
          "%00",
          "..%2F..%2Fetc%2Fpasswd",
          "'%20OR%201=1--",
          "%E0%A4%A",
          "%",
          "x".repeat(2000),
          "-1",
          "1e309",
          "9007199254740993",
          "__proto__",
          "constructor",
        ]);
      const gets = [
        () => `/v1/receipts/${junk()}`,
        () => `/v1/receipts/${rng.hex32()}`,
        () => `/v1/attestations/${junk()}/receipt`,
        () => `/v1/proofs/inclusion?leafHash=${junk()}&treeSize=${junk()}`,
        () => `/v1/proofs/inclusion?leafHash=${rng.hex32()}&treeSize=${1 + rng.int(10)}`,
        () => `/v1/proofs/inclusion?treeSize=1&treeSize=2&leafHash=${rng.hex32()}`,
        () => `/v1/proofs/inclusion?__proto__[x]=1&leafHash=${rng.hex32()}&treeSize=1`,
        () => `/v1/proofs/consistency?from=${junk()}&to=${junk()}`,
        () => `/v1/proofs/consistency?from=${2 + rng.int(5)}&to=1`,
        () => `/v1/proofs/consistency?from=1&to=${10 ** 9}`,
        () => `/v1/checkpoints?limit=${rng.pick(["0", "-5", "1001", "abc", "1.5", "1e3x"])}`,
        () => `/v1/checkpoints?limit=5&extra=1`,
        () => `/v1/audit/records?from=${junk()}`,
        () => `/v1/${junk()}`,
      ];
      if (rng.int(4) > 0) return { method: "GET", path: rng.pick(gets)() };
      const receipt = { ...(ctx.accepted.receipt as Record<string, unknown>) };
      const mutate = rng.pick([
        () => (receipt.root = rng.hex32()),
        () => (receipt.leafIndex = (receipt.leafIndex as number) + 1),
        () => (receipt.contract = "0x" + bytesToHex(rng.bytes(20)).slice(2)),
        () => (receipt.chainId = 1),
        () => (receipt.inclusionProof = [rng.hex32()]),
        () => (receipt.treeSize = 10 ** 6),
        () => (receipt.recordId = rng.hex32()),
        () => (receipt.inclusionProof = Array.from({ length: 65 }, () => rng.hex32())),
        () => delete receipt.root,
        () => (receipt.status = "pending"),
      ]);
      mutate();
      const body = rng.int(2)
        ? receipt
        : { receipt, envelope: ctx.accepted.envelope, signature: ctx.accepted.signature };
      return json("/v1/verify", body, { allow: "verdict" });
    },
  },
  {
    name: "token-guarded endpoints with bad tokens",
    make: (rng, ctx) => {
      const authorization = rng.pick([
        undefined,
        "Bearer",
        "Bearer ",
        `Basic ${Buffer.from("admin:admin").toString("base64")}`,
        `Bearer dp_${Buffer.from(rng.bytes(32)).toString("base64url")}`,
        `Bearer ${"A".repeat(4000)}`,
        `Bearer ${ctx.otherUnitToken}`,
        `Bearer ${ctx.otherUnitToken}x`,
        `Bearer ${ctx.otherUnitToken.slice(0, -1)}`,
        `bearer ${ctx.inspectorToken.toUpperCase()}`,
        `Bearer ${ctx.otherUnitToken} ${ctx.inspectorToken}`,
        `Bearer null`,
      ]);
      const village = ctx.village.unitId;
      const path = rng.pick([
        `/v1/attestations/${ctx.accepted.recordId}`,
        `/v1/export?unitId=${village}`,
        `/v1/export?unitId=${village}&from=0&to=${2 ** 40}`,
        `/v1/audit/records`,
        `/v1/audit/records?from=0&limit=5000`,
      ]);
      // The inspector's token is valid but not an auditor's: refused by the audit feed.
      const headers: Record<string, string> = {};
      if (path.startsWith("/v1/audit") && rng.int(3) === 0) headers.authorization = `Bearer ${ctx.inspectorToken}`;
      else if (authorization !== undefined) headers.authorization = authorization;
      return { method: "GET", path, headers };
    },
  },
  {
    name: "methods and routes that do not exist",
    make: (rng) => {
      const method = rng.pick(["PUT", "DELETE", "PATCH", "POST", "GET"] as const);
      const path = rng.pick([
        "/v1/attestations",
        "/v1/checkpoints/latest",
        "/v1/info",
        "/v1/duty-types",
        "/v1/tokens",
        "/admin",
        "/v1/attestations/batch",
        "/v1/verify",
      ]);
      // Only the combinations the API does not serve (a POST to /v1/attestations is another kind).
      const served =
        (method === "POST" && /attestations|verify/.test(path)) ||
        (method === "GET" && /info|duty-types|checkpoints/.test(path));
      return served
        ? { method: "DELETE", path }
        : { method, path, headers: { "content-type": "application/json" }, body: method === "GET" ? undefined : "{}" };
    },
  },
  {
    // Lone UTF-16 surrogates: valid JSON text ("\ud800") with no UTF-8 and no canonical form,
    // in a record's text, a batch item beside good ones, a demand or a /v1/verify body. Each is
    // its own item's 422; once it was a 500 that failed every record sharing its worker job.
    name: "text with no canonical form",
    make: (rng, ctx) => {
      const lone = rng.pick(["\\ud800", "\\udfff", "a\\udc00b", "\\ud83d"]);
      const submission = validSubmission(rng, ctx);
      const marked = (value: unknown) => JSON.stringify(value).replaceAll("LONE", lone);
      const where = rng.int(6);
      if (where === 0)
        return raw(
          "/v1/verify",
          marked({ receipt: {}, envelope: { ...submission.envelope, fields: { gridWorker: "LONE" } } }),
        );
      if (where === 1) {
        const demand = { version: 1, unitId: ctx.village.unitId, purpose: "LONE", salt: rng.hex32() };
        return raw("/v1/demands", marked({ demand, signature: submission.signature }));
      }
      const envelope: Record<string, unknown> = { ...submission.envelope };
      if (where === 2) envelope.fields = { ...submission.envelope.fields, gridWorker: "网格LONE员" };
      if (where === 3) envelope.fields = { ...submission.envelope.fields, ["gridLONE"]: 1 };
      if (where >= 4) envelope.amends = { recordId: rng.hex32(), kind: "correction", reason: "LONE" };
      const body = { envelope, signature: submission.signature };
      return where === 5
        ? { ...raw("/v1/attestations/batch", `{"items":[${marked(body)}]}`), allow: "batch" }
        : raw("/v1/attestations", marked(body));
    },
  },

  // Issue 18: the chain endpoint /v1/info publishes, asked to change the chain (one request or a batch).
  {
    name: "chain-node-state-changing-method",
    make: (rng) => {
      const method = rng.pick(["anvil_setStorageAt", "anvil_impersonateAccount", "anvil_setBalance", "evm_mine"]);
      const one = (id: number) => ({
        jsonrpc: "2.0",
        id,
        method,
        params: ["0x" + "00".repeat(20), "0x0", rng.hex32()],
      });
      return json("/v1/rpc", rng.int(2) ? one(1) : [one(1), { ...one(2), method: "eth_sendTransaction" }], {
        allow: "rpc-refusal",
      });
    },
  },
  {
    name: "chain-node-raw-transaction-without-role",
    make: (rng) =>
      json(
        "/v1/rpc",
        {
          jsonrpc: "2.0",
          id: 1,
          method: "eth_sendRawTransaction",
          params: ["0x02" + bytesToHex(rng.bytes(120)).slice(2)],
        },
        { allow: "rpc-refusal" },
      ),
  },
  // Issue 18: a registered inspector asking for another department's duty types (an
  // emergency-management inspector for civil-affairs subsistence records), or a key the ledger
  // does not list, with a fresh, validly signed demand: refused, nothing read or stored.
  {
    name: "demand outside the inspector's department, or by an unlisted key",
    make: (rng, ctx) => {
      const foreign = rng.pick(["subsistence-allowance-check", "household-visit", "dispute-mediation"]);
      const byStranger = rng.int(3) === 0;
      const key = byStranger ? ctx.stranger : ctx.inspector.key;
      const issuedAt = Math.floor(Date.now() / 1000);
      const demand: DemandEnvelope = {
        version: 2,
        logId: ctx.logId,
        unitId: ctx.village.unitId,
        dutyTypeIds: [ctx.dutyTypes[foreign]!],
        from: issuedAt - 90 * 86_400,
        to: issuedAt,
        purpose: "核查",
        department: ctx.inspector.department,
        inspector: addressOf(key).toLowerCase(),
        onSite: false,
        issuedAt,
        salt: rng.hex32(),
      };
      const query = rng.int(2) ? "?include=package" : "";
      return json(`/v1/demands${query}`, { demand, signature: signDemandWith(key, ctx.domain, demand) });
    },
  },
  // Issue 18: leaf hashes are public (proofs); a receipt asked by one tells only where and when
  // the leaf was anchored, never the record's unit, duty type, times or signer.
  {
    name: "receipt by a public leaf hash",
    make: (rng, ctx) => {
      const receipt = ctx.accepted.receipt as { leafHash: string };
      const hash = rng.int(2) ? receipt.leafHash : receipt.leafHash.toUpperCase().replace("0X", "0x");
      return { method: "GET", path: `/v1/receipts/${hash}`, allow: "leaf-receipt" };
    },
  },
  // Burden requests (the gate): only a registered inspector's valid signature for this log, in
  // time, of its own department, over what it owns, reaches the gate and is logged. Each variant
  // below fails one of those, so none may be logged.
  {
    name: "burden request by an unlisted key, mis-signed, for another log, out of time or department",
    make: (rng, ctx) => {
      const issuedAt = now();
      const variant = rng.int(9);
      const inspection = (over: Partial<Record<string, unknown>> = {}) =>
        ({
          version: 1,
          logId: ctx.logId,
          unitId: ctx.village.unitId,
          department: ctx.inspector.department,
          inspector: addressOf(ctx.inspector.key),
          issuedAt,
          salt: rng.hex32(),
          kind: "inspection",
          domain: "safety",
          dutyTypeIds: [ctx.dutyTypes["grid-patrol"]!],
          from: issuedAt - 30 * 86_400,
          to: issuedAt,
          ...over,
        }) as RequestEnvelope;
      let key = ctx.inspector.key;
      let domain = ctx.domain;
      let request = inspection();
      if (variant === 0) {
        key = ctx.stranger;
        request = inspection({ inspector: addressOf(ctx.stranger) });
      }
      if (variant === 1) request = inspection({ inspector: addressOf(ctx.stranger) }); // signed by another key
      if (variant === 2) request = inspection({ logId: rng.hex32() });
      if (variant === 3) request = inspection({ issuedAt: issuedAt - 86_400 - rng.int(86_400) });
      if (variant === 4) request = inspection({ department: "civil-affairs" });
      if (variant === 5) request = inspection({ unitId: rng.hex32() });
      if (variant === 6) request = inspection({ unitId: ctx.suspended.unitId });
      if (variant === 7) domain = { ...ctx.domain, chainId: ctx.domain.chainId + 1 };
      if (variant === 8) {
        const foreign = rng.pick(["subsistence-allowance-check", "household-visit", "dispute-mediation"]);
        request = inspection({ dutyTypeIds: [ctx.dutyTypes[foreign]!] });
      }
      return json("/v1/requests", { request, signature: signRequestWith(key, domain, request) });
    },
  },
  // Residents' confirmations: a link is guessed, or asked for by someone who is not the unit.
  {
    name: "confirmation by a guessed link, or asked without the unit's token",
    make: (rng, ctx) => {
      const secret = bytesToHex(rng.bytes(24)).slice(2, 2 + 6 + rng.int(40));
      const answer = rng.int(2)
        ? { happened: true, satisfaction: 1 + rng.int(5) }
        : { happened: false, comment: "没有来过" };
      switch (rng.int(5)) {
        case 0:
          return json(`/v1/public/confirmations/${secret}`, answer);
        case 1:
          return { method: "GET", path: `/v1/public/confirmations/${secret}` };
        case 2: {
          const token = rng.pick(["", ctx.inspectorToken, "dp_" + bytesToHex(rng.bytes(24)).slice(2)]);
          return json(
            "/v1/confirmations",
            { recordId: ctx.accepted.recordId, contact: "13800000000" },
            token ? { headers: { "content-type": "application/json", authorization: `Bearer ${token}` } } : {},
          );
        }
        case 3:
          // Another unit's token, for a record id no unit holds.
          return json(
            "/v1/confirmations",
            { recordId: rng.hex32() },
            { headers: { "content-type": "application/json", authorization: `Bearer ${ctx.otherUnitToken}` } },
          );
        default:
          return json(
            `/v1/confirmations/${rng.hex32()}/appeals`,
            { reason: "恶意差评" },
            { headers: { "content-type": "application/json", authorization: `Bearer ${ctx.inspectorToken}` } },
          );
      }
    },
  },
  // Anonymous tips: a proof against no root of the group (the group is empty), for another
  // month or scope, a guessed tracking code, and changes to the group or replies without the
  // token that may make them.
  {
    name: "tip with a forged proof, a guessed tracking code, or a group change without the unit's token",
    make: (rng, ctx) => {
      const period = monthOf(Date.now());
      const category = rng.pick([...TIP_CATEGORIES]);
      const content = {
        category,
        period: rng.int(4) === 0 ? "2020-01" : period,
        target: { kind: "department" as const, id: "civil-affairs" },
        text: "填表太多",
        trackingId: rng.hex32(),
      };
      const decimal = () => BigInt(rng.hex32()).toString();
      const proof = {
        merkleTreeDepth: 16,
        merkleTreeRoot: rng.int(3) === 0 ? "0" : decimal(),
        nullifier: decimal(),
        message: rng.int(4) === 0 ? decimal() : tipMessage(content),
        scope: rng.int(4) === 0 ? decimal() : tipScope(ctx.logId, category, period),
        points: Array.from({ length: 8 }, decimal),
      };
      const bearer = (token: string) => ({
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      });
      switch (rng.int(5)) {
        case 0:
        case 1:
          return json("/v1/tips", { content, proof });
        case 2:
          return json("/v1/tips/follow-up", { code: rng.hex32() });
        case 3:
          return json(`/v1/tips/${rng.hex32()}/replies`, { text: "已核实" }, bearer(ctx.inspectorToken));
        default: {
          const path = rng.int(2) ? "/v1/tips/members" : "/v1/tips/members/remove";
          const body = { unitId: ctx.village.unitId, commitment: decimal() };
          return rng.int(2) ? json(path, body) : json(path, body, bearer(ctx.inspectorToken));
        }
      }
    },
  },
  // The SM suite (SM2 signatures, SM3 digests): a forger's valid SM2 signature for the village,
  // keys off the curve, scalars out of range, and each suite's signature under the other's envelope.
  {
    name: "SM-suite record by a foreign key, malformed, or under the other suite",
    make: (rng, ctx) => {
      const smKey = bytesToHex(testKey(rng.int(4), "sm-forger")); // four forger keys in all
      const envelope = { ...envelopeFor(rng, ctx, ctx.village.unitId), suite: SUITE_SM2 as typeof SUITE_SM2 };
      const smBytes = (e: typeof envelope) =>
        smSigningBytes({ ...e, chainId: ctx.domain.chainId, contract: ctx.domain.verifyingContract }, recordDigest(e));
      const variant = rng.int(6);
      let signature: string;
      if (variant === 0) signature = smSign(smBytes(envelope), smKey);
      else if (variant === 1)
        signature = bytesToHex(rng.bytes(128)); // X ‖ Y almost surely off the curve
      else if (variant === 2) {
        const good = smSign(smBytes(envelope), smKey);
        const zero = "00".repeat(32);
        const n = SM2_N.toString(16);
        const [r, s] = rng.pick([
          [zero, good.slice(194)],
          [good.slice(130, 194), zero],
          [n, good.slice(194)],
          ["ff".repeat(32), good.slice(194)],
        ]);
        signature = good.slice(0, 130) + r + s;
      } else if (variant === 3)
        signature = signRecord(ctx.village.key, ctx.domain, envelope); // EIP-712 under SM
      else if (variant === 4) {
        const plain = envelopeFor(rng, ctx, ctx.village.unitId);
        return toEndpoint(rng, {
          envelope: plain,
          signature: smSign(smBytes({ ...plain, suite: SUITE_SM2 as typeof SUITE_SM2 }), smKey),
        });
      } else {
        // Version 1 names no log: an SM-suite record must (recordSigner.ts).
        const unbound: Record<string, unknown> = { ...envelope, version: 1 };
        delete unbound.logId;
        return toEndpoint(rng, {
          envelope: unbound,
          signature: smSign(smBytes(envelope), smKey),
        });
      }
      return toEndpoint(rng, { envelope, signature });
    },
  },
];

export interface Outcome {
  kind: string;
  index: number;
  status: number | "network error";
  failure?: string;
}

/** Judges one answer; returns the reason it is a failure, or undefined when it is an honest refusal. */
export function judge(
  request: HostileRequest,
  status: number,
  contentType: string,
  text: string,
  ctx: CampaignContext,
): string | undefined {
  if (status >= 500) return `answered ${status}`;
  if (/\bat [^\n]*\(?[^\n]*:\d+:\d+\)?/.test(text) || /node:internal|\.ts:\d+/.test(text))
    return "a stack trace in the answer";
  if (request.allow === "rpc-refusal") {
    // The endpoint must be there and refuse by name: a 404 would mean readers have no endpoint.
    let answers: any[];
    try {
      const parsed = JSON.parse(text);
      answers = Array.isArray(parsed) ? parsed : [parsed];
    } catch {
      return `a chain request answered ${status} with no JSON-RPC body`;
    }
    const refused = status === 200 && answers.every((a) => /^rpc\./.test(String(a?.error?.data?.code ?? "")));
    return refused ? undefined : `a chain request was not refused by name: ${status} ${text.slice(0, 200)}`;
  }
  if (status >= 400) {
    return contentType.startsWith("application/problem+json") ? undefined : `a ${status} that is not problem+json`;
  }
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    return `a ${status} whose body is not JSON`;
  }
  if (request.allow === "replay") {
    const answers = body.results ?? [body];
    const same = answers.every(
      (a: any) =>
        a.recordId === ctx.accepted.recordId &&
        a.leafIndex === ctx.accepted.leafIndex &&
        a.duplicate === true &&
        (a.status ?? status) === 200,
    );
    return status === 200 && same ? undefined : `a replay answered ${status} without the original leaf`;
  }
  if (request.allow === "batch" && status === 200 && Array.isArray(body.results)) {
    const failed = body.results.filter((r: any) => r.status >= 500);
    if (failed.length) return `batch items answered 5xx: ${failed.map((r: any) => r.index).join(",")}`;
    const accepted = body.results.filter((r: any) => r.status < 300);
    return accepted.length ? `batch items accepted: ${accepted.map((r: any) => r.index).join(",")}` : undefined;
  }
  if (request.allow === "verdict" && status === 200 && body.valid === false) return undefined;
  if (request.allow === "leaf-receipt" && status === 200) {
    const told = ["recordId", "unitId", "dutyTypeId", "performedAt", "signer", "signature", "acceptedAt"];
    const leaked = told.filter((key) => key in body);
    return leaked.length ? `a leaf hash revealed ${leaked.join(", ")}` : undefined;
  }
  return `accepted with ${status}`;
}

/** The distinct statuses of a batch answer's items ("422,403"), or "" for another answer. */
function batchItemStatuses(text: string): string {
  try {
    const results = (JSON.parse(text) as { results?: Array<{ status: number }> }).results;
    return Array.isArray(results) ? [...new Set(results.map((r) => r.status))].sort().join(",") : "";
  } catch {
    return "";
  }
}

/** Runs requests [0, count) against `url` with `concurrency` clients; calls `onProgress` every 1,000. */
export async function runCampaign(options: {
  url: string;
  seed: number;
  count: number;
  concurrency: number;
  ctx: CampaignContext;
  onProgress?: (done: number) => Promise<void> | void;
}): Promise<{
  perKind: Map<string, { sent: number; statuses: Map<string, number> }>;
  failures: Outcome[];
  networkErrors: Outcome[];
}> {
  const { url, seed, count, concurrency, ctx } = options;
  const perKind = new Map(kinds.map((k) => [k.name, { sent: 0, statuses: new Map<string, number>() }]));
  const failures: Outcome[] = [];
  const networkErrors: Outcome[] = [];
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      const kind = kinds[index % kinds.length]!;
      const rng = new Rng(Number(BigInt.asUintN(32, BigInt(seed) * 2654435761n + BigInt(index))));
      const request = kind.make(rng, ctx);
      const tally = perKind.get(kind.name)!;
      tally.sent++;
      let outcome: Outcome;
      let itemStatuses = "";
      try {
        const res = await fetch(url + request.path, {
          method: request.method,
          headers: request.headers,
          body: request.body as BodyInit | undefined,
          signal: AbortSignal.timeout(60_000),
        });
        const text = await res.text();
        if (request.allow === "batch" || request.allow === "replay") itemStatuses = batchItemStatuses(text);
        outcome = {
          kind: kind.name,
          index,
          status: res.status,
          failure: judge(request, res.status, res.headers.get("content-type") ?? "", text, ctx),
        };
      } catch (error) {
        outcome = { kind: kind.name, index, status: "network error", failure: String((error as Error).cause ?? error) };
        networkErrors.push(outcome);
      }
      const key = String(outcome.status) + (itemStatuses ? `[${itemStatuses}]` : "");
      tally.statuses.set(key, (tally.statuses.get(key) ?? 0) + 1);
      if (outcome.failure && outcome.status !== "network error") failures.push(outcome);
      if (++done % 1000 === 0) await options.onProgress?.(done);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { perKind, failures, networkErrors };
}
