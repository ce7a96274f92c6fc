public import Crypto
public import Foundation
import Logging

/// The recorder's own Ed25519 key, which signs every audit entry and the head kept outside
/// the catalog. Whoever can rewrite the catalog and the head file but cannot read this key
/// can no longer make a chain that verifies: a rewrite, an appended row, a cut end all show.
///
///     STORAGE/keys/                       mode 0700
///     STORAGE/keys/audit.key              the private key, mode 0600 (raw 32 bytes, base64)
///     STORAGE/keys/audit-ID.pub           each public key ever used (kept when a key is replaced)
///
/// The key's fingerprint (SHA-256 of the raw public key) is printed when it is made, by
/// `recorder status` and by `audit verify`; `audit verify --key FINGERPRINT` checks the
/// chain against the fingerprint an auditor wrote down, so that replacing the key pair too
/// is caught.
public struct AuditSigningKey: Sendable {
    /// The raw private key (kept as bytes: BoringSSL's key type is not Sendable).
    private let raw: Data
    var privateKey: Curve25519.Signing.PrivateKey {
        // The bytes came from a valid key.
        try! Curve25519.Signing.PrivateKey(rawRepresentation: raw)
    }
    public var publicKey: Curve25519.Signing.PublicKey { privateKey.publicKey }
    /// The first 16 hex digits of the fingerprint: names the key in each entry.
    public var id: String { AuditSigningKey.id(of: publicKey) }
    public var fingerprint: String { AuditSigningKey.fingerprint(of: publicKey) }

    public init() { raw = Curve25519.Signing.PrivateKey().rawRepresentation }
    init(_ privateKey: Curve25519.Signing.PrivateKey) { raw = privateKey.rawRepresentation }

    public static func fingerprint(of key: Curve25519.Signing.PublicKey) -> String {
        "SHA256:" + Hex.string(SHA256.hash(data: key.rawRepresentation))
    }
    public static func id(of key: Curve25519.Signing.PublicKey) -> String { String(fingerprint(of: key).dropFirst(7).prefix(16)) }

    /// What an entry's signature covers: its hash, which covers every field and the entry before.
    static func entryMessage(_ hash: String) -> Data { Data("vigie audit entry v1\n\(hash)".utf8) }
    /// What the head's signature covers: the last entry and when the head was written.
    static func headMessage(sequence: Int64, hash: String, at micros: Int64) -> Data {
        Data("vigie audit head v1\n\(sequence)\n\(hash)\n\(micros)".utf8)
    }

    func sign(_ message: Data) -> String {
        // Signing with a valid key does not fail; BoringSSL's API still says it may.
        ((try? privateKey.signature(for: message)) ?? Data()).base64EncodedString()
    }

    static func isValid(_ signature: String, of message: Data, by key: Curve25519.Signing.PublicKey) -> Bool {
        guard let bytes = Data(base64Encoded: signature) else { return false }
        return key.isValidSignature(bytes, for: message)
    }
}

/// The keys folder of a storage folder: loads the signing key, makes one when there is none
/// (recording in a new folder, or a key lost), and lists every public key ever used.
public struct AuditKeyFolder: Sendable {
    public let url: URL
    private var privatePath: String { url.appendingPathComponent("audit.key").path }

    public init(storage root: URL) { url = root.appendingPathComponent("keys") }

