public import Crypto
public import Foundation
import SwiftASN1
import X509
import _CryptoExtras

/// The recorder's evidence-signing identity: an RSA key (3072 bits) and its X.509
/// certificate, in STORAGE/keys (the key readable by the recorder's user only). Made at
/// the first export (self-signed, its fingerprint printed and audited); a site replaces both
/// files with a key and a certificate from its own authority to have exports trusted by one.
public struct EvidenceIdentity: Sendable {
    public let certificateDER: [UInt8]
    public let certificatePEM: String
    let privateKeyDER: Data
    /// SHA-256 of the certificate (DER), hex: what a court writes down.
    public let fingerprint: String
    public let subject: String
    public let created: Bool

    public static func paths(storage: URL) -> (key: String, certificate: String) {
        let folder = storage.appendingPathComponent("keys")
        return (folder.appendingPathComponent("evidence-key.pem").path, folder.appendingPathComponent("evidence-certificate.pem").path)
    }

    private static let making = NSLock()

    /// Loads the identity, or makes it when neither file exists (one export at a time makes it).
    public static func loadOrCreate(storage: URL, siteName: String) throws -> EvidenceIdentity {
        making.lock()
        defer { making.unlock() }
        let (keyPath, certificatePath) = paths(storage: storage)
        let fileManager = FileManager.default
        if fileManager.fileExists(atPath: keyPath) || fileManager.fileExists(atPath: certificatePath) {
            return try load(keyPath: keyPath, certificatePath: certificatePath)
        }
        try fileManager.createDirectory(atPath: (keyPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let key = try _RSA.Signing.PrivateKey(keySize: .bits3072)
        let name = try DistinguishedName {
            CommonName("Vigie recorder evidence signing")
            OrganizationName(String(siteName.prefix(64)))
        }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey), notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(20 * 365 * 86_400), issuer: name, subject: name, signatureAlgorithm: .sha256WithRSAEncryption,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, nonRepudiation: true))
            }, issuerPrivateKey: .init(key))
        // The key first, then the certificate: a crash in between leaves a key and no certificate, which load() reports.
        guard fileManager.createFile(atPath: keyPath, contents: Data(key.pemRepresentation.utf8), attributes: [.posixPermissions: 0o600]),
            fileManager.createFile(atPath: certificatePath, contents: Data(try certificate.serializeAsPEM().pemString.utf8), attributes: [.posixPermissions: 0o644])
        else { throw EvidenceError("cannot write the evidence-signing key in \((keyPath as NSString).deletingLastPathComponent)") }
        let loaded = try load(keyPath: keyPath, certificatePath: certificatePath)
        return EvidenceIdentity(
            certificateDER: loaded.certificateDER, certificatePEM: loaded.certificatePEM, privateKeyDER: loaded.privateKeyDER, fingerprint: loaded.fingerprint,
            subject: loaded.subject, created: true)
    }

    public static func load(keyPath: String, certificatePath: String) throws -> EvidenceIdentity {
        guard let keyText = try? String(contentsOfFile: keyPath, encoding: .utf8) else { throw EvidenceError("cannot read the evidence-signing key \(keyPath)") }
        guard let certificateText = try? String(contentsOfFile: certificatePath, encoding: .utf8) else {
            throw EvidenceError("cannot read the evidence certificate \(certificatePath)")
        }
        let key: _RSA.Signing.PrivateKey
        do {
            key = try _RSA.Signing.PrivateKey(pemRepresentation: keyText)
        } catch {
            throw EvidenceError("\(keyPath) is not an RSA private key in PEM")
        }
        guard key.keySizeInBits >= 2048 else { throw EvidenceError("\(keyPath): an RSA key of \(key.keySizeInBits) bits; evidence needs at least 2048") }
        let certificate: Certificate
        do {
            certificate = try Certificate(pemEncoded: certificateText)
        } catch {
            throw EvidenceError("\(certificatePath) is not an X.509 certificate in PEM")
        }
        guard let certificateKey = _RSA.Signing.PublicKey(certificate.publicKey), certificateKey.derRepresentation == key.publicKey.derRepresentation else {
            throw EvidenceError("\(certificatePath) is not the certificate of the key \(keyPath)")
        }
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        let der = serializer.serializedBytes
        return EvidenceIdentity(
            certificateDER: der, certificatePEM: try certificate.serializeAsPEM().pemString, privateKeyDER: key.derRepresentation,
            fingerprint: Hex.of(SHA256.hash(data: der)), subject: certificate.subject.description, created: false)
    }

    /// RSASSA-PSS (SHA-256, salt 20) of a SHA-256 digest.
    public func sign(_ digest: SHA256.Digest) throws -> Data { try RSAPSS.sign(digest: digest, privateKeyDER: privateKeyDER) }
}

/// An RSA public key's numbers, read from a certificate (DER).
public struct RSAPublicNumbers: Sendable {
    public let modulus: [UInt8]
    public let exponent: [UInt8]
    public let bits: Int
    public let subject: String
    public let fingerprint: String

    public init(certificateDER: [UInt8]) throws {
        let certificate: Certificate
        do {
            certificate = try Certificate(derEncoded: certificateDER)
        } catch {
            throw EvidenceError("not an X.509 certificate")
        }
        guard let key = _RSA.Signing.PublicKey(certificate.publicKey) else { throw EvidenceError("the certificate's key is not an RSA key") }
        let primitives = try _RSA.BlindSigning.PublicKey<SHA384>(derRepresentation: key.derRepresentation, parameters: .RSABSSA_SHA384_PSS_Deterministic)
            .getKeyPrimitives()
        modulus = Array(primitives.modulus)
        exponent = Array(primitives.publicExponent)
        bits = key.keySizeInBits
        subject = certificate.subject.description
        fingerprint = Hex.of(SHA256.hash(data: certificateDER))
    }
}

enum Hex {
    static func of<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 { bytes.map { String(format: "%02x", $0) }.joined() }
}
