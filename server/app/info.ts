/** What the gateway states about itself: its chain, contract, log, signing definition and catalog. */
import type { CatalogEntry } from "../catalog/loadCatalog.ts";
import type { Deployment } from "../chain/deployment.ts";
import { eip712Definition } from "../core/eip712.ts";
import { suitesAccepted } from "../core/smSuite.ts";
import type { LedgerStore } from "../store/LedgerStore.ts";

/** GET /v1/info: where the log is anchored and what units sign. */
export function gatewayInfo(
  deployment: Deployment,
  store: LedgerStore,
  publishedRpcUrl: string,
  /** The log's signed checkpoints: /v1/info names its C2SP origin and note verifier key. */
  tlog?: { origin: string; verifierKey: string },
) {
  return {
    name: "dutyproof gateway",
    chainId: deployment.chainId,
    rpcUrl: publishedRpcUrl,
    contracts: { DutyLedger: deployment.address },
    deployBlock: deployment.deployBlock,
    logId: deployment.logId,
    treeSize: store.treeSize,
    eip712: eip712Definition(deployment.chainId, deployment.address),
    leafFormat: "SHA-256(0x00 ‖ 'DPL1' ‖ recordDigest ‖ signature)",
    suites: suitesAccepted(),
    ...(tlog ? { tlog: { origin: tlog.origin, verifierKey: tlog.verifierKey } } : {}),
  };
}

/** GET /v1/duty-types: the catalog with the ids records name. */
export function dutyTypeCatalog(catalog: CatalogEntry[]) {
  return { dutyTypes: catalog.map((e) => ({ id: e.id, ...e.document })) };
}
