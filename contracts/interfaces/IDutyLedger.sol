// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title IDutyLedger — registry of grassroots units, inspectors and duty types, and an
/// append-only store of Merkle log checkpoints that checks its own consistency proofs.
/// @notice Records themselves never come on chain: a gateway keeps them, folds their salted
/// leaf hashes into an RFC 9162 Merkle log and anchors the log's checkpoints here. A checkpoint
/// is accepted only with a proof that the new tree extends the one anchored before it, so no
/// key, not even the log operator's, can rewrite or drop history.
/// @dev Hashing follows RFC 9162 / RFC 6962: SHA-256, leaf = H(0x00 || data),
/// node = H(0x01 || left || right), leaf indices are 0-based.
interface IDutyLedger {
    /// @notice Whether a unit may attest duties.
    enum UnitStatus {
        None, // not registered
        Active,
        Suspended
    }

    /// @notice A grassroots unit (township office, village or community committee, …).
    struct Unit {
        bytes32 parentId; // the unit above it (township above village); zero for a root unit
        address signer; // the key that signs its records now
        uint8 level; // administrative level, as the deployment numbers them (e.g. 1 county, 2 township, 3 village)
        UnitStatus status; // current status
        uint64 registeredAt; // Unix seconds (block time) of registration
    }

    /// @notice A span of time in which one key signed for a unit: validFrom <= t < validUntil.
    struct KeyPeriod {
        address signer; // the key
        uint64 validFrom; // Unix seconds (block time) the key became the unit's key
        uint64 validUntil; // Unix seconds (block time) it was rotated out; 0 while it is current
    }

    /// @notice A status a unit held from a given time on.
    struct StatusPeriod {
        UnitStatus status; // the status
        uint64 since; // Unix seconds (block time) it took effect
    }

    /// @notice An inspector (督查/检查人员) of a department.
    struct Inspector {
        bytes32 department; // department identifier, as the deployment defines it
        bool active; // whether the inspector may make evidence demands now
        uint64 registeredAt; // Unix seconds (block time) of registration
    }

    /// @notice A duty type of the duty list (权责清单). Its id is the SHA-256 of the duty
    /// type's schema document in canonical (RFC 8785) form.
    struct DutyType {
        bytes32 department; // the department that owns the duty type
        uint256 levelMask; // bit L set: applies to units of level L; 0: applies to every level
        bool active; // whether new records of this type are accepted
        uint64 registeredAt; // Unix seconds (block time) of registration
    }

    /// @notice The head of one Merkle log (one per gateway).
    struct Log {
        address operator; // the only key that may anchor this log's checkpoints
        uint64 size; // leaves in the latest anchored checkpoint; 0 before the first
        uint32 checkpointCount; // number of checkpoints anchored
    }

    /// @notice One anchored checkpoint of a log.
    struct Checkpoint {
        bytes32 root; // RFC 9162 root hash of the first `size` leaves
        uint64 anchoredAt; // Unix seconds (block time) of anchoring
        uint64 blockNumber; // block in which it was anchored
        uint64 previousSize; // size of the checkpoint before it; 0 for the first
    }

    /// @notice How a log was closed after its operator key was stolen or retired: the log is its
    /// checkpoints up to `size`; checkpoints anchored above it are not part of it, and the log
    /// continues as `successorLogId`, whose first checkpoint extends the tree of `size` leaves.
    struct LogSeal {
        uint64 size; // leaves in the last checkpoint that belongs to the log; 0 if none does
        uint64 sealedAt; // Unix seconds (block time) of sealing; 0 while the log is open
        bytes32 successorLogId; // the log that continues this one
    }

    // ───────────────────────────── events ─────────────────────────────

