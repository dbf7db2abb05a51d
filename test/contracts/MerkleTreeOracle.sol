// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title MerkleTreeOracle — a deliberately naive RFC 9162 tree for tests: roots and proofs by
/// the recursive definitions of RFC 9162 §2.1, straight from the text, over leaf hashes in memory.
library MerkleTreeOracle {
    function hashChildren(bytes32 left, bytes32 right) internal pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes1(0x01), left, right));
    }

    function largestPowerOfTwoBelow(uint256 n) internal pure returns (uint256 k) {
        k = 1;
        while (k * 2 < n) k *= 2;
    }

    /// MTH(D[begin:end]) for a non-empty range.
    function root(bytes32[] memory leaves, uint256 begin, uint256 end) internal pure returns (bytes32) {
        if (end - begin == 1) return leaves[begin];
        uint256 k = largestPowerOfTwoBelow(end - begin);
        return hashChildren(root(leaves, begin, begin + k), root(leaves, begin + k, end));
    }

    /// PATH(m, D[begin:end]).
    function inclusionProof(
        bytes32[] memory leaves,
        uint256 m,
        uint256 begin,
        uint256 end
    ) internal pure returns (bytes32[] memory) {
        if (end - begin == 1) return new bytes32[](0);
        uint256 k = largestPowerOfTwoBelow(end - begin);
        if (m < k) return append(inclusionProof(leaves, m, begin, begin + k), root(leaves, begin + k, end));
        return append(inclusionProof(leaves, m - k, begin + k, end), root(leaves, begin, begin + k));
    }

    /// SUBPROOF(m, D[begin:end], complete).
    function consistencyProof(
        bytes32[] memory leaves,
        uint256 m,
        uint256 begin,
        uint256 end,
        bool complete
    ) internal pure returns (bytes32[] memory) {
        if (m == end - begin) {
            if (complete) return new bytes32[](0);
            return append(new bytes32[](0), root(leaves, begin, end));
        }
        uint256 k = largestPowerOfTwoBelow(end - begin);
        if (m <= k)
            return append(consistencyProof(leaves, m, begin, begin + k, complete), root(leaves, begin + k, end));
        return append(consistencyProof(leaves, m - k, begin + k, end, false), root(leaves, begin, begin + k));
    }

    function append(bytes32[] memory list, bytes32 item) internal pure returns (bytes32[] memory out) {
        out = new bytes32[](list.length + 1);
        for (uint256 i = 0; i < list.length; i++) out[i] = list[i];
        out[list.length] = item;
    }

    /// Leaf hashes derived from a seed, distinct for distinct (seed, i).
    function leavesFrom(uint256 seed, uint256 count) internal pure returns (bytes32[] memory leaves) {
        leaves = new bytes32[](count);
        for (uint256 i = 0; i < count; i++) leaves[i] = sha256(abi.encodePacked(bytes1(0x00), seed, i));
    }
}
