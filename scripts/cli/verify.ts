/**
 * `dutyproof verify`: a receipt, a record with its receipt, an export bundle, or a bare hash,
 * checked with the verify driver the web console runs (server/core/verifyDocument.ts) against
 * the chain's facts read over JSON-RPC.
 */
import { isValidInclusion } from "../../server/core/merkle/verify.ts";
import { hexToBytes } from "../../server/core/bytes.ts";
import type { RecordNotices } from "../../server/core/amendment.ts";
import { type TrustedDeployment, trustedDeploymentOf } from "../../server/core/trust.ts";
import { type ChainFacts, type Receipt, chainFactsKey, reasonText } from "../../server/core/verifier.ts";
import { type ItemResult, verifyDocument } from "../../server/core/verifyDocument.ts";
import { ChainUnreachableError, fetchChainFacts } from "../../server/chain/chainFacts.ts";
import { redactUrl } from "../../server/chain/redactUrl.ts";
import { recoverSigner } from "../../server/crypto/recoverSigner.ts";
import { type Command, command } from "./command.ts";
import { hash32, readJsonFile, rpcUrlOf, verifierTrust } from "./context.ts";
import { GatewayRefusal, SilentExit, UnreachableError, UsageError, exitCodes } from "./errors.ts";
import { gatewayAnswer, gatewayText } from "./gateway.ts";
import {
  type CheckpointSource,
  type QuorumVerdict,
  type WitnessPolicy,
  receiptWitnessCheck,
  trustedWitnessPolicy,
  witnessPolicyOf,
} from "../../server/core/witnessQuorum.ts";
import { chinaTime } from "./time.ts";

type Lang = "zh-CN" | "en";

/** Lines saying that a record was superseded, withdrawn or erased, in the reader's language. */
export function noticeLines(r: RecordNotices, lang: Lang): string[] {
  const zh = lang === "zh-CN";
  const lines: string[] = [];
  if (r.supersededBy)
    lines.push(
      zh
        ? `已被更正：被记录 ${r.supersededBy.recordId} 取代（理由：${r.supersededBy.reason}）`
        : `superseded by ${r.supersededBy.recordId} (correction: ${r.supersededBy.reason})`,
    );
  if (r.withdrawnBy)
    lines.push(
      zh
        ? `已撤回：由记录 ${r.withdrawnBy.recordId} 撤回（理由：${r.withdrawnBy.reason}）`
        : `withdrawn by ${r.withdrawnBy.recordId} (${r.withdrawnBy.reason})`,
    );
  if (r.erasure) {
    const when = chinaTime(r.erasure.erasedAt);
    lines.push(
      zh
        ? `个人信息已于 ${when} 依令 ${r.erasure.order} 删除（${r.erasure.fields.join("、") || "无个人字段"}）；签名与叶子仍与存证摘要相符`
        : `personal content erased ${when} under order ${r.erasure.order} (${r.erasure.fields.join(", ") || "no personal fields"}); signature and leaf still match the logged digest`,
    );
  }
  return lines;
}

/** Chain facts over JSON-RPC, once per `chainFactsKey`; an unreachable chain ends with exit 3. */
function chainFacts(rpcUrl: string, trust: TrustedDeployment[]): (receipt: Receipt) => Promise<ChainFacts> {
  const cache = new Map<string, ChainFacts>();
  return async (receipt) => {
    const key = chainFactsKey(receipt);
    let facts = cache.get(key);
    if (!facts) {
      try {
        facts = await fetchChainFacts(rpcUrl, receipt, trust);
      } catch (error) {
        if (error instanceof ChainUnreachableError) throw new UnreachableError(error.message, { cause: error });
        throw error;
      }
      cache.set(key, facts);
    }
    return facts;
  };
}

/**
 * The gateway's latest cosigned checkpoint and its consistency proofs, for the witness check of a
 * receipt whose own note lacks the cosignatures; a gateway that does not answer ends with exit 3.
 */