    /// @notice A unit was registered.
    event UnitRegistered(bytes32 indexed unitId, bytes32 indexed parentId, uint8 level, address signer);
    /// @notice A unit's signing key was replaced; `oldSigner` is valid only for times before this block.
    event UnitKeyRotated(bytes32 indexed unitId, address indexed oldSigner, address indexed newSigner);
    /// @notice A unit was suspended or reactivated.
    event UnitStatusChanged(bytes32 indexed unitId, UnitStatus status);
    /// @notice An inspector was registered.
    event InspectorRegistered(address indexed inspector, bytes32 indexed department);
    /// @notice An inspector was deactivated or reactivated.
    event InspectorStatusChanged(address indexed inspector, bool active);
    /// @notice A duty type was registered.
    event DutyTypeRegistered(bytes32 indexed dutyTypeId, bytes32 indexed department, uint256 levelMask);
    /// @notice A duty type was deactivated or reactivated.
    event DutyTypeStatusChanged(bytes32 indexed dutyTypeId, bool active);
    /// @notice A log was created for a gateway.
    event LogCreated(bytes32 indexed logId, address indexed operator);
    /// @notice A log's operator key was replaced.
    event LogOperatorChanged(bytes32 indexed logId, address indexed oldOperator, address indexed newOperator);
    /// @notice A log was sealed at `size`: nothing more may be anchored in it, checkpoints above
    /// `size` are not part of it, and it continues as `successorLogId`.
    event LogSealed(bytes32 indexed logId, bytes32 indexed successorLogId, uint64 size, bytes32 root);
    /// @notice A checkpoint of a log was anchored; it extends the checkpoint of `previousSize`.
    event CheckpointAnchored(bytes32 indexed logId, uint64 indexed size, bytes32 root, uint64 previousSize);

    // ───────────────────────────── errors ─────────────────────────────

    /// @notice The id is zero, which no unit, duty type or log may use.
    error DutyLedgerZeroId();
    /// @notice The address is zero where a key is required.
    error DutyLedgerZeroAddress();
    /// @notice No unit has this id.
    error DutyLedgerUnknownUnit(bytes32 unitId);
    /// @notice A unit with this id exists already.
    error DutyLedgerUnitExists(bytes32 unitId);
    /// @notice The key already signs, or once signed, for some unit; keys are never shared or reused.
    error DutyLedgerSignerInUse(address signer);
    /// @notice The caller is neither a registrar nor the unit's current signer.
    error DutyLedgerNotUnitSignerOrRegistrar(bytes32 unitId, address caller);
    /// @notice The unit already has this status, or the status is not Active or Suspended.
    error DutyLedgerInvalidStatus(bytes32 unitId, UnitStatus status);
    /// @notice No inspector has this address.
    error DutyLedgerUnknownInspector(address inspector);
    /// @notice An inspector with this address exists already.
    error DutyLedgerInspectorExists(address inspector);
    /// @notice No duty type has this id.
    error DutyLedgerUnknownDutyType(bytes32 dutyTypeId);
    /// @notice A duty type with this id exists already.
    error DutyLedgerDutyTypeExists(bytes32 dutyTypeId);
    /// @notice No log has this id.
    error DutyLedgerUnknownLog(bytes32 logId);
    /// @notice A log with this id exists already.
    error DutyLedgerLogExists(bytes32 logId);
    /// @notice Only the log's operator may anchor its checkpoints.
    error DutyLedgerNotLogOperator(bytes32 logId, address caller);
    /// @notice A checkpoint must grow the log: `newSize` must exceed `currentSize` and fit in 64 bits.
    error DutyLedgerCheckpointNotNewer(bytes32 logId, uint256 currentSize, uint256 newSize);
    /// @notice The consistency proof does not show that the new tree extends the anchored one.
    error DutyLedgerInconsistentCheckpoint(bytes32 logId, uint256 currentSize, uint256 newSize);

