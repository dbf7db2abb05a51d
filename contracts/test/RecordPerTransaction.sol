// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title RecordPerTransaction — the benchmark's baseline: what anchoring each record in its own
/// transaction costs, the way a plain hash-registry contract does it (one storage slot and one
/// event per record). Benchmark use only; DutyLedger anchors checkpoints of many records instead.
contract RecordPerTransaction {
    /// @notice A record's leaf hash was anchored at `anchoredAt` (Unix seconds, block time).
    event RecordAnchored(bytes32 indexed leafHash, uint256 anchoredAt);

    /// @notice The leaf hash was anchored before.
    error RecordPerTransactionAlreadyAnchored(bytes32 leafHash);

    mapping(bytes32 leafHash => uint256 anchoredAt) private _anchoredAt;

    /// @notice Anchors one record's leaf hash.
    function anchorRecord(bytes32 leafHash) external {
        if (_anchoredAt[leafHash] != 0) revert RecordPerTransactionAlreadyAnchored(leafHash);
        _anchoredAt[leafHash] = block.timestamp;
        emit RecordAnchored(leafHash, block.timestamp);
    }

    /// @notice When `leafHash` was anchored (0 if never).
    function anchoredAt(bytes32 leafHash) external view returns (uint256) {
        return _anchoredAt[leafHash];
    }
}
