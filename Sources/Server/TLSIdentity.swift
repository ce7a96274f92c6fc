import Crypto
public import Foundation
public import NIOSSL
import RecorderCore
import SwiftASN1
import X509

/// The recorder's TLS certificate and key: from files the site gives (its own PKI), or a
/// self-signed certificate made at the first start in STORAGE/tls (key mode 0600), whose
/// SHA-256 fingerprint clients pin (`vigie login --fingerprint`).
public struct TLSIdentity: Sendable {
    public let certificates: [NIOSSLCertificate]
    public let key: NIOSSLPrivateKey
    /// SHA256: and the hex digest of the leaf certificate's DER bytes.
    public let fingerprint: String
    /// Whether this start made the certificate (its fingerprint must be told to the clients).
    public let created: Bool
    public let certificatePath: String

    /// Loads a certificate chain and key from PEM files.
    public init(certificatePath: String, keyPath: String) throws {
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(certificatePath)
        } catch {
            throw ServerError("cannot read the TLS certificate \(certificatePath): \(error)")
        }
        guard let leaf = certificates.first else { throw ServerError("\(certificatePath) holds no certificate") }
        do {
            key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        } catch {
            throw ServerError("cannot read the TLS key \(keyPath): \(error)")
        }
        fingerprint = try TLSIdentity.fingerprint(of: leaf)
        created = false
        self.certificatePath = certificatePath
    }

    public static func fingerprint(of certificate: NIOSSLCertificate) throws -> String {
        "SHA256:" + SHA256.hash(data: try certificate.toDERBytes()).map { String(format: "%02x", $0) }.joined()
    }

    /// The storage folder's own certificate, made when missing: valid 10 years for
    /// localhost, 127.0.0.1, ::1, the machine's name and the listening host given.
    public static func selfSigned(in storage: URL, siteName: String, hosts: [String]) throws -> TLSIdentity {
        let folder = storage.appendingPathComponent("tls")
        let certificate = folder.appendingPathComponent("certificate.pem").path, key = folder.appendingPathComponent("key.pem").path
        if FileManager.default.fileExists(atPath: certificate) && FileManager.default.fileExists(atPath: key) {
            return try TLSIdentity(certificatePath: certificate, keyPath: key)
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let privateKey = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            CommonName("Vigie recorder")
            OrganizationName(String(siteName.prefix(64)))
        }
        var names: [GeneralName] = [.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
                                    .ipAddress(ASN1OctetString(contentBytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]))]
        var hostName = [CChar](repeating: 0, count: 256)
        if gethostname(&hostName, 255) == 0 {
            names.append(.dnsName(String(decoding: hostName.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)))
        }
        for host in hosts where host != "localhost" && !host.isEmpty {
            if let address = IPv4Address(host) { names.append(.ipAddress(ASN1OctetString(contentBytes: address.bytes[...]))) } else { names.append(.dnsName(host)) }
        }
        let now = Date()
        let made = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(privateKey.publicKey), notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(10 * 365 * 86_400), issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
            }, issuerPrivateKey: .init(privateKey))
        guard FileManager.default.createFile(atPath: key, contents: Data(privateKey.pemRepresentation.utf8), attributes: [.posixPermissions: 0o600]),
            FileManager.default.createFile(atPath: certificate, contents: Data(try made.serializeAsPEM().pemString.utf8), attributes: [.posixPermissions: 0o644])
        else { throw ServerError("cannot write the TLS certificate in \(folder.path)") }
        let identity = try TLSIdentity(certificatePath: certificate, keyPath: key)
        return TLSIdentity(identity, created: true)
    }

    private init(_ other: TLSIdentity, created: Bool) {
        certificates = other.certificates
        key = other.key
        fingerprint = other.fingerprint
        certificatePath = other.certificatePath
        self.created = created
    }

    /// TLS 1.3 only.
    public func serverConfiguration() -> TLSConfiguration {
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: certificates.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv13
        return configuration
    }
}

/// Four dotted numbers, as a certificate's IP address name wants them.
struct IPv4Address {
    let bytes: [UInt8]
    init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map { UInt8($0) }
        guard parts.count == 4, parts.allSatisfy({ $0 != nil }) else { return nil }
        bytes = parts.compactMap { $0 }
    }
}

public struct ServerError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
