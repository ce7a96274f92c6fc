import Crypto
import Foundation

/// SHA-256 of each `size` block of a byte stream, in order: what the manifest lists of a
/// file so that a changed byte is found to its block.
struct BlockHashes {
    let size: Int
    private(set) var hashes: [String] = []
    private var block = SHA256()
    private var filled = 0

    init(size: Int) { self.size = size }

    mutating func update<D: DataProtocol>(_ data: D) where D.Index == Int {
        var at = data.startIndex
        while at < data.endIndex {
            let count = min(size - filled, data.endIndex - at)
            block.update(data: data[at..<(at + count)])
            filled += count
            at += count
            if filled == size {
                hashes.append(Hex.of(block.finalize()))
                block = SHA256()
                filled = 0
            }
        }
    }

    /// The hashes, the last (partial) block's included.
    mutating func finish() -> [String] {
        if filled > 0 {
            hashes.append(Hex.of(block.finalize()))
            filled = 0
        }
        return hashes
    }
}
