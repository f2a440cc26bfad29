import {getAddress, keccak256, toHex, type Hex} from 'viem'

/** Derives a deterministic, checksummed (mixed-case) address for a named devnet actor. */
export function actorAddress(name: string): Hex {
    return getAddress(keccak256(toHex(`proofgap-devnet:${name}`)).slice(0, 42))
}

/** Derives a deterministic 32-byte value for a named devnet fact (hashes, ids, commitments). */
export function word(name: string): Hex {
    return keccak256(toHex(`proofgap-devnet-word:${name}`))
}

export const OPERATOR_COUNT = 12

/** Operators 0..11. Their index is also the index passed to `operatorUrls`. */
export const OPERATORS: Hex[] = Array.from({length: OPERATOR_COUNT}, (_, index) => actorAddress(`operator-${index}`))

/**
 * Operators that advertise a hostile rpcAddress for blueprint 7 and run no server: one with bytes that are not valid
 * UTF-8 after the port, one with NUL bytes after it. The prober must record the text as an invalid URL.
 */
export const HOSTILE_URL_OPERATORS = {
    invalidUtf8: actorAddress('operator-invalid-utf8-url'),
    nulBytes: actorAddress('operator-nul-bytes-url'),
} as const

export const ACTORS = {
    blueprintOwner: actorAddress('blueprint-owner'),
    newBlueprintOwner: actorAddress('new-blueprint-owner'),
    customerA: actorAddress('customer-a'),
    customerB: actorAddress('customer-b'),
    slashProposer: actorAddress('slash-proposer'),
    slashCanceller: actorAddress('slash-canceller'),
    exitForcer: actorAddress('exit-forcer'),
    vaultAdmin: actorAddress('vault-admin'),
    assetToken: actorAddress('asset-usdc'),
    outputToken: actorAddress('output-weth'),
    debtToken: actorAddress('debt-token'),
    dexRouter: actorAddress('dex-router'),
    signerA: actorAddress('signer-a'),
    signerB: actorAddress('signer-b'),
    signerC: actorAddress('signer-c'),
    issuer: actorAddress('credit-issuer'),
    holderA: actorAddress('credit-holder-a'),
    holderB: actorAddress('credit-holder-b'),
    attesterA: actorAddress('attester-a'),
    attesterB: actorAddress('attester-b'),
    attesterC: actorAddress('attester-c'),
    attesterD: actorAddress('attester-d'),
    feeRecipient: actorAddress('fee-recipient'),
    /** Vault announced by the trading manager (BotVaultDeployed); emits trades. */
    managerVault: actorAddress('vault-manager-announced'),
    managerVaultShare: actorAddress('vault-manager-share'),
    /** Vault announced by the vault factory (VaultCreated). */
    factoryVault: actorAddress('vault-factory-created'),
    factoryVaultShare: actorAddress('vault-factory-share'),
} as const
