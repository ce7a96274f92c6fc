import _CryptoExtras
import Crypto
import Foundation

/// Passwords stored only as scrypt hashes (memory-hard: N = 2^15, r = 8, so 32 MiB a try,
/// and a stolen catalog is slow to attack), in the PHC string format:
/// `$scrypt$ln=15,r=8,p=1$SALT$HASH` (base64 without padding). The password itself is
/// never stored, logged, audited or shown.
public enum PasswordHash {
    static let logRounds = 15, blockSize = 8, parallelism = 1, length = 32

    public static func make(_ password: String) throws -> String {
        var salt = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for index in salt.indices { salt[index] = UInt8.random(in: 0...255, using: &generator) }
        let hash = try derive(password, salt: salt, logRounds: logRounds, blockSize: blockSize, parallelism: parallelism)
        return "$scrypt$ln=\(logRounds),r=\(blockSize),p=\(parallelism)$\(encode(salt))$\(encode(hash))"
    }

    /// Whether `password` is the one `stored` was made from (constant-time comparison).
    public static func matches(_ password: String, _ stored: String) -> Bool {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5, parts[0].isEmpty, parts[1] == "scrypt" else { return false }
        var settings: [String: Int] = [:]
        for pair in parts[2].split(separator: ",") {
            let kv = pair.split(separator: "=")
            if kv.count == 2, let value = Int(kv[1]) { settings[String(kv[0])] = value }
        }
        guard let ln = settings["ln"], (10...20).contains(ln), let r = settings["r"], (1...32).contains(r), let p = settings["p"], (1...4).contains(p),
            let salt = decode(parts[3]), let expected = decode(parts[4]), expected.count == length,
            let actual = try? derive(password, salt: salt, logRounds: ln, blockSize: r, parallelism: p)
        else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(actual, expected) { difference |= a ^ b }
        return difference == 0
    }

    /// Why a new password is not acceptable, or nil.
    public static func weakness(_ password: String) -> String? {
        if password.count < 10 { return "a password needs at least 10 characters" }
        if password.utf8.count > 1024 { return "a password may have at most 1024 bytes" }
        if Set(password).count < 4 { return "a password needs at least 4 different characters" }
        return nil
    }

    private static func derive(_ password: String, salt: [UInt8], logRounds: Int, blockSize: Int, parallelism: Int) throws -> [UInt8] {
        let key = try KDF.Scrypt.deriveKey(
            from: Array(password.utf8), salt: salt, outputByteCount: length, rounds: 1 << logRounds, blockSize: blockSize, parallelism: parallelism)
        return key.withUnsafeBytes { Array($0) }
    }

    private static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "=", with: "")
    }

    private static func decode(_ text: String) -> [UInt8]? {
        let padded = text + String(repeating: "=", count: (4 - text.count % 4) % 4)
        return Data(base64Encoded: padded).map { Array($0) }
    }
}
