// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title MerkleLog — RFC 9162 (RFC 6962) Merkle tree hashing and proof verification.
/// @notice leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || left || right). Leaf indices
/// are 0-based. Every verifier returns false, never reverts, for a proof that does not verify.
/// @dev Each function here has a TypeScript twin in server/core/merkle; test/core and
/// test/contracts check that both agree on the same vector files.
library MerkleLog {
    /// @notice Root of the empty tree: SHA-256 of the empty string
    /// (`printf '' | sha256sum`).
    bytes32 internal constant EMPTY_ROOT = 0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855;

    /// @notice The RFC 9162 leaf hash of `data`.
    function hashLeaf(bytes memory data) internal pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes1(0x00), data));
    }

    /// @notice The RFC 9162 interior node hash of two children.
    function hashChildren(bytes32 left, bytes32 right) internal pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes1(0x01), left, right));
    }

    /// @notice Whether `proof` shows that leaf `index` with hash `leafHash` is in the tree of
    /// `treeSize` leaves whose root is `root`. Requires nothing: bad inputs yield false.
    function verifyInclusion(
        bytes32 leafHash,
        uint256 index,
        uint256 treeSize,
        bytes32[] calldata proof,
        bytes32 root
    ) internal pure returns (bool) {
        (bool ok, bytes32 computed) = rootFromInclusionProof(leafHash, index, treeSize, proof);
        return ok && computed == root;
    }

    /// @notice The root implied by an inclusion proof (RFC 9162 §2.1.3.2).
    /// @return ok false when the proof has the wrong length for (index, treeSize) or index >= treeSize
    /// @return root the implied root, zero when not ok
    function rootFromInclusionProof(
        bytes32 leafHash,
        uint256 index,
        uint256 treeSize,
        bytes32[] calldata proof
    ) internal pure returns (bool ok, bytes32 root) {
        function(bytes32, uint256, uint256, bytes32[] calldata) view returns (bool, bytes32) impl =
            _rootFromInclusionProof;
        function(bytes32, uint256, uint256, bytes32[] calldata) pure returns (bool, bytes32) asPure;
        // The SHA-256 precompile is a pure function of its input, but Solidity only lets `view`
        // code call it from assembly; the implementation is retyped as `pure` here, once.
        assembly ("memory-safe") {
            asPure := impl
        }
        return asPure(leafHash, index, treeSize, proof);
    }

    /// @notice Whether `proof` shows that the tree (size2, root2) extends the tree (size1, root1)
    /// (RFC 9162 §2.1.4.2). False for size1 = 0: a proof from the empty tree proves nothing,
    /// so callers handle a log's first checkpoint themselves.
    function verifyConsistency(
        uint256 size1,
        uint256 size2,
        bytes32 root1,
        bytes32 root2,
        bytes32[] calldata proof
    ) internal pure returns (bool) {
        function(uint256, uint256, bytes32, bytes32, bytes32[] calldata) view returns (bool) impl = _verifyConsistency;
        function(uint256, uint256, bytes32, bytes32, bytes32[] calldata) pure returns (bool) asPure;
        // See rootFromInclusionProof for why the implementation is retyped.
        assembly ("memory-safe") {
            asPure := impl
        }
        return asPure(size1, size2, root1, root2, proof);
    }

    function _rootFromInclusionProof(
        bytes32 leafHash,
        uint256 index,
        uint256 treeSize,
        bytes32[] calldata proof
    ) private view returns (bool, bytes32) {
        if (index >= treeSize) return (false, bytes32(0));
        // Nothing below can overflow: fn <= sn < treeSize and i < proof.length.
        unchecked {
            uint256 fn = index;
            uint256 sn = treeSize - 1;
            bytes32 root = leafHash;
            for (uint256 i = 0; i < proof.length; ++i) {
                if (sn == 0) return (false, bytes32(0));
                if (fn & 1 == 1 || fn == sn) {
                    root = _hashNode(proof[i], root);
                    // A right border node: climb past the levels where this subtree has no sibling.
                    while (fn & 1 == 0 && fn != 0) {
                        fn >>= 1;
                        sn >>= 1;
                    }
                } else {
                    root = _hashNode(root, proof[i]);
                }
                fn >>= 1;
                sn >>= 1;
            }
            if (sn != 0) return (false, bytes32(0));
            return (true, root);
        }
    }

    function _verifyConsistency(
        uint256 size1,
        uint256 size2,
        bytes32 root1,
        bytes32 root2,
        bytes32[] calldata proof
    ) private view returns (bool) {
        if (size1 == 0 || size1 > size2) return false;
        if (size1 == size2) return proof.length == 0 && root1 == root2;
        if (proof.length == 0) return false;

        // Nothing below can overflow: 0 < size1 < size2, fn <= sn, i <= proof.length.
        unchecked {
            // When size1 is a power of two, the old root is itself a node of the new tree and
            // the proof omits it; the RFC prepends it to the path.
            bool oldRootIsNode = size1 & (size1 - 1) == 0;
            uint256 next = oldRootIsNode ? 0 : 1;
            bytes32 fr = oldRootIsNode ? root1 : proof[0];

            uint256 fn = size1 - 1;
            uint256 sn = size2 - 1;
            while (fn & 1 == 1) {
                fn >>= 1;
                sn >>= 1;
            }
            (bool ok, bytes32 oldRoot, bytes32 newRoot, uint256 rest) = _foldConsistencyPath(proof, next, fr, fn, sn);
            return ok && rest == 0 && oldRoot == root1 && newRoot == root2;
        }
    }

    /// @dev The loop of RFC 9162 §2.1.4.2 over proof[next:], from fr = sr = `seed`. It is in
    /// assembly because it runs inside every `anchor`: it keeps the 0x01 prefix in place between
    /// hashes and reads the proof straight from calldata, which saves about a third of the gas
    /// per proof hash. ok is false when the proof is longer than the path.
    function _foldConsistencyPath(
        bytes32[] calldata proof,
        uint256 next,
        bytes32 seed,
        uint256 fn,
        uint256 sn
    ) private view returns (bool ok, bytes32 fr, bytes32 sr, uint256) {
        ok = true;
        fr = seed;
        sr = seed;
        assembly ("memory-safe") {
            let input := mload(0x40)
            mstore8(input, 1)
            let end := add(proof.offset, shl(5, proof.length))
            for {
                let at := add(proof.offset, shl(5, next))
            } lt(at, end) {
                at := add(at, 32)
            } {
                if iszero(sn) {
                    ok := 0
                    break
                }
                let c := calldataload(at)
                switch or(and(fn, 1), eq(fn, sn))
                case 0 {
                    // sr = H(sr || c)
                    mstore(add(input, 1), sr)
                    mstore(add(input, 33), c)
                    if iszero(staticcall(gas(), 0x02, input, 65, 0x00, 0x20)) {
                        revert(0, 0)
                    }
                    sr := mload(0x00)
                }
                default {
                    // fr = H(c || fr), sr = H(c || sr)
                    mstore(add(input, 1), c)
                    mstore(add(input, 33), fr)
                    if iszero(staticcall(gas(), 0x02, input, 65, 0x00, 0x20)) {
                        revert(0, 0)
                    }
                    fr := mload(0x00)
                    mstore(add(input, 33), sr)
                    if iszero(staticcall(gas(), 0x02, input, 65, 0x00, 0x20)) {
                        revert(0, 0)
                    }
                    sr := mload(0x00)
                    for {} and(iszero(and(fn, 1)), iszero(iszero(fn))) {} {
                        fn := shr(1, fn)
                        sn := shr(1, sn)
                    }
                }
                fn := shr(1, fn)
                sn := shr(1, sn)
            }
        }
        return (ok, fr, sr, sn);
    }

    /// @dev SHA-256(0x01 || left || right) by a direct call of the precompile. The input is
    /// written at the free memory pointer, which is not advanced: it is dead once hashed.
    function _hashNode(bytes32 left, bytes32 right) private view returns (bytes32 hash) {
        assembly ("memory-safe") {
            let input := mload(0x40)
            mstore(input, shl(248, 1))
            mstore(add(input, 1), left)
            mstore(add(input, 33), right)
            if iszero(staticcall(gas(), 0x02, input, 65, 0x00, 0x20)) {
                revert(0, 0)
            }
            hash := mload(0x00)
        }
    }
}
