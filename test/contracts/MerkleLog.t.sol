// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {DutyLedger} from "../../contracts/DutyLedger.sol";
import {MerkleLog} from "../../contracts/libraries/MerkleLog.sol";
import {MerkleTreeOracle} from "./MerkleTreeOracle.sol";

/// Fuzz tests of DutyLedger's pure verifiers against the naive oracle tree.
contract MerkleLogFuzzTest {
    DutyLedger private ledger;

    function setUp() public {
        ledger = new DutyLedger(address(this));
    }

    /// Known answers, shared with test/core/merkle.test.ts:
    /// printf '' | sha256sum; printf '\x00' | sha256sum; and the root of the RFC 6962 reference
    /// tree's first two leaves, whose data are "" and 0x00.
    function test_hashesMatchTheTypeScriptTwin() public pure {
        require(MerkleLog.EMPTY_ROOT == sha256(""), "empty root");
        bytes32 leaf0 = MerkleLog.hashLeaf("");
        require(leaf0 == 0x6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d, "leaf of empty data");
        bytes32 leaf1 = MerkleLog.hashLeaf(hex"00");
        require(
            MerkleLog.hashChildren(leaf0, leaf1) == 0xfac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125,
            "root of two reference leaves"
        );
    }

    function _flipBit(bytes32 value, uint256 bit) private pure returns (bytes32) {
        return value ^ bytes32(uint256(1) << (bit % 256));
    }

    function _copy(bytes32[] memory proof) private pure returns (bytes32[] memory out) {
        out = new bytes32[](proof.length);
        for (uint256 i = 0; i < proof.length; i++) out[i] = proof[i];
    }

    function _withoutLast(bytes32[] memory proof) private pure returns (bytes32[] memory out) {
        out = new bytes32[](proof.length - 1);
        for (uint256 i = 0; i < out.length; i++) out[i] = proof[i];
    }

    function testFuzz_inclusionProofOfEveryLeafVerifies(uint256 seed, uint16 sizeSeed, uint16 indexSeed) public view {
        uint256 size = 1 + (uint256(sizeSeed) % 80);
        uint256 index = uint256(indexSeed) % size;
        bytes32[] memory leaves = MerkleTreeOracle.leavesFrom(seed, size);
        bytes32 root = MerkleTreeOracle.root(leaves, 0, size);
        bytes32[] memory proof = MerkleTreeOracle.inclusionProof(leaves, index, 0, size);
        require(ledger.verifyInclusion(leaves[index], index, size, proof, root), "valid proof rejected");
    }

    function testFuzz_inclusionRejectsAnyFlippedBit(
        uint256 seed,
        uint16 sizeSeed,
        uint16 indexSeed,
        uint16 bit
    ) public view {
        uint256 size = 1 + (uint256(sizeSeed) % 80);
        uint256 index = uint256(indexSeed) % size;
        bytes32[] memory leaves = MerkleTreeOracle.leavesFrom(seed, size);
        bytes32 root = MerkleTreeOracle.root(leaves, 0, size);
        bytes32[] memory proof = MerkleTreeOracle.inclusionProof(leaves, index, 0, size);
        bytes32 leaf = leaves[index];
        require(!ledger.verifyInclusion(_flipBit(leaf, bit), index, size, proof, root), "flipped leaf accepted");
        require(!ledger.verifyInclusion(leaf, index, size, proof, _flipBit(root, bit)), "flipped root accepted");
        if (proof.length > 0) {
            bytes32[] memory bad = _copy(proof);
            uint256 at = uint256(seed) % bad.length;
            bad[at] = _flipBit(bad[at], bit);
            require(!ledger.verifyInclusion(leaf, index, size, bad, root), "flipped proof accepted");
            require(!ledger.verifyInclusion(leaf, index, size, _withoutLast(proof), root), "truncated proof accepted");
        }
        bytes32[] memory longer = MerkleTreeOracle.append(proof, root);
        require(!ledger.verifyInclusion(leaf, index, size, longer, root), "extended proof accepted");
        require(!ledger.verifyInclusion(leaf, size, size, proof, root), "index == size accepted");
    }

    function testFuzz_consistencyProofVerifies(uint256 seed, uint16 size1Seed, uint16 size2Seed) public view {
        uint256 size2 = 1 + (uint256(size2Seed) % 80);
        uint256 size1 = 1 + (uint256(size1Seed) % size2);
        bytes32[] memory leaves = MerkleTreeOracle.leavesFrom(seed, size2);
        bytes32 root1 = MerkleTreeOracle.root(leaves, 0, size1);
        bytes32 root2 = MerkleTreeOracle.root(leaves, 0, size2);
        bytes32[] memory proof = MerkleTreeOracle.consistencyProof(leaves, size1, 0, size2, true);
        require(ledger.verifyConsistency(size1, size2, root1, root2, proof), "valid proof rejected");
    }

    function testFuzz_consistencyRejectsAnyFlippedBit(
        uint256 seed,
        uint16 size1Seed,
        uint16 size2Seed,
        uint16 bit
    ) public view {
        uint256 size2 = 2 + (uint256(size2Seed) % 79);
        uint256 size1 = 1 + (uint256(size1Seed) % (size2 - 1));
        bytes32[] memory leaves = MerkleTreeOracle.leavesFrom(seed, size2);
        bytes32 root1 = MerkleTreeOracle.root(leaves, 0, size1);
        bytes32 root2 = MerkleTreeOracle.root(leaves, 0, size2);
        bytes32[] memory proof = MerkleTreeOracle.consistencyProof(leaves, size1, 0, size2, true);
        require(!ledger.verifyConsistency(size1, size2, _flipBit(root1, bit), root2, proof), "flipped root1 accepted");
        require(!ledger.verifyConsistency(size1, size2, root1, _flipBit(root2, bit), proof), "flipped root2 accepted");
        bytes32[] memory bad = _copy(proof);
        uint256 at = uint256(seed) % bad.length;
        bad[at] = _flipBit(bad[at], bit);
        require(!ledger.verifyConsistency(size1, size2, root1, root2, bad), "flipped proof accepted");
        require(!ledger.verifyConsistency(size1, size2, root1, root2, _withoutLast(proof)), "truncated proof accepted");
        require(
            !ledger.verifyConsistency(size1, size2, root1, root2, MerkleTreeOracle.append(proof, root2)),
            "extended proof accepted"
        );
        require(!ledger.verifyConsistency(0, size2, root1, root2, proof), "size1 = 0 accepted");
        require(!ledger.verifyConsistency(size2, size1, root2, root1, proof), "size1 > size2 accepted");
    }

    /// Junk of any length and any sizes never verifies against a root nobody computed.
    function testFuzz_junkNeverVerifies(
        bytes32 leaf,
        uint256 index,
        uint256 size,
        uint256 size2,
        bytes32 root,
        bytes32 root2,
        uint8 length,
        uint256 seed
    ) public view {
        bytes32[] memory junk = new bytes32[](length % 72);
        for (uint256 i = 0; i < junk.length; i++) junk[i] = keccak256(abi.encode(seed, i));
        require(
            !ledger.verifyInclusion(leaf, index, size, junk, root) || (junk.length == 0 && leaf == root),
            "junk inclusion"
        );
        require(
            !ledger.verifyConsistency(size, size2, root, root2, junk) || (size == size2 && root == root2),
            "junk consistency"
        );
    }
}
