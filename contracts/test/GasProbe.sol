// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IDutyLedger} from "../interfaces/IDutyLedger.sol";

/// @title GasProbe — measures the execution gas of DutyLedger's verifiers from inside the EVM,
/// without the transaction's intrinsic and calldata costs. Test and benchmark use only.
contract GasProbe {
    /// @notice The ledger address has no code.
    error GasProbeNoCode(address ledger);

    /// @notice Gas used by one external call of verifyInclusion, and its answer.
    function measureVerifyInclusion(
        IDutyLedger ledger,
        bytes32 leafHash,
        uint256 index,
        uint256 treeSize,
        bytes32[] calldata proof,
        bytes32 root
    ) external view returns (uint256 gasUsed, bool valid) {
        _warm(ledger);
        uint256 before = gasleft();
        valid = ledger.verifyInclusion(leafHash, index, treeSize, proof, root);
        gasUsed = before - gasleft();
    }

    /// @notice Gas used by one external call of verifyConsistency, and its answer.
    function measureVerifyConsistency(
        IDutyLedger ledger,
        uint256 size1,
        uint256 size2,
        bytes32 root1,
        bytes32 root2,
        bytes32[] calldata proof
    ) external view returns (uint256 gasUsed, bool valid) {
        _warm(ledger);
        uint256 before = gasleft();
        valid = ledger.verifyConsistency(size1, size2, root1, root2, proof);
        gasUsed = before - gasleft();
    }

    /// @dev A transaction's target is warm (EIP-2929); so is the ledger here before measuring.
    function _warm(IDutyLedger ledger) private view {
        uint256 size;
        assembly {
            size := extcodesize(ledger)
        }
        if (size == 0) revert GasProbeNoCode(address(ledger));
    }
}
