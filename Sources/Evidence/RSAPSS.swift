public import Crypto
public import Foundation
import _CryptoExtras

/// RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 20-byte salt (PKCS #1 v2.2, RFC 8017 §8.1),
/// the parameters the ONVIF Export File Format requires. swift-crypto's PSS fixes the salt
/// at the digest's length (32), so the encoding (EMSA-PSS) is done here and the RSA
/// private operation by BoringSSL (its raw signature, as RSA blind signatures use it);
/// verification is the public operation (s^e mod n) and EMSA-PSS-VERIFY, here too.
public enum RSAPSS {
    public static let saltLength = 20

    /// The signature of `digest` (SHA-256 of the message) with the private key `der` (PKCS #1 or PKCS #8).
    public static func sign(digest: SHA256.Digest, privateKeyDER: Data) throws -> Data {
        let key = try _RSA.BlindSigning.PrivateKey<SHA384>(derRepresentation: privateKeyDER, parameters: .RSABSSA_SHA384_PSS_Deterministic)
        let bits = key.keySizeInBits
        var salt = [UInt8](repeating: 0, count: saltLength)
        var random = SystemRandomNumberGenerator()
        for index in salt.indices { salt[index] = UInt8.random(in: 0...255, using: &random) }
        let encoded = try encode(digest: Array(digest), salt: salt, emBits: bits - 1)
        // The encoded message is as long as the modulus: its top bits are zero, so it is below it.
        let padded = [UInt8](repeating: 0, count: (bits + 7) / 8 - encoded.count) + encoded
        return try key.blindSignature(for: padded).rawRepresentation
    }

    /// EMSA-PSS-ENCODE (RFC 8017 §9.1.1) of a SHA-256 digest.
    static func encode(digest: [UInt8], salt: [UInt8], emBits: Int) throws -> [UInt8] {
        let emLength = (emBits + 7) / 8
        guard emLength >= digest.count + salt.count + 2 else { throw EvidenceError("RSA key too small for PSS") }
        let mPrime = [UInt8](repeating: 0, count: 8) + digest + salt
        let h = Array(SHA256.hash(data: mPrime))
        var db = [UInt8](repeating: 0, count: emLength - salt.count - h.count - 2) + [0x01] + salt
        let mask = mgf1(seed: h, length: db.count)
        for index in db.indices { db[index] ^= mask[index] }
        db[0] &= UInt8(0xFF >> (8 * emLength - emBits))
        return db + h + [0xBC]
    }

    /// EMSA-PSS-VERIFY (RFC 8017 §9.1.2); the salt's length is read from the encoding (as
    /// OpenSSL's `auto` does) and returned, nil when the encoding does not match.
    static func verify(digest: [UInt8], encoded: [UInt8], emBits: Int) -> Int? {
        let emLength = (emBits + 7) / 8
        guard encoded.count == emLength, emLength >= digest.count + 2, encoded.last == 0xBC else { return nil }
        var db = Array(encoded[0..<(emLength - digest.count - 1)])
        let h = Array(encoded[(emLength - digest.count - 1)..<(emLength - 1)])
        let topMask = UInt8(0xFF >> (8 * emLength - emBits))
        guard db[0] & ~topMask == 0 else { return nil }
        let mask = mgf1(seed: h, length: db.count)
        for index in db.indices { db[index] ^= mask[index] }
        db[0] &= topMask
        guard let one = db.firstIndex(where: { $0 != 0 }), db[one] == 0x01 else { return nil }
        let salt = Array(db[(one + 1)...])
        let mPrime = [UInt8](repeating: 0, count: 8) + digest + salt
        return Array(SHA256.hash(data: mPrime)) == h ? salt.count : nil
    }

    static func mgf1(seed: [UInt8], length: Int) -> [UInt8] {
        var output: [UInt8] = []
        var counter: UInt32 = 0
        while output.count < length {
            let c = [UInt8(counter >> 24), UInt8((counter >> 16) & 0xFF), UInt8((counter >> 8) & 0xFF), UInt8(counter & 0xFF)]
            output += Array(SHA256.hash(data: seed + c))
            counter += 1
        }
        return Array(output.prefix(length))
    }

    /// Whether `signature` is a PSS signature of `digest` by the RSA public key (modulus and
    /// exponent, big-endian); the salt's length when it is, nil when not.
    public static func verify(signature: [UInt8], digest: SHA256.Digest, modulus: [UInt8], exponent: [UInt8]) -> Int? {
        let n = BigNumber(bigEndian: modulus)
        let bits = n.bitWidth
        guard bits >= 2048, signature.count == (bits + 7) / 8 else { return nil }
        let s = BigNumber(bigEndian: signature)
        guard s < n else { return nil }
        let m = s.power(BigNumber(bigEndian: exponent), modulus: n)
        let emBits = bits - 1
        let emLength = (emBits + 7) / 8
        let bytes = m.bigEndian(length: signature.count)
        // The encoded message sits in the low `emLength` bytes; the byte above (if any) is zero.
        guard bytes.prefix(bytes.count - emLength).allSatisfy({ $0 == 0 }) else { return nil }
        return verify(digest: Array(digest), encoded: Array(bytes.suffix(emLength)), emBits: emBits)
    }
}

