/**
 * The county simulation's anonymous tips (issue 16): cadres of a few units join the tip group,
 * some send tips with real Semaphore proofs made locally, and one tries a second tip in the same
 * category and month, which the gateway must refuse. Kept apart from simulate.ts's own flow.
 */
import { Identity } from "@semaphore-protocol/identity";
import { TIP_CATEGORIES } from "../server/core/tip.ts";
import { type GroupView, proveTip, stopProverThreads, tipContent } from "./tipProver.ts";

/** What the simulation reports of tips. */
export interface TipSimulation {
  /** Tips the gateway accepted. */
  tips: number;
  /** Repeated tips (same member, category and month) the gateway refused, of those tried. */
  repeatsRefused: number;
  repeatsTried: number;
}

/**
 * Registers `members` identities through the operator's token (as units would through theirs),
 * sends `count` tips from distinct members, and tries one repeat. Proving costs seconds each.
 */
export async function simulateTips(options: {
  url: string;
  operatorToken: string;
  unitIds: string[];
  members: number;
  count: number;
  pick: (n: number) => number;
}): Promise<TipSimulation> {
  const { url } = options;
  const call = async (path: string, body?: unknown, token?: string) => {
    const res = await fetch(url + path, {
      method: body === undefined ? "GET" : "POST",
      headers: {
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const identities = Array.from({ length: Math.max(options.members, options.count) }, () => new Identity());
  for (const [i, identity] of identities.entries()) {
    const unitId = options.unitIds[i % options.unitIds.length]!;
    const res = await call(
      "/v1/tips/members",
      { unitId, commitment: identity.commitment.toString() },
      options.operatorToken,
    );
    if (res.status !== 201) throw new Error(`registering a tip-group member answered ${res.status}`);
  }
  const group = (await call("/v1/tips/group")).body as unknown as GroupView;
  let tips = 0;
  let repeatsRefused = 0;
  let repeatsTried = 0;
  try {
    const sent: Array<{ sender: Identity; category: (typeof TIP_CATEGORIES)[number] }> = [];
    for (let i = 0; i < options.count; i++) {
      const category = TIP_CATEGORIES[options.pick(TIP_CATEGORIES.length)]!;
      const target = { kind: "unit" as const, id: options.unitIds[options.pick(options.unitIds.length)]! };
      const { content } = tipContent(group, category, `模拟线索 ${i + 1}`, target);
      const res = await call("/v1/tips", { content, proof: await proveTip(identities[i]!, group, content) });
      if (res.status === 201) {
        tips++;
        sent.push({ sender: identities[i]!, category });
      }
    }
    const first = sent[0];
    if (first) {
      const { content } = tipContent(group, first.category, "同一人同类别再次反映");
      repeatsTried++;
      const res = await call("/v1/tips", { content, proof: await proveTip(first.sender, group, content) });
      if (res.status === 409) repeatsRefused++;
    }
  } finally {
    await stopProverThreads();
  }
  return { tips, repeatsRefused, repeatsTried };
}