    /// The private key, or nil when there is none yet; throws when it exists but cannot be
    /// read or is not a key (the caller must not sign with another one silently).
    public func load() throws(CatalogError) -> AuditSigningKey? {
        guard FileManager.default.fileExists(atPath: privatePath) else { return nil }
        guard let text = try? String(contentsOfFile: privatePath, encoding: .utf8) else {
            throw CatalogError("cannot read the audit signing key \(privatePath) (permissions?)", kind: .cannotOpen)
        }
        let encoded = text.split(separator: "\n").last.map(String.init) ?? ""
        guard let raw = Data(base64Encoded: encoded), let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw) else {
            throw CatalogError("the audit signing key \(privatePath) is damaged", kind: .damaged)
        }
        return AuditSigningKey(key)
    }

    /// The key, made and saved when there is none. `created` says a new key was made: its
    /// first entry in the chain says so, with its fingerprint.
    public func loadOrCreate() throws(CatalogError) -> (key: AuditSigningKey, created: Bool) {
        if let key = try load() { return (key, false) }
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw CatalogError("cannot make the keys folder \(url.path): \(error.localizedDescription)", kind: .cannotOpen)
        }
        let key = AuditSigningKey()
        let publicPath = url.appendingPathComponent("audit-\(key.id).pub").path
        let publicText = "vigie audit public key ed25519 \(key.fingerprint)\n\(key.publicKey.rawRepresentation.base64EncodedString())\n"
        guard FileManager.default.createFile(atPath: publicPath, contents: Data(publicText.utf8), attributes: [.posixPermissions: 0o644]) else {
            throw CatalogError("cannot write \(publicPath)", kind: .io)
        }
        // Written aside, then linked into place: two processes making a key at once keep one.
        let temporary = url.appendingPathComponent(".audit.key.\(getpid())").path
        let privateText = "vigie audit signing key ed25519 (keep secret)\n\(key.privateKey.rawRepresentation.base64EncodedString())\n"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(privateText.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw CatalogError("cannot write the audit signing key in \(url.path)", kind: .io)
        }
        defer { unlink(temporary) }
        if link(temporary, privatePath) != 0 {
            if errno == EEXIST, let other = try load() {
                unlink(publicPath)
                return (other, false)
            }
            throw CatalogError("cannot save the audit signing key \(privatePath): \(String(cString: strerror(errno)))", kind: .io)
        }
        return (key, true)
    }

    /// Every public key kept in the folder, by id.
    public func publicKeys() -> [String: Curve25519.Signing.PublicKey] {
        var keys: [String: Curve25519.Signing.PublicKey] = [:]
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        for name in names where name.hasPrefix("audit-") && name.hasSuffix(".pub") {
            guard let text = try? String(contentsOfFile: url.appendingPathComponent(name).path, encoding: .utf8),
                let raw = text.split(separator: "\n").last.flatMap({ Data(base64Encoded: String($0)) }),
                let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
            else { continue }
            keys[AuditSigningKey.id(of: key)] = key
        }
        return keys
    }
}

/// The head of the chain as kept in STORAGE/audit.head: the last entry's sequence and hash,
/// and, once the recorder signs, who signed it, when, and the signature.
public struct AuditHead: Sendable, Hashable {
    public let sequence: Int64
    public let hash: String
    public let signer: String?
    public let signedAt: Date?
    public let signature: String?

    public init(sequence: Int64, hash: String, signer: String? = nil, signedAt: Date? = nil, signature: String? = nil) {
        self.sequence = sequence
        self.hash = hash
        self.signer = signer
        self.signedAt = signedAt
        self.signature = signature
    }

    static func signed(sequence: Int64, hash: String, by key: AuditSigningKey, at date: Date = Date()) -> AuditHead {
        let micros = date.micros
        return AuditHead(
            sequence: sequence, hash: hash, signer: key.id, signedAt: Date(micros: micros),
            signature: key.sign(AuditSigningKey.headMessage(sequence: sequence, hash: hash, at: micros)))
    }

    var text: String {
        guard let signer, let signedAt, let signature else { return "\(sequence) \(hash)\n" }
        return "\(sequence) \(hash) \(signer) \(signedAt.micros) \(signature)\n"
    }

    /// "SEQUENCE HASH" (before signing) or "SEQUENCE HASH SIGNER MICROS SIGNATURE"; nil otherwise.
    static func parse(_ text: String) -> AuditHead? {
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
        guard let sequence = Int64(parts.first ?? ""), sequence >= 0, parts.count == 2 || parts.count == 5, parts[1].count == 64 else { return nil }
        if parts.count == 2 { return AuditHead(sequence: sequence, hash: parts[1]) }
        guard let micros = Int64(parts[3]) else { return nil }
        return AuditHead(sequence: sequence, hash: parts[1], signer: parts[2], signedAt: Date(micros: micros), signature: parts[4])
    }

    func isValid(by key: Curve25519.Signing.PublicKey) -> Bool {
        guard let signedAt, let signature else { return false }
        return AuditSigningKey.isValid(signature, of: AuditSigningKey.headMessage(sequence: sequence, hash: hash, at: signedAt.micros), by: key)
    }
}

/// What the head file held when the chain was checked.
public enum AuditHeadFile: Sendable, Hashable {
    case missing
    case damaged
    case present(AuditHead)

    public static func read(path: String) -> AuditHeadFile {
        guard FileManager.default.fileExists(atPath: path), let text = SmallFile.read(path) else { return .missing }
        return AuditHead.parse(text).map(AuditHeadFile.present) ?? .damaged
    }

    public var head: AuditHead? {
        if case .present(let head) = self { return head }
        return nil
    }
}
