public import Crypto
public import Foundation
public import RecorderCore

/// What an export holds and under what, signed by the recorder: the requisition, who made
/// the export and for whom, each file's camera, place, period, size and SHA-256, the gaps,
/// and the audit chain's head when it was made. Written as `manifest.json` and, the same, as
/// `manifest.txt`, each with a detached RSASSA-PSS signature.
public struct ExportManifest: Codable, Sendable, Hashable {
    public struct RequisitionPart: Codable, Sendable, Hashable {
        public var number: String
        public var authority: String
        public var basis: String
        public var received: Date
        public var deadline: Date?
    }
    public struct Signer: Codable, Sendable, Hashable {
        public var unit: String
        public var certificateSHA256: String
        public var certificateSubject: String
    }
    public struct Head: Codable, Sendable, Hashable {
        public var sequence: Int64
        public var hash: String
        public init(sequence: Int64, hash: String) {
            self.sequence = sequence
            self.hash = hash
        }
    }
    public struct Gap: Codable, Sendable, Hashable {
        public var camera: String
        public var from: Date
        public var to: Date
        public var reason: String
    }

    public var format = "vigie-evidence-export/1"
    public var site: String
    public var timeZone: String
    public var requisition: RequisitionPart
    public var technician: String
    public var recipient: String
    public var medium: String
    public var exportedAt: Date
    public var from: Date
    public var to: Date
    public var cameras: [String]
    public var signer: Signer
    public var auditHead: Head
    public var files: [ExportedFile]
    public var gaps: [Gap]
    /// Cameras asked for with nothing recorded in the period.
    public var noFootage: [String]

    public static let jsonName = "manifest.json", textName = "manifest.txt", sumsName = "SHA256SUMS", certificateName = "certificate.pem"
    public static let readmeName = "README.txt"

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        }
        return encoder
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an ISO 8601 time: \(text)"))
        }
        return decoder
    }

    public func json() throws -> Data { try ExportManifest.encoder.encode(self) + Data("\n".utf8) }

    /// The same in words, for a reader without tools (times local with their UTC offset).
    public func text() -> String {
        let zone = TimeZone(identifier: timeZone) ?? TimeZone(identifier: "UTC")!
        func time(_ date: Date) -> String { LocalTime.format(date, timeZone: zone, offset: true, fraction: true) }
        var lines = [
            "EVIDENCE EXPORT (\(format))",
            "",
            "Site:               \(site) (times in \(timeZone), with their offset from UTC)",
            "Requisition:        \(requisition.number)",
            "Authority:          \(requisition.authority)",
            "Legal basis:        CPP art. \(requisition.basis)",
            "Received:           \(time(requisition.received))",
        ]
        if let deadline = requisition.deadline { lines.append("Deadline:           \(time(deadline))") }
        lines += [
            "Exported by:        \(technician)",
            "Exported at:        \(time(exportedAt))",
            "Recipient:          \(recipient)",
            "Medium:             \(medium)",
            "Period asked:       \(time(from)) to \(time(to))",
            "Cameras asked:      \(cameras.joined(separator: ", "))",
            "Signed by:          \(signer.unit), certificate \(signer.certificateSubject)",
            "Certificate SHA-256: \(signer.certificateSHA256)",
            "Audit chain head:   entry \(auditHead.sequence), hash \(auditHead.hash)",
            "",
            "FILES (\(files.count))",
        ]
        for file in files {
            lines += [
                "",
                "  \(file.name)",
                "    camera:   \(file.cameraName) (\(file.camera)), \(file.location)",
                "    period:   \(time(file.from)) to \(time(file.to))",
                "    pictures: \(file.frames), \(file.codec) \(file.width)x\(file.height)",
                "    size:     \(file.bytes) bytes",
                "    SHA-256:  \(file.sha256)",
            ]
        }
        lines += ["", "GAPS (\(gaps.count))"]
        for gap in gaps { lines.append("  \(gap.camera): \(time(gap.from)) to \(time(gap.to)): \(gap.reason)") }
        if !noFootage.isEmpty { lines += ["", "NO FOOTAGE IN THE PERIOD", "  " + noFootage.joined(separator: ", ")] }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func load(_ data: Data) throws -> ExportManifest {
        do {
            return try decoder.decode(ExportManifest.self, from: data)
        } catch {
            throw EvidenceError("manifest.json is not a Vigie export manifest: \(error)")
        }
    }
}

/// The instructions left in every export, for a reader with standard tools only.
enum ExportReadme {
    static func text(_ manifest: ExportManifest) -> String {
        """
        Evidence export of requisition \(manifest.requisition.number) (\(manifest.site)), made by Vigie.

        Each .mp4 file holds one camera's recordings for the period, copied without
        re-encoding (every picture as the camera sent it), with a subtitle track giving the
        date and time of each second. VLC, ffplay and web browsers play them as they are.
        Each file is signed inside, following the ONVIF Export File Format (RSASSA-PSS,
        SHA-256, salt 20, with the recorder's certificate): ONVIF's player oxfplayer checks it.

        manifest.json and manifest.txt (the same, in words) list the files with their
        SHA-256, the gaps and the audit chain's head; each is signed (.sig beside it).

        To check everything with standard tools, in this folder:

            sha256sum -c SHA256SUMS
            openssl x509 -in certificate.pem -noout -fingerprint -sha256 -subject
            openssl x509 -in certificate.pem -pubkey -noout > /tmp/export-key.pem
            openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:20 \\
                -verify /tmp/export-key.pem -signature manifest.json.sig manifest.json
            openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:20 \\
                -verify /tmp/export-key.pem -signature manifest.txt.sig manifest.txt

        The certificate's SHA-256 fingerprint must be the recorder's:
            \(manifest.signer.certificateSHA256)
        (`vigie recorder status` on the site prints it.) `vigie export verify FOLDER` does all
        of the above and checks the signature inside each .mp4 file, saying where a change is.

        """
    }
}
