public import Crypto
public import Foundation
import SwiftASN1
import Synchronization

/// Checks an export as a court's expert would, without trusting anything in it but the
/// certificate (whose fingerprint the expert compares with the recorder's): the manifest's
/// signatures, the text against the JSON, every file's size and SHA-256 (a change found to
/// its 4 MiB block and box), the signature inside every MP4 (ONVIF: RSASSA-PSS over the file
/// with the signature's bytes zero), and `SHA256SUMS`.
public enum ExportVerifier {
    public struct Report: Sendable {
        public var problems: [String] = []
        public var notes: [String] = []
        public var manifest: ExportManifest?
        public var fingerprint: String?
        public var filesChecked = 0
        public var bytesChecked: Int64 = 0
        public var isValid: Bool { problems.isEmpty }
    }

    public static func verify(_ directory: URL, fingerprint expected: String? = nil) -> Report {
        var report = Report()
        let fileManager = FileManager.default
        @Sendable func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        // The certificate: its key checks everything else.
        guard let pem = try? String(contentsOfFile: path(ExportManifest.certificateName), encoding: .utf8),
            let document = try? PEMDocument(pemString: pem), document.discriminator == "CERTIFICATE", case let der = [UInt8](document.derBytes),
            let key = try? RSAPublicNumbers(certificateDER: der)
        else {
            report.problems.append("\(ExportManifest.certificateName): missing or not an RSA certificate: nothing can be checked")
            return report
        }
        report.fingerprint = key.fingerprint
        if let expected, expected.lowercased().replacingOccurrences(of: ":", with: "") != key.fingerprint {
            report.problems.append("\(ExportManifest.certificateName): its SHA-256 is \(key.fingerprint), not the recorder's \(expected)")
        }
        func signatureProblem(_ name: String) -> String? {
            guard let data = fileManager.contents(atPath: path(name)) else { return "\(name): missing" }
            guard let signature = fileManager.contents(atPath: path(name + ".sig")) else { return "\(name).sig: missing" }
            guard let salt = RSAPSS.verify(signature: [UInt8](signature), digest: SHA256.hash(data: data), modulus: key.modulus, exponent: key.exponent) else {
                return "\(name): its signature (\(name).sig) does not match: the file or its signature was changed"
            }
            if salt != RSAPSS.saltLength { return "\(name): signed with a salt of \(salt) bytes, not the \(RSAPSS.saltLength) a Vigie export uses" }
            return nil
        }
        if let problem = signatureProblem(ExportManifest.jsonName) { report.problems.append(problem) }
        if let problem = signatureProblem(ExportManifest.textName) { report.problems.append(problem) }
        guard let json = fileManager.contents(atPath: path(ExportManifest.jsonName)), let manifest = try? ExportManifest.load(json) else {
            report.problems.append("\(ExportManifest.jsonName): missing or not a manifest: the files cannot be checked against it")
            return report
        }
        report.manifest = manifest
        if manifest.signer.certificateSHA256 != key.fingerprint {
            report.problems.append("\(ExportManifest.jsonName) names certificate \(manifest.signer.certificateSHA256), but \(ExportManifest.certificateName) is \(key.fingerprint)")
        }
        if let text = try? String(contentsOfFile: path(ExportManifest.textName), encoding: .utf8) {
            let expectedLines = manifest.text().split(separator: "\n", omittingEmptySubsequences: false)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            if let line = zip(expectedLines, lines).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
                report.problems.append("\(ExportManifest.textName): line \(line + 1) differs from the manifest: \"\(lines[line])\"")
            } else if lines.count != expectedLines.count {
                report.problems.append("\(ExportManifest.textName): \(lines.count) lines, the manifest makes \(expectedLines.count)")
            }
        }
        // The files in parallel, one a core; their problems in the manifest's order.
        let checked = Mutex<[Int: (problems: [String], bytes: Int64)]>([:])
        let next = Atomic<Int>(0)
        let group = DispatchGroup()
        let files = manifest.files
        for _ in 0..<max(1, min(files.count, ProcessInfo.processInfo.activeProcessorCount)) {
            group.enter()
            Thread {
                defer { group.leave() }
                while true {
                    let index = next.add(1, ordering: .relaxed).oldValue
                    guard index < files.count else { return }
                    var bytes: Int64 = 0
                    let problems = check(files[index], at: path(files[index].name), key: key, certificateDER: der, bytes: &bytes)
                    checked.withLock { $0[index] = (problems, bytes) }
                }
            }.start()
        }
        group.wait()
        for (index, file) in files.enumerated() {
            guard let result = checked.withLock({ $0[index] }) else { continue }
            if result.bytes > 0 {
                report.filesChecked += 1
                report.bytesChecked += result.bytes
            }
            for problem in result.problems { report.problems.append("\(file.name): \(problem)") }
        }
        // SHA256SUMS: what `sha256sum -c` will say.
        if let sums = try? String(contentsOfFile: path(ExportManifest.sumsName), encoding: .utf8) {
            let listed = Dictionary(
                sums.split(separator: "\n").compactMap { line -> (String, String)? in
                    let parts = line.split(separator: " ", maxSplits: 1)
                    guard parts.count == 2 else { return nil }
                    return (String(parts[1].drop { $0 == " " || $0 == "*" }), String(parts[0]))
                }, uniquingKeysWith: { first, _ in first })
            for file in manifest.files where listed[file.name] != file.sha256 {
                report.problems.append("\(ExportManifest.sumsName): the line of \(file.name) does not give the manifest's SHA-256")
            }
            for name in [ExportManifest.jsonName, ExportManifest.textName, ExportManifest.certificateName] {
                if let data = fileManager.contents(atPath: path(name)), listed[name] != Hex.of(SHA256.hash(data: data)) {
                    report.problems.append("\(ExportManifest.sumsName): the SHA-256 of \(name) does not match its line")
                }
            }
        } else {
            report.problems.append("\(ExportManifest.sumsName): missing")
        }
        let known = Set(manifest.files.map(\.name) + [ExportManifest.jsonName, ExportManifest.textName, ExportManifest.certificateName, ExportManifest.sumsName,
            ExportManifest.readmeName, ExportManifest.jsonName + ".sig", ExportManifest.textName + ".sig"])
        for name in ((try? fileManager.contentsOfDirectory(atPath: directory.path)) ?? []).sorted() where !known.contains(name) {
            report.notes.append("\(name) is not part of the export (not in the manifest)")
        }
        return report
    }

    /// One MP4: size, block hashes, whole hash, and the ONVIF signature inside.
    static func check(_ file: ExportedFile, at path: String, key: RSAPublicNumbers, certificateDER: [UInt8], bytes read: inout Int64) -> [String] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return ["missing"] }
        defer { try? handle.close() }
        var problems: [String] = []
        let size = Int64((try? handle.seekToEnd()) ?? 0)
        if size != file.bytes { problems.append("\(size) bytes, the manifest says \(file.bytes)") }
        guard let boxes = try? BMFF.topLevelBoxes(of: path) else { return problems + ["not an ISO media file (its boxes do not fit)"] }
        /// The boxes a byte range touches, named for a reader.
        func boxNames(from: Int64, to: Int64) -> String {
            let touched = boxes.filter { Int64($0.offset) <= to && from < Int64($0.end) }
            guard !touched.isEmpty else { return "past the last box" }
            return "in " + touched.map { box in
                switch box.type {
                case "mdat": "`mdat` (the pictures)"
                case "moov": "`moov` (the index of the pictures)"
                case "meta": "`meta` (the ONVIF signature box)"
                default: "`\(box.type)`"
                }
            }.joined(separator: ", ")
        }
        guard let meta = boxes.last, meta.type == "meta", meta.size <= 16 << 20, let bytes = try? readRange(handle, from: meta.offset, count: meta.size),
            let parsed = try? OnvifMetaBox.parse(bytes, offset: meta.offset)
        else { return problems + ["no ONVIF signature box (`meta` with `ipro/sinf/schi/sibo`) at the end of the file"] }
        if parsed.certificateDER != certificateDER { problems.append("signed with another certificate than the export's") }
        let signatureStart = Int64(meta.offset + parsed.signatureOffset), signatureEnd = signatureStart + Int64(parsed.signature.count)
        // One read: the whole file's hash, the blocks', and the hash with the signature zero
        // (the same as the whole file's up to the signature: forked there, the rest is the small end of `meta`).
        var whole = SHA256()
        var blocks = BlockHashes(size: file.chunkBytes)
        var signed: SHA256? = nil
        var at: Int64 = 0
        try? handle.seek(toOffset: 0)
        while true {
            guard let data = try? handle.read(upToCount: 1 << 20), !data.isEmpty else { break }
            let end = at + Int64(data.count)
            if signed == nil && end <= signatureStart {
                whole.update(data: data)
            } else {
                var chunk = [UInt8](data)
                var from = 0
                if signed == nil {
                    let split = Int(signatureStart - at)
                    whole.update(data: chunk[0..<split])
                    signed = whole
                    from = split
                }
                whole.update(data: chunk[from...])
                let lower = max(signatureStart, at), upper = min(signatureEnd, end)
                if lower < upper { for index in Int(lower - at)..<Int(upper - at) { chunk[index] = 0 } }
                signed!.update(data: chunk[from...])
            }
            blocks.update(data)
            at = end
        }
        let hashes = blocks.finish()
        let changedBlocks = hashes.indices.filter { $0 >= file.chunks.count || hashes[$0] != file.chunks[$0] }
        read = at
        if Hex.of(whole.finalize()) != file.sha256 {
            problems.append("its SHA-256 is not the manifest's")
            for index in changedBlocks.prefix(5) {
                let from = Int64(index * file.chunkBytes), to = min(at, from + Int64(file.chunkBytes)) - 1
                problems.append("changed between bytes \(from) and \(to), \(boxNames(from: from, to: to))")
            }
        }
        if let signed, let salt = RSAPSS.verify(signature: parsed.signature, digest: signed.finalize(), modulus: key.modulus, exponent: key.exponent) {
            if salt != RSAPSS.saltLength { problems.append("the ONVIF signature uses a salt of \(salt) bytes; the format requires \(RSAPSS.saltLength)") }
        } else {
            problems.append("the ONVIF signature inside the file does not match its bytes")
        }
        return problems
    }

    static func readRange(_ handle: FileHandle, from: Int, count: Int) throws -> [UInt8] {
        try handle.seek(toOffset: UInt64(from))
        return [UInt8](try handle.read(upToCount: count) ?? Data())
    }
}
