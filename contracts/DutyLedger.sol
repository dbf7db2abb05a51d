// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IDutyLedger} from "./interfaces/IDutyLedger.sol";
import {MerkleLog} from "./libraries/MerkleLog.sol";

/// @title DutyLedger — the on-chain trust anchor of dutyproof.
/// @notice See {IDutyLedger}. The admin (DEFAULT_ADMIN_ROLE) grants REGISTRAR_ROLE and
/// creates logs; registrars manage units, inspectors and duty types; each log's operator
/// anchors that log's checkpoints, and only with a valid consistency proof.
contract DutyLedger is IDutyLedger, AccessControl {
    /// @notice Role that registers and updates units, inspectors and duty types.
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");

    mapping(bytes32 unitId => Unit) private _units;
    mapping(bytes32 unitId => KeyPeriod[]) private _keyHistory;
    mapping(bytes32 unitId => StatusPeriod[]) private _statusHistory;
    mapping(address signer => bytes32 unitId) private _unitOfSigner;
    mapping(address account => Inspector) private _inspectors;
    mapping(bytes32 dutyTypeId => DutyType) private _dutyTypes;
    mapping(bytes32 logId => Log) private _logs;
    mapping(bytes32 logId => mapping(uint256 size => Checkpoint)) private _checkpoints;
    mapping(bytes32 logId => LogSeal) private _seals;

    /// @param admin receives DEFAULT_ADMIN_ROLE and may grant every other role
    constructor(address admin) {
        if (admin == address(0)) revert DutyLedgerZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ───────────────────────────── registry: units ─────────────────────────────

    /// @inheritdoc IDutyLedger
    function registerUnit(
        bytes32 unitId,
        bytes32 parentId,
        uint8 level,
        address signer
    ) external onlyRole(REGISTRAR_ROLE) {
        if (unitId == bytes32(0)) revert DutyLedgerZeroId();
        if (_units[unitId].status != UnitStatus.None) revert DutyLedgerUnitExists(unitId);
        if (parentId != bytes32(0) && _units[parentId].status == UnitStatus.None) {
            revert DutyLedgerUnknownUnit(parentId);
        }
        _claimSigner(unitId, signer);
        uint64 now_ = uint64(block.timestamp);
        _units[unitId] = Unit({
            parentId: parentId,
            signer: signer,
            level: level,
            status: UnitStatus.Active,
            registeredAt: now_
        });
        _keyHistory[unitId].push(KeyPeriod({signer: signer, validFrom: now_, validUntil: 0}));
        _statusHistory[unitId].push(StatusPeriod({status: UnitStatus.Active, since: now_}));
        emit UnitRegistered(unitId, parentId, level, signer);
    }

    /// @inheritdoc IDutyLedger
    function rotateUnitKey(bytes32 unitId, address newSigner) external {
        Unit storage u = _requireUnit(unitId);
        address oldSigner = u.signer;
        if (msg.sender != oldSigner && !hasRole(REGISTRAR_ROLE, msg.sender)) {
            revert DutyLedgerNotUnitSignerOrRegistrar(unitId, msg.sender);
        }
        _claimSigner(unitId, newSigner);
        uint64 now_ = uint64(block.timestamp);
        KeyPeriod[] storage history = _keyHistory[unitId];
        history[history.length - 1].validUntil = now_;
        history.push(KeyPeriod({signer: newSigner, validFrom: now_, validUntil: 0}));
        u.signer = newSigner;
        emit UnitKeyRotated(unitId, oldSigner, newSigner);
    }

    /// @inheritdoc IDutyLedger
    function setUnitStatus(bytes32 unitId, UnitStatus status) external onlyRole(REGISTRAR_ROLE) {
        Unit storage u = _requireUnit(unitId);
        if (status == UnitStatus.None || status == u.status) revert DutyLedgerInvalidStatus(unitId, status);
        u.status = status;
        _statusHistory[unitId].push(StatusPeriod({status: status, since: uint64(block.timestamp)}));
        emit UnitStatusChanged(unitId, status);
    }

    /// @inheritdoc IDutyLedger
    function unit(bytes32 unitId) external view returns (Unit memory) {
        return _units[unitId];
    }

    /// @inheritdoc IDutyLedger
    function unitKeyHistory(bytes32 unitId) external view returns (KeyPeriod[] memory) {
        return _keyHistory[unitId];
    }

    /// @inheritdoc IDutyLedger
    function unitStatusHistory(bytes32 unitId) external view returns (StatusPeriod[] memory) {
        return _statusHistory[unitId];
    }

    /// @inheritdoc IDutyLedger
    function unitOfSigner(address signer) external view returns (bytes32) {
        return _unitOfSigner[signer];
    }

    /// @inheritdoc IDutyLedger
    function unitStatusAt(bytes32 unitId, uint64 timestamp) public view returns (UnitStatus) {
        StatusPeriod[] storage history = _statusHistory[unitId];
        for (uint256 i = history.length; i > 0; --i) {
            StatusPeriod storage period = history[i - 1];
            if (period.since <= timestamp) return period.status;
        }
        return UnitStatus.None;
    }

    /// @inheritdoc IDutyLedger
    function isAuthorizedSigner(bytes32 unitId, address signer, uint64 timestamp) external view returns (bool) {
        if (unitStatusAt(unitId, timestamp) != UnitStatus.Active) return false;
        KeyPeriod[] storage history = _keyHistory[unitId];
        for (uint256 i = history.length; i > 0; --i) {
            KeyPeriod storage period = history[i - 1];
            if (period.signer == signer) {
                return period.validFrom <= timestamp && (period.validUntil == 0 || timestamp < period.validUntil);
            }
        }
        return false;
    }

    // ───────────────────────────── registry: inspectors ─────────────────────────────

    /// @inheritdoc IDutyLedger
    function registerInspector(address account, bytes32 department) external onlyRole(REGISTRAR_ROLE) {
        if (account == address(0)) revert DutyLedgerZeroAddress();
        if (_inspectors[account].registeredAt != 0) revert DutyLedgerInspectorExists(account);
        _inspectors[account] = Inspector({department: department, active: true, registeredAt: uint64(block.timestamp)});
        emit InspectorRegistered(account, department);
    }

    /// @inheritdoc IDutyLedger
    function setInspectorActive(address account, bool active) external onlyRole(REGISTRAR_ROLE) {
        Inspector storage i = _inspectors[account];
        if (i.registeredAt == 0) revert DutyLedgerUnknownInspector(account);
        i.active = active;
        emit InspectorStatusChanged(account, active);
    }

    /// @inheritdoc IDutyLedger
    function inspector(address account) external view returns (Inspector memory) {
        return _inspectors[account];
    }

    // ───────────────────────────── registry: duty types ─────────────────────────────

    /// @inheritdoc IDutyLedger
    function registerDutyType(
        bytes32 dutyTypeId,
        bytes32 department,
        uint256 levelMask
    ) external onlyRole(REGISTRAR_ROLE) {
        if (dutyTypeId == bytes32(0)) revert DutyLedgerZeroId();
        if (_dutyTypes[dutyTypeId].registeredAt != 0) revert DutyLedgerDutyTypeExists(dutyTypeId);
        _dutyTypes[dutyTypeId] = DutyType({
            department: department,
            levelMask: levelMask,
            active: true,
            registeredAt: uint64(block.timestamp)
        });
        emit DutyTypeRegistered(dutyTypeId, department, levelMask);
    }

    /// @inheritdoc IDutyLedger
    function setDutyTypeActive(bytes32 dutyTypeId, bool active) external onlyRole(REGISTRAR_ROLE) {
        DutyType storage d = _dutyTypes[dutyTypeId];
        if (d.registeredAt == 0) revert DutyLedgerUnknownDutyType(dutyTypeId);
        d.active = active;
        emit DutyTypeStatusChanged(dutyTypeId, active);
    }

    /// @inheritdoc IDutyLedger
    function dutyType(bytes32 dutyTypeId) external view returns (DutyType memory) {
        return _dutyTypes[dutyTypeId];
    }

    /// @inheritdoc IDutyLedger
    function dutyTypeAppliesTo(bytes32 dutyTypeId, uint8 level) external view returns (bool) {
        DutyType storage d = _dutyTypes[dutyTypeId];
        if (!d.active) return false;
        return d.levelMask == 0 || (d.levelMask >> level) & 1 == 1;
    }

    // ───────────────────────────── logs and checkpoints ─────────────────────────────

    /// @inheritdoc IDutyLedger
    function createLog(bytes32 logId, address operator) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (logId == bytes32(0)) revert DutyLedgerZeroId();
        if (operator == address(0)) revert DutyLedgerZeroAddress();
        // A sealed log has no operator any more, but its id stays taken.
        if (_logs[logId].operator != address(0) || _seals[logId].sealedAt != 0) revert DutyLedgerLogExists(logId);
        _logs[logId].operator = operator;
        emit LogCreated(logId, operator);
    }

    /// @inheritdoc IDutyLedger
    function setLogOperator(bytes32 logId, address newOperator) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newOperator == address(0)) revert DutyLedgerZeroAddress();
        Log storage head = _logs[logId];
        address oldOperator = head.operator;
        if (oldOperator == address(0)) _revertClosedLog(logId);
        head.operator = newOperator;
        emit LogOperatorChanged(logId, oldOperator, newOperator);
    }

    /// @inheritdoc IDutyLedger
    function sealLog(bytes32 logId, uint256 size, bytes32 successorLogId) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Log storage head = _logs[logId];
        if (head.operator == address(0)) _revertClosedLog(logId);
        if (successorLogId == logId || _logs[successorLogId].operator == address(0)) {
            revert DutyLedgerInvalidSuccessor(logId, successorLogId);
        }
        bytes32 root;
        if (size != 0) {
            Checkpoint storage checkpoint = _checkpoints[logId][size];
            if (checkpoint.anchoredAt == 0) revert DutyLedgerNoCheckpointAt(logId, size);
            root = checkpoint.root;
        }
        _seals[logId] = LogSeal({
            size: uint64(size),
            sealedAt: uint64(block.timestamp),
            successorLogId: successorLogId
        });
        // With no operator, anchor() refuses everyone without reading the seal on its own path,
        // so sealing costs the honest anchor nothing.
        head.operator = address(0);
        emit LogSealed(logId, successorLogId, uint64(size), root);
    }

    /// @inheritdoc IDutyLedger
    function logSeal(bytes32 logId) external view returns (LogSeal memory) {
        return _seals[logId];
    }

    /// @inheritdoc IDutyLedger
    function anchor(bytes32 logId, uint256 newSize, bytes32 newRoot, bytes32[] calldata proof) external {
        Log memory head = _logs[logId];
        if (head.operator == address(0)) _revertClosedLog(logId);
        if (msg.sender != head.operator) revert DutyLedgerNotLogOperator(logId, msg.sender);
        uint64 oldSize = head.size;
        if (newSize <= oldSize || newSize > type(uint64).max) {
            revert DutyLedgerCheckpointNotNewer(logId, oldSize, newSize);
        }
        // The first checkpoint extends the empty tree, which any tree does; it takes no proof.
        bool consistent =
            oldSize == 0
                ? proof.length == 0
                : MerkleLog.verifyConsistency(oldSize, newSize, _checkpoints[logId][oldSize].root, newRoot, proof);
        if (!consistent) revert DutyLedgerInconsistentCheckpoint(logId, oldSize, newSize);

        _checkpoints[logId][newSize] = Checkpoint({
            root: newRoot,
            anchoredAt: uint64(block.timestamp),
            blockNumber: uint64(block.number),
            previousSize: oldSize
        });
        _logs[logId] = Log({operator: head.operator, size: uint64(newSize), checkpointCount: head.checkpointCount + 1});
        emit CheckpointAnchored(logId, uint64(newSize), newRoot, oldSize);
    }

    /// @inheritdoc IDutyLedger
    function logHead(bytes32 logId) external view returns (Log memory) {
        return _logs[logId];
    }

    /// @inheritdoc IDutyLedger
    function latestCheckpoint(bytes32 logId) external view returns (uint64 size, Checkpoint memory checkpoint) {
        size = _logs[logId].size;
        if (size != 0) checkpoint = _checkpoints[logId][size];
    }

    /// @inheritdoc IDutyLedger
    function checkpointAt(bytes32 logId, uint256 size) public view returns (bool found, Checkpoint memory checkpoint) {
        checkpoint = _checkpoints[logId][size];
        found = checkpoint.anchoredAt != 0;
    }

    /// @inheritdoc IDutyLedger
    function verifyAnchoredInclusion(
        bytes32 logId,
        bytes32 leafHash,
        uint256 index,
        uint256 treeSize,
        bytes32[] calldata proof
    ) external view returns (bool included, uint64 anchoredAt) {
        LogSeal storage seal = _seals[logId];
        if (seal.sealedAt != 0 && treeSize > seal.size) return (false, 0);
        (bool found, Checkpoint memory checkpoint) = checkpointAt(logId, treeSize);
        if (!found || !MerkleLog.verifyInclusion(leafHash, index, treeSize, proof, checkpoint.root)) {
            return (false, 0);
        }
        return (true, checkpoint.anchoredAt);
    }

    // ───────────────────────────── pure verification ─────────────────────────────

    /// @inheritdoc IDutyLedger
    function verifyInclusion(
        bytes32 leafHash,
        uint256 index,
        uint256 treeSize,
        bytes32[] calldata proof,
        bytes32 root
    ) external pure returns (bool) {
        return MerkleLog.verifyInclusion(leafHash, index, treeSize, proof, root);
    }

    /// @inheritdoc IDutyLedger
    function verifyConsistency(
        uint256 size1,
        uint256 size2,
        bytes32 root1,
        bytes32 root2,
        bytes32[] calldata proof
    ) external pure returns (bool) {
        return MerkleLog.verifyConsistency(size1, size2, root1, root2, proof);
    }

    // ───────────────────────────── internals ─────────────────────────────

    /// @dev For a log without operator: sealed, or never created.
    function _revertClosedLog(bytes32 logId) private view {
        LogSeal storage seal = _seals[logId];
        if (seal.sealedAt != 0) revert DutyLedgerLogSealed(logId, seal.size);
        revert DutyLedgerUnknownLog(logId);
    }

    function _requireUnit(bytes32 unitId) private view returns (Unit storage u) {
        u = _units[unitId];
        if (u.status == UnitStatus.None) revert DutyLedgerUnknownUnit(unitId);
    }

    /// @dev Binds a key to a unit for good: a key that ever signed for a unit is never reused,
    /// so a signature always names one unit unambiguously.
    function _claimSigner(bytes32 unitId, address signer) private {
        if (signer == address(0)) revert DutyLedgerZeroAddress();
        if (_unitOfSigner[signer] != bytes32(0)) revert DutyLedgerSignerInUse(signer);
        _unitOfSigner[signer] = unitId;
    }
}
