export * from "./hasher.ts";
export * from "./layout.ts";
export * from "./proofs.ts";
export * from "./verify.ts";
export { MemoryTree } from "./MemoryTree.ts";
export { UniformTree } from "./UniformTree.ts";
export * from "./tiles.ts";
export * from "./integrate.ts";