/// An unsigned integer for RSA's public operation only (verification: public values, no
/// secret to keep from timing): little-endian 32-bit limbs, Montgomery multiplication.
struct BigNumber: Comparable {
    var limbs: [UInt32]

    init(limbs: [UInt32]) {
        var trimmed = limbs
        while trimmed.count > 1 && trimmed.last == 0 { trimmed.removeLast() }
        self.limbs = trimmed.isEmpty ? [0] : trimmed
    }

    init(bigEndian bytes: [UInt8]) {
        var limbs = [UInt32](repeating: 0, count: (bytes.count + 3) / 4)
        for (index, byte) in bytes.reversed().enumerated() { limbs[index / 4] |= UInt32(byte) << (8 * UInt32(index % 4)) }
        self.init(limbs: limbs)
    }

    func bigEndian(length: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: length)
        for index in 0..<min(length, limbs.count * 4) { bytes[length - 1 - index] = UInt8((limbs[index / 4] >> (8 * UInt32(index % 4))) & 0xFF) }
        return bytes
    }

    var bitWidth: Int {
        guard let top = limbs.last, top != 0 || limbs.count > 1 else { return 0 }
        return (limbs.count - 1) * 32 + (32 - top.leadingZeroBitCount)
    }

    func bit(_ index: Int) -> Bool { index / 32 < limbs.count && (limbs[index / 32] >> UInt32(index % 32)) & 1 == 1 }

    static func < (a: BigNumber, b: BigNumber) -> Bool {
        if a.limbs.count != b.limbs.count { return a.limbs.count < b.limbs.count }
        for index in stride(from: a.limbs.count - 1, through: 0, by: -1) where a.limbs[index] != b.limbs[index] { return a.limbs[index] < b.limbs[index] }
        return false
    }

    /// self^exponent mod modulus (odd modulus).
    func power(_ exponent: BigNumber, modulus n: BigNumber) -> BigNumber {
        let k = n.limbs.count
        // -n^-1 mod 2^32 (Newton's iteration on the lowest limb).
        var inverse: UInt32 = 1
        for _ in 0..<5 { inverse = inverse &* (2 &- n.limbs[0] &* inverse) }
        let n0 = 0 &- inverse
        func padded(_ x: BigNumber) -> [UInt32] { x.limbs + [UInt32](repeating: 0, count: max(0, k - x.limbs.count)) }
        func subtractIfAbove(_ t: inout [UInt32]) {  // t has k + 1 limbs
            var above = t[k] != 0
            if !above {
                above = true
                for index in stride(from: k - 1, through: 0, by: -1) where t[index] != n.limbs[index] {
                    above = t[index] > n.limbs[index]
                    break
                }
            }
            guard above else { return }
            var borrow: Int64 = 0
            for index in 0..<k {
                let difference = Int64(t[index]) - Int64(n.limbs[index]) - borrow
                t[index] = UInt32(truncatingIfNeeded: difference)
                borrow = difference < 0 ? 1 : 0
            }
            t[k] = UInt32(truncatingIfNeeded: Int64(t[k]) - borrow)
        }
        func multiply(_ a: [UInt32], _ b: [UInt32]) -> [UInt32] {  // Montgomery: a*b/R mod n
            var t = [UInt32](repeating: 0, count: k + 2)
            for i in 0..<k {
                var carry: UInt64 = 0
                for j in 0..<k {
                    let sum = UInt64(t[j]) + UInt64(a[j]) * UInt64(b[i]) + carry
                    t[j] = UInt32(truncatingIfNeeded: sum)
                    carry = sum >> 32
                }
                var sum = UInt64(t[k]) + carry
                t[k] = UInt32(truncatingIfNeeded: sum)
                t[k + 1] = UInt32(sum >> 32)
                let m = t[0] &* n0
                sum = UInt64(t[0]) + UInt64(m) * UInt64(n.limbs[0])
                carry = sum >> 32
                for j in 1..<k {
                    sum = UInt64(t[j]) + UInt64(m) * UInt64(n.limbs[j]) + carry
                    t[j - 1] = UInt32(truncatingIfNeeded: sum)
                    carry = sum >> 32
                }
                sum = UInt64(t[k]) + carry
                t[k - 1] = UInt32(truncatingIfNeeded: sum)
                t[k] = t[k + 1] + UInt32(sum >> 32)
                t[k + 1] = 0
            }
            var result = Array(t[0...k])
            subtractIfAbove(&result)
            return Array(result[0..<k])
        }
        // R^2 mod n by doubling 1, 2 * 32 * k times.
        var r2 = [UInt32](repeating: 0, count: k + 1)
        r2[0] = 1
        for _ in 0..<(64 * k) {
            var carry: UInt32 = 0
            for index in 0...k {
                let next = r2[index] >> 31
                r2[index] = (r2[index] << 1) | carry
                carry = next
            }
            subtractIfAbove(&r2)
        }
        let rSquared = Array(r2[0..<k])
        let base = multiply(padded(self), rSquared)
        var one = [UInt32](repeating: 0, count: k)
        one[0] = 1
        var result = multiply(one, rSquared)
        for index in stride(from: exponent.bitWidth - 1, through: 0, by: -1) {
            result = multiply(result, result)
            if exponent.bit(index) { result = multiply(result, base) }
        }
        return BigNumber(limbs: multiply(result, one))
    }
}

public struct EvidenceError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