const gatewayCheckpoints: CheckpointSource = {
  latestNote: async () => {
    try {
      return await gatewayText("/tlog/checkpoint");
    } catch (error) {
      // No checkpoint signed yet (404), or none the gateway will show: there is nothing to count.
      if (error instanceof GatewayRefusal) return undefined;
      throw error;
    }
  },
  consistency: async (from, to) => {
    const { status, body } = await gatewayAnswer<{ proof?: unknown }>(`/v1/proofs/consistency?from=${from}&to=${to}`);
    const hashes = body.proof;
    if (status !== 200 || !Array.isArray(hashes)) return undefined;
    if (!hashes.every((h) => typeof h === "string" && /^0x[0-9a-f]{64}$/.test(h))) return undefined;
    return (hashes as string[]).map((h) => hexToBytes(h));
  },
};

/** The policy of `--witness KEY… [--quorum K]`, or undefined when no witness is named. */
function flagPolicy(keys: readonly string[], quorum: string | undefined): WitnessPolicy | undefined {
  const k = quorum === undefined ? undefined : /^[0-9]{1,4}$/.test(quorum) ? Number(quorum) : NaN;
  const made = witnessPolicyOf(keys, k);
  if (made.ok) return made.policy;
  switch (made.problem) {
    case "quorum_without_witnesses":
      throw new UsageError("--quorum needs at least one --witness VERIFIER_KEY");
    case "key_malformed":
      throw new UsageError(`--witness ${made.key}: ${made.detail}`);
    case "not_witness_key":
      throw new UsageError(`--witness ${made.key} is not a witness (type 0x04) key`);
    case "quorum_out_of_range":
      throw new UsageError(`--quorum must be between 1 and the ${made.witnesses} witnesses named`);
  }
}

const witnessStatusText = {
  cosigned: { "zh-CN": "已联署", en: "cosigned" },
  missing: { "zh-CN": "未联署", en: "missing" },
  bad_signature: { "zh-CN": "联署签名无效", en: "bad signature" },
} as const;

/** One line per witness of the policy: who cosigned the receipt's checkpoint and who did not. */
export function witnessLines(quorum: QuorumVerdict, lang: Lang): string[] {
  const zh = lang === "zh-CN";
  return [
    zh
      ? `  见证方：${quorum.cosigners.length} 个有效联署，要求 ${quorum.quorum} 个`
      : `  witnesses: ${quorum.cosigners.length} valid cosignatures, ${quorum.quorum} required`,
    ...quorum.witnesses.map((w) => `    ${w.name}: ${witnessStatusText[w.status][lang]}`),
  ];
}

/**
 * A leaf hash alone: the gateway says only where the leaf was anchored (the record's content and
 * signer go to the holder of its record id), so this checks that much on chain: the proof leads
 * to the root the ledger holds for that checkpoint.
 */
async function verifyLeafOnly(
  body: Record<string, unknown>,
  rpcUrl: string,
  lang: Lang,
  trust: TrustedDeployment[],
  flagged: WitnessPolicy | undefined,
) {
  const zh = lang === "zh-CN";
  const hex = (v: unknown) => hexToBytes(String(v));
  const receipt = { ...body, unitId: "0x" + "00".repeat(32) } as unknown as Receipt;
  if (!trustedDeploymentOf(trust, receipt.chainId, receipt.contract, receipt.logId)) {
    console.log(
      zh
        ? `无效：该叶子锚定在本核验方不信任的部署中（链 ${receipt.chainId}，合约 ${receipt.contract}）`
        : `INVALID: the leaf is anchored in a deployment this verifier does not trust (chain ${receipt.chainId}, contract ${receipt.contract})`,
    );
    throw new SilentExit(exitCodes.failed);
  }
  const facts = await chainFacts(rpcUrl, trust)(receipt);
  const proof = Array.isArray(body.inclusionProof) ? body.inclusionProof.map(hex) : [];
  const included =
    facts.checkpoint.found &&
    facts.checkpoint.root === body.root &&
    isValidInclusion(hex(body.leafHash), Number(body.leafIndex), Number(body.treeSize), proof, hex(body.root));
  if (!included) {
    console.log(
      zh ? `无效：该叶子不在链上锚定的检查点中` : `INVALID: the leaf is not in the checkpoint the chain holds`,
    );
    throw new SilentExit(exitCodes.failed);
  }
  // The witnesses' cosignatures on the checkpoint the leaf was proved against, as for a receipt:
  // the note the gateway served with the leaf, else its latest cosigned checkpoint.
  const policy = flagged ?? trustedWitnessPolicy(trust, receipt);
  if (policy) {
    const note = typeof body.checkpointNote === "string" ? body.checkpointNote : undefined;
    const quorum = await receiptWitnessCheck(policy, receipt, note, gatewayCheckpoints);
    if (!quorum.ok) {
      console.log(zh ? `无效：${reasonText[quorum.reason]!["zh-CN"]}` : `INVALID: ${reasonText[quorum.reason]!.en}`);
      for (const line of witnessLines(quorum, lang)) console.log(line);
      throw new SilentExit(exitCodes.failed);
    }
  }
  const when = chinaTime(facts.checkpoint.anchoredAt);
  console.log(
    zh
      ? `已锚定：叶子 ${body.leafIndex} 于 ${when} 锚定在区块 ${facts.checkpoint.blockNumber}（仅凭叶子哈希；核验记录内容与签名需记录编号或回执文件）`
      : `ANCHORED: leaf ${body.leafIndex} anchored at ${when} in block ${facts.checkpoint.blockNumber} (leaf hash only; the record's content and signer need its record id or receipt file)`,
  );
  if (policy) console.log(zh ? `  已获所要求的见证方联署` : `  cosigned by the witnesses required`);
}

