import {type Hex, concatHex, keccak256, stringToHex} from 'viem'

/** Domain prefixes keep a leaf from ever being read as an inner node (second-preimage safety). */
const LEAF_PREFIX: Hex = '0x00'
const NODE_PREFIX: Hex = '0x01'

/** Returns the leaf hash of a record: keccak256(0x00 ‖ UTF-8 bytes of its canonical JSON). */
export function merkleLeaf(canonicalRecord: string): Hex {
    return keccak256(concatHex([LEAF_PREFIX, stringToHex(canonicalRecord)]))
}

/** Returns the hash of two children: keccak256(0x01 ‖ left ‖ right), in the given order (no sorting of pairs). */
export function merkleNode(left: Hex, right: Hex): Hex {
    return keccak256(concatHex([NODE_PREFIX, left, right]))
}

/**
 * Returns the Merkle root of leaves in their given order. Each level pairs neighbours left to right; an odd last node
 * moves up unchanged. A single leaf is its own root.
 */
export function merkleRoot(leaves: Hex[]): Hex {
    if (leaves.length === 0) throw new Error('a Merkle root needs at least one leaf')
    let level = leaves
    while (level.length > 1) {
        const next: Hex[] = []
        for (let index = 0; index < level.length; index += 2) {
            const left = level[index] as Hex
            const right = level[index + 1]
            next.push(right === undefined ? left : merkleNode(left, right))
        }
        level = next
    }
    return level[0] as Hex
}
