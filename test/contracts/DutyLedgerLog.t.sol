// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {DutyLedger} from "../../contracts/DutyLedger.sol";
import {MerkleTreeOracle} from "./MerkleTreeOracle.sol";

/// Someone who is not the log's operator and tries to anchor anyway.
contract Stranger {
    function tryAnchor(DutyLedger ledger, bytes32 logId, uint256 size, bytes32 root) external returns (bool) {
        try ledger.anchor(logId, size, root, new bytes32[](0)) {
            return true;
        } catch {
            return false;
        }
    }
}

/// The log's operator, driven by the invariant fuzzer: it appends leaves and anchors honestly,
/// and it also tries every way of cheating it has. Ghost variables record what happened.
contract LogOperatorHandler {
    bytes32 public constant LOG_ID = keccak256("log:invariant");
    uint256 private constant MAX_LEAVES = 200;

    DutyLedger public immutable ledger;
    Stranger private immutable stranger;
    bytes32[] private _leaves;
    uint256[] public anchoredSizes;
    mapping(uint256 size => bytes32 root) public anchoredRoot;
    uint256 public cheatsAccepted;
    uint256 public honestAnchors;

    constructor(DutyLedger ledger_) {
        ledger = ledger_;
        stranger = new Stranger();
    }

    function anchoredCount() external view returns (uint256) {
        return anchoredSizes.length;
    }

    function _currentSize() private view returns (uint256) {
        return anchoredSizes.length == 0 ? 0 : anchoredSizes[anchoredSizes.length - 1];
    }

    /// Honest: append 1..16 leaves and anchor the new tree with its consistency proof.
    function appendAndAnchor(uint8 count, uint256 seed) external {
        if (_leaves.length >= MAX_LEAVES) return;
        uint256 n = 1 + (count % 16);
        for (uint256 i = 0; i < n; i++) _leaves.push(sha256(abi.encodePacked(bytes1(0x00), seed, _leaves.length)));
        bytes32[] memory leaves = _leaves;
        uint256 oldSize = _currentSize();
        uint256 newSize = leaves.length;
        bytes32 newRoot = MerkleTreeOracle.root(leaves, 0, newSize);
        bytes32[] memory proof =
            oldSize == 0 ? new bytes32[](0) : MerkleTreeOracle.consistencyProof(leaves, oldSize, 0, newSize, true);
        ledger.anchor(LOG_ID, newSize, newRoot, proof);
        anchoredSizes.push(newSize);
        anchoredRoot[newSize] = newRoot;
        honestAnchors++;
    }

    /// Cheat: rewrite one already-anchored leaf, append more, and anchor with an honest proof
    /// of the forged tree.
    function anchorRewrittenHistory(uint256 position, uint256 seed) external {
        uint256 oldSize = _currentSize();
        if (oldSize == 0) return;
        bytes32[] memory leaves = MerkleTreeOracle.append(_leaves, bytes32(seed));
        leaves[position % oldSize] = keccak256(abi.encode("forged", seed));
        bytes32[] memory proof = MerkleTreeOracle.consistencyProof(leaves, oldSize, 0, leaves.length, true);
        try ledger.anchor(LOG_ID, leaves.length, MerkleTreeOracle.root(leaves, 0, leaves.length), proof) {
            cheatsAccepted++;
        } catch {}
    }

    /// Cheat: shrink the log, or re-anchor the current size with another root.
    function anchorNotNewer(uint256 sizeSeed, bytes32 root) external {
        uint256 oldSize = _currentSize();
        uint256 size = sizeSeed % (oldSize + 1);
        try ledger.anchor(LOG_ID, size, root, new bytes32[](0)) {
            cheatsAccepted++;
        } catch {}
    }

    /// Cheat: a larger size with a random root and a made-up proof.
    function anchorJunkProof(uint8 grow, bytes32 root, uint8 length, uint256 seed) external {
        uint256 oldSize = _currentSize();
        if (oldSize == 0) return;
        bytes32[] memory proof = new bytes32[](length % 24);
        for (uint256 i = 0; i < proof.length; i++) proof[i] = keccak256(abi.encode(seed, i));
        try ledger.anchor(LOG_ID, oldSize + 1 + grow, root, proof) {
            cheatsAccepted++;
        } catch {}
    }

    /// Cheat: somebody else anchors.
    function strangerAnchors(uint256 size, bytes32 root) external {
        if (stranger.tryAnchor(ledger, LOG_ID, size, root)) cheatsAccepted++;
    }
}

/// Invariants of the checkpoint log: it only grows, anchored roots never change, and only its
/// operator can extend it.
contract DutyLedgerLogInvariantTest {
    DutyLedger private ledger;
    LogOperatorHandler private handler;

    function setUp() public {
        ledger = new DutyLedger(address(this));
        handler = new LogOperatorHandler(ledger);
        ledger.createLog(handler.LOG_ID(), address(handler));
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function invariant_sizeNeverDecreases() public view {
        uint256 count = handler.anchoredCount();
        for (uint256 i = 1; i < count; i++) {
            require(handler.anchoredSizes(i) > handler.anchoredSizes(i - 1), "size decreased");
        }
        (uint64 size, ) = ledger.latestCheckpoint(handler.LOG_ID());
        require(size == (count == 0 ? 0 : handler.anchoredSizes(count - 1)), "head is not the last honest anchor");
        require(ledger.logHead(handler.LOG_ID()).checkpointCount == count, "checkpoint count drifted");
    }

    function invariant_anchoredRootsNeverChange() public view {
        uint256 count = handler.anchoredCount();
        for (uint256 i = 0; i < count; i++) {
            uint256 size = handler.anchoredSizes(i);
            (bool found, DutyLedger.Checkpoint memory checkpoint) = ledger.checkpointAt(handler.LOG_ID(), size);
            require(found && checkpoint.root == handler.anchoredRoot(size), "anchored root changed");
        }
    }

    function invariant_noCheatIsAccepted() public view {
        require(handler.cheatsAccepted() == 0, "a cheating anchor was accepted");
    }
}