/** A single item's verdict as lines for a person. */
function itemLines(item: ItemResult, lang: Lang): string[] {
  const zh = lang === "zh-CN";
  const { verdict } = item;
  const r = item.evidence.receipt;
  if (!verdict.valid)
    return [
      zh
        ? `无效：${reasonText[verdict.reason!]?.["zh-CN"] ?? verdict.reason}`
        : `INVALID: ${reasonText[verdict.reason!]?.en ?? verdict.reason}`,
      ...verdict.checks.filter((c) => !c.ok).map((c) => `  ✗ ${c.name}: ${c.reason}`),
      ...(item.witnesses ? witnessLines(item.witnesses, lang) : []),
    ];
  const when = verdict.anchoredAt ? chinaTime(verdict.anchoredAt) : "";
  return [
    zh ? `有效：记录 ${r.recordId}` : `VALID: record ${r.recordId}`,
    zh ? `  单位 ${r.unitId}，签名人 ${r.signer}` : `  unit ${r.unitId}, signed by ${r.signer}`,
    zh
      ? `  已于 ${when} 锚定（区块 ${verdict.blockNumber}，链 ${r.chainId}，合约 ${r.contract}）`
      : `  anchored ${when} (block ${verdict.blockNumber}, chain ${r.chainId}, contract ${r.contract})`,
    zh
      ? `  ${verdict.recordChecked ? "已核对记录内容" : "仅核验回执（未提供记录内容）"}`
      : `  ${verdict.recordChecked ? "record content checked" : "receipt only (no record content given)"}`,
    ...noticeLines(item.notices, lang).map((line) => `  ${line}`),
    ...(item.witnesses ? witnessLines(item.witnesses, lang) : []),
  ];
}