    /// @notice The log is sealed: nothing may be anchored in it and its operator cannot change.
    error DutyLedgerLogSealed(bytes32 logId, uint256 sealedSize);
    /// @notice A log may be sealed only at the size of one of its anchored checkpoints (or 0).
    error DutyLedgerNoCheckpointAt(bytes32 logId, uint256 size);
    /// @notice The successor must be another existing, open log.
    error DutyLedgerInvalidSuccessor(bytes32 logId, bytes32 successorLogId);

    // ───────────────────────────── registry ─────────────────────────────

    /// @notice Registers a unit with its first signing key. Requires REGISTRAR_ROLE.
    /// @param unitId stable non-zero id of the unit
    /// @param parentId the unit above it, which must exist, or zero
    /// @param level administrative level, as the deployment numbers them
    /// @param signer the unit's signing key; never used by another unit before
    function registerUnit(bytes32 unitId, bytes32 parentId, uint8 level, address signer) external;

    /// @notice Replaces a unit's signing key from this block on. The old key stays valid for
    /// records signed before now. Callable by the unit's current signer or a registrar (lost key).
    function rotateUnitKey(bytes32 unitId, address newSigner) external;

    /// @notice Suspends (Suspended) or reactivates (Active) a unit. Requires REGISTRAR_ROLE.
    function setUnitStatus(bytes32 unitId, UnitStatus status) external;

    /// @notice Registers an inspector of a department. Requires REGISTRAR_ROLE.
    function registerInspector(address inspector, bytes32 department) external;

    /// @notice Deactivates or reactivates an inspector. Requires REGISTRAR_ROLE.
    function setInspectorActive(address inspector, bool active) external;

    /// @notice Registers a duty type. Requires REGISTRAR_ROLE.
    /// @param dutyTypeId SHA-256 of the duty type's canonical schema document
    /// @param department the owning department
    /// @param levelMask bit L set if it applies to units of level L; 0 for every level
    function registerDutyType(bytes32 dutyTypeId, bytes32 department, uint256 levelMask) external;

    /// @notice Deactivates or reactivates a duty type. Requires REGISTRAR_ROLE.
    function setDutyTypeActive(bytes32 dutyTypeId, bool active) external;

    /// @notice The unit's current record; status None if it is not registered.
    function unit(bytes32 unitId) external view returns (Unit memory);

    /// @notice Every key the unit has had, oldest first.
    function unitKeyHistory(bytes32 unitId) external view returns (KeyPeriod[] memory);

    /// @notice Every status the unit has had, oldest first.
    function unitStatusHistory(bytes32 unitId) external view returns (StatusPeriod[] memory);

    /// @notice The unit a key signs (or signed) for; zero if none.
    function unitOfSigner(address signer) external view returns (bytes32);

    /// @notice The unit's status at time `timestamp` (Unix seconds); None before registration.
    function unitStatusAt(bytes32 unitId, uint64 timestamp) external view returns (UnitStatus);

    /// @notice Whether `signer` was the unit's key at `timestamp` (Unix seconds) and the unit
    /// was active then. This is the check a record's signature must pass.
    function isAuthorizedSigner(bytes32 unitId, address signer, uint64 timestamp) external view returns (bool);

    /// @notice The inspector's record; registeredAt 0 if unknown.
    function inspector(address account) external view returns (Inspector memory);

    /// @notice The duty type's record; registeredAt 0 if unknown.
    function dutyType(bytes32 dutyTypeId) external view returns (DutyType memory);

    /// @notice Whether the duty type exists, is active and applies to units of `level`.
    function dutyTypeAppliesTo(bytes32 dutyTypeId, uint8 level) external view returns (bool);

    // ───────────────────────────── logs ─────────────────────────────

    /// @notice Creates a log for a gateway and names its operator. Requires DEFAULT_ADMIN_ROLE.
    function createLog(bytes32 logId, address operator) external;

    /// @notice Replaces a log's operator key. Requires DEFAULT_ADMIN_ROLE.
    function setLogOperator(bytes32 logId, address newOperator) external;

