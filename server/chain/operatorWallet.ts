/**
 * The operator's wallet with the fee policy of the network it sends to. Permissioned networks
 * often run without gas fees (Besu `min-gas-price=0`, `zeroBaseFee`): an account without balance
 * must then send with zero fees, whereas ethers would add a 1 gwei priority fee by default.
 */
import { JsonRpcProvider, type TransactionRequest, Wallet } from "ethers";

export type FeeOverrides =
  | { type: 0; gasPrice: bigint }
  | { type: 2; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }
  | Record<string, never>;

/**
 * Decides the fees once, from the network: a configured GAS_PRICE wins (legacy transactions);
 * else a zero base fee means zero EIP-1559 fees, and a chain without base fee whose gas price is
 * zero gets legacy zero-price transactions; otherwise ethers' own estimate.
 */
export async function feeOverridesFor(provider: JsonRpcProvider, gasPrice?: bigint): Promise<FeeOverrides> {
  if (gasPrice !== undefined) return { type: 0, gasPrice };
  const block = (await provider.send("eth_getBlockByNumber", ["latest", false])) as { baseFeePerGas?: string };
  if (block.baseFeePerGas !== undefined) {
    return BigInt(block.baseFeePerGas) === 0n ? { type: 2, maxFeePerGas: 0n, maxPriorityFeePerGas: 0n } : {};
  }
  return BigInt((await provider.send("eth_gasPrice", [])) as string) === 0n ? { type: 0, gasPrice: 0n } : {};
}

/** A Wallet that applies the network's fee policy to every transaction it populates. */
export class OperatorWallet extends Wallet {
  fees: FeeOverrides = {};

  override populateTransaction(tx: TransactionRequest) {
    return super.populateTransaction({ ...this.fees, ...tx });
  }
}

/** The operator's wallet on `provider`, its fee policy read from the network. */
export async function operatorWallet(key: string, provider: JsonRpcProvider, gasPrice?: bigint): Promise<Wallet> {
  const wallet = new OperatorWallet(key, provider);
  wallet.fees = await feeOverridesFor(provider, gasPrice);
  return wallet;
}