export const verifyCommand: Command = command(
  {
    name: "verify",
    summary: "verify a receipt, a record with its receipt, an export bundle, or a bare hash, on chain",
    usage:
      "(FILE | --hash HASH) [--trust FILE] [--rpc URL] [--witness VERIFIER_KEY]… [--quorum K] [--json] [--lang zh-CN|en]",
    flags: {
      hash: { value: "HASH", help: "a leaf hash or record id to look up at the gateway" },
      trust: { value: "FILE", help: "a trust file naming the deployments to believe (trust export)" },
      rpc: { value: "URL", help: "the chain's JSON-RPC endpoint (default RPC_URL, else the gateway's /v1/rpc)" },
      witness: {
        value: "VERIFIER_KEY",
        help: "a witness's key (type 0x04); repeatable: the receipt's checkpoint must carry their cosignatures (replaces the trust file's witnesses)",
        multiple: true,
      },
      quorum: { value: "K", help: "how many of the --witness keys must have cosigned (default: all)" },
      json: { help: "the verdict as JSON (reason codes: docs/protocol.md)" },
      lang: { value: "LANG", help: "zh-CN (default) or en" },
    },
    maxPositionals: 1,
    example: "dutyproof verify qingshui-1-2026H1.json --trust county-trust.json --lang en",
    notes: ["exit 0 valid, 1 invalid or not found, 2 usage, 3 chain or gateway unreachable"],
  },
  async ({ values, switches, positionals, lists }) => {
    const json = switches.has("json");
    const policy = flagPolicy(lists.witness!, values.quorum);
    const file = positionals[0];
    if (!file && !values.hash) throw new UsageError("verify: give a receipt or record file, or --hash HASH");
    const lang = (values.lang ?? (process.env.LANG?.startsWith("en") ? "en" : "zh-CN")) as Lang;
    if (lang !== "zh-CN" && lang !== "en") throw new UsageError("--lang must be zh-CN or en");
    let raw: unknown;
    if (values.hash !== undefined) {
      // A bare hash: the gateway only finds the receipt; everything in it is checked on chain.
      const hash = hash32("--hash", values.hash);
      const { status, body } = await gatewayAnswer(`/v1/receipts/${hash}`);
      if (status === 404) {
        console.log(
          lang === "zh-CN" ? `未找到：该哈希不在此网关的日志中` : `NOT FOUND: this gateway's log has no such hash`,
        );
        throw new SilentExit(exitCodes.failed);
      }
      if (status === 202) {
        console.log(
          lang === "zh-CN"
            ? `已接收，尚未锚定（叶子序号 ${String(body.leafIndex)}）`
            : `accepted, not anchored yet (leaf ${String(body.leafIndex)})`,
        );
        throw new SilentExit(exitCodes.failed);
      }
      if (body.recordId === undefined) {
        await verifyLeafOnly(body, rpcUrlOf(values), lang, await verifierTrust(values.trust), policy);
        return;
      }
      raw = body;
    } else raw = readJsonFile(file!);
    const trust = await verifierTrust(values.trust);
    const rpcUrl = rpcUrlOf(values);
    // The witnesses' cosignatures on the checkpoint each valid receipt was proved against: the
    // flags' policy, else the one the trust file sets for the receipt's deployment.
    const result = await verifyDocument(raw, chainFacts(rpcUrl, trust), recoverSigner, trust, {
      policy,
      source: gatewayCheckpoints,
    });
    if (result.kind === "unreadable")
      throw new UsageError(`${file ?? values.hash} holds no receipt dutyproof can read`);
    if (result.kind === "bundle") {
      const results = result.items.map((item) => ({
        recordId: item.evidence.receipt.recordId,
        ...item.verdict,
        ...item.notices,
        ...(item.witnesses ? { witnesses: item.witnesses.witnesses } : {}),
      }));
      const invalid = result.items.filter((item) => !item.verdict.valid);
      if (json)
        console.log(
          JSON.stringify(
            { valid: invalid.length === 0, records: results.length, pending: result.bundle.pending, results },
            null,
            2,
          ),
        );
      else {
        const zh = lang === "zh-CN";
        console.log(
          invalid.length === 0
            ? zh
              ? `有效：导出包中 ${results.length} 条记录全部核验通过（另有 ${result.bundle.pending} 条尚未锚定）`
              : `VALID: all ${results.length} records of the bundle verify (${result.bundle.pending} more not anchored yet)`
            : zh
              ? `无效：${results.length} 条记录中 ${invalid.length} 条未通过核验`
              : `INVALID: ${invalid.length} of ${results.length} records fail`,
        );
        for (const { evidence, verdict } of invalid)
          console.log(`  ✗ ${evidence.receipt.recordId}: ${reasonText[verdict.reason!]?.[lang] ?? verdict.reason}`);
        for (const item of result.items)
          for (const line of noticeLines(item.notices, lang))
            console.log(`  ${item.evidence.receipt.recordId}: ${line}`);
      }
      if (invalid.length > 0) throw new SilentExit(exitCodes.failed);
      return;
    }
    const { item } = result;
    const r = item.evidence.receipt;
    if (json)
      console.log(
        JSON.stringify(
          {
            ...item.verdict,
            ...item.notices,
            ...(item.witnesses ? { witnesses: item.witnesses.witnesses } : {}),
            recordId: r.recordId,
            unitId: r.unitId,
            chainId: r.chainId,
            contract: r.contract,
            rpcUrl: redactUrl(rpcUrl),
          },
          null,
          2,
        ),
      );
    else for (const line of itemLines(item, lang)) console.log(line);
    if (!item.verdict.valid) throw new SilentExit(exitCodes.failed);
  },
);
