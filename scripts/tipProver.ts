/**
 * A tip sender in Node, as the console's tip page is in the browser: a Semaphore identity, the
 * group fetched from the gateway, a proof made locally with the circuit files of the installed
 * @zk-kit/semaphore-artifacts package (nothing fetched).
 */
import { createRequire } from "node:module";
import { randomBytes } from "node:crypto";
import { Group } from "@semaphore-protocol/group";
import type { Identity } from "@semaphore-protocol/identity";
import { generateProof } from "@semaphore-protocol/proof";
import {
  TIP_PROOF_DEPTH,
  type TipContent,
  type TipCategory,
  tipMessage,
  tipScope,
  trackingIdOf,
} from "../server/core/tip.ts";
import type { SemaphoreProof } from "../server/core/tip.ts";

const artifacts = createRequire(import.meta.url)
  .resolve("@zk-kit/semaphore-artifacts/package.json")
  .replace(/package\.json$/, "");

/** The wasm and zkey of the tips' circuit depth, from the installed package. */
export const localArtifacts = {
  wasm: `${artifacts}semaphore-${TIP_PROOF_DEPTH}.wasm`,
  zkey: `${artifacts}semaphore-${TIP_PROOF_DEPTH}.zkey`,
};

export interface GroupView {
  members: string[];
  root: string;
  logId: string;
  period: string;
}

/** A tracking code: 32 random bytes, 0x hex; its SHA-256 goes in the content. */
export function newTrackingCode(): string {
  return "0x" + randomBytes(32).toString("hex");
}

/** Content of a tip with a fresh tracking code. */
export function tipContent(
  group: GroupView,
  category: TipCategory,
  text: string,
  target: TipContent["target"] = { kind: "department", id: "civil-affairs" },
): { content: TipContent; code: string } {
  const code = newTrackingCode();
  return { code, content: { category, period: group.period, target, text, trackingId: trackingIdOf(code) } };
}

/** A proof that `identity` is in `group` (the leaves as served), for `content`'s scope and message. */
export async function proveTip(
  identity: Identity,
  group: GroupView,
  content: TipContent,
  overrides: { scope?: string; members?: string[] } = {},
): Promise<SemaphoreProof> {
  const tree = new Group();
  const members = overrides.members ?? group.members;
  for (const [i, member] of members.entries()) {
    if (member === "0") {
      tree.addMember(1n);
      tree.removeMember(i);
    } else tree.addMember(BigInt(member));
  }
  const proof = await generateProof(
    identity,
    tree.generateMerkleProof(tree.indexOf(identity.commitment)),
    BigInt(tipMessage(content)),
    BigInt(overrides.scope ?? tipScope(group.logId, content.category, content.period)),
    TIP_PROOF_DEPTH,
    localArtifacts,
  );
  return proof as unknown as SemaphoreProof;
}

/** Ends snarkjs's curve worker threads, which otherwise keep the test process alive. */
export async function stopProverThreads(): Promise<void> {
  const curve = (globalThis as { curve_bn128?: { terminate(): Promise<void> } }).curve_bn128;
  await curve?.terminate();
  delete (globalThis as { curve_bn128?: unknown }).curve_bn128;
}