    /// @notice Seals a log whose operator key was stolen (or is retired): the log ends at its
    /// checkpoint of `size` leaves and continues as `successorLogId`. Requires DEFAULT_ADMIN_ROLE.
    /// @dev Sealing removes the log's operator, so nobody can anchor in it again
    /// (DutyLedgerLogSealed). Checkpoints above `size` stay on chain, as evidence of what the
    /// thief anchored, but are not part of the log: verifyAnchoredInclusion refuses them, and
    /// off-chain verifiers and replay apply the same rule (docs/protocol.md, "Log succession").
    /// Reverts with DutyLedgerNoCheckpointAt unless `size` is 0 or an anchored checkpoint's size,
    /// and with DutyLedgerInvalidSuccessor unless `successorLogId` is another existing open log.
    /// @param logId the log to seal
    /// @param size leaves in its last checkpoint that the log's rightful gateway anchored
    /// @param successorLogId the log that continues it (created beforehand with its new operator)
    function sealLog(bytes32 logId, uint256 size, bytes32 successorLogId) external;

    /// @notice How the log was sealed; sealedAt 0 while it is open.
    function logSeal(bytes32 logId) external view returns (LogSeal memory);

    /// @notice Anchors a checkpoint of `logId`. Only the log's operator may call it.
    /// @dev Reverts with DutyLedgerCheckpointNotNewer unless newSize > the anchored size, and with
    /// DutyLedgerInconsistentCheckpoint unless `proof` is an RFC 9162 consistency proof from the
    /// anchored (size, root) to (newSize, newRoot). The first checkpoint takes an empty proof.
    /// @param logId the log
    /// @param newSize number of leaves in the new tree
    /// @param newRoot root hash of the new tree
    /// @param proof consistency proof from the latest anchored checkpoint
    function anchor(bytes32 logId, uint256 newSize, bytes32 newRoot, bytes32[] calldata proof) external;

    /// @notice The log's head; operator zero if the log does not exist or is sealed.
    function logHead(bytes32 logId) external view returns (Log memory);

    /// @notice The log's latest checkpoint and its size; size 0 before the first.
    function latestCheckpoint(bytes32 logId) external view returns (uint64 size, Checkpoint memory checkpoint);

    /// @notice The checkpoint anchored for exactly `size` leaves, if any.
    /// @return found whether a checkpoint of that size was anchored
    /// @return checkpoint the checkpoint (all zero if not found)
    function checkpointAt(bytes32 logId, uint256 size) external view returns (bool found, Checkpoint memory checkpoint);

    /// @notice Checks a leaf against the root this ledger anchored for `treeSize`.
    /// @return included true only if a checkpoint of `treeSize` exists, is not above the log's
    /// seal, and the proof verifies
    /// @return anchoredAt Unix seconds the checkpoint was anchored; 0 if not included
    function verifyAnchoredInclusion(
        bytes32 logId,
        bytes32 leafHash,
        uint256 index,
        uint256 treeSize,
        bytes32[] calldata proof
    ) external view returns (bool included, uint64 anchoredAt);

    // ───────────────────────────── pure verification ─────────────────────────────

    /// @notice RFC 9162 §2.1.3.2: whether `proof` shows leaf `index` (0-based) with hash `leafHash`
    /// is in the tree of `treeSize` leaves with root `root`. False for any proof that does not verify.
    function verifyInclusion(
        bytes32 leafHash,
        uint256 index,
        uint256 treeSize,
        bytes32[] calldata proof,
        bytes32 root
    ) external pure returns (bool);

    /// @notice RFC 9162 §2.1.4.2: whether `proof` shows the tree (size2, root2) extends (size1, root1).
    /// False for any proof that does not verify, and for size1 = 0 (nothing to prove).
    function verifyConsistency(
        uint256 size1,
        uint256 size2,
        bytes32 root1,
        bytes32 root2,
        bytes32[] calldata proof
    ) external pure returns (bool);
}
