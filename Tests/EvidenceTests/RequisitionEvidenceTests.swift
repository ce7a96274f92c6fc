import Crypto
import Evidence
import Foundation
import RecorderAPI
import RecorderCore
import Server
import TestSupport
import Testing

/// The path of a judicial requisition on a recording made by the test: entered and held,
/// playback inside allowed and outside refused, an export that ffprobe and OpenSSL read and
/// that `export verify` checks, then catches a byte changed in a picture, the manifest or
/// the signature.
@Suite(.serialized) struct RequisitionEvidenceTests {
    static let cache = TestPaths.scratch.appendingPathComponent("sim-cache").path

    @discardableResult
    static func vigie(_ arguments: [String], input: String? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
        let program = try #require(TestPaths.vigie, "build vigie first")
        return try runProgram(program, arguments, environment: ["VIGIE_CACHE": cache], input: input)
    }

    static func site(_ folder: URL, ids: [String], extra: String = "", name: String = "site.yaml") throws -> URL {
        var yaml = "site:\n  name: Test\n  timezone: Europe/Paris\n\(extra)cameras:\n"
        for id in ids { yaml += "  - id: \(id)\n    name: Rue \(id)\n    location: Place \(id)\n    main: sim://\(id)/main\n" }
        let url = folder.appendingPathComponent(name)
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    static func sql(_ catalog: String, _ query: String) -> String {
        ((try? runProgram("/usr/bin/sqlite3", [catalog, query]).stdout) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func aRequisitionHoldsItsFootageAndItsExportIsSignedAndChecked() throws {
        let folder = TestPaths.temporaryFolder("requisition")
        let ids = ["anatole-france", "beranger-est", "beranger-ouest"]
        let site = try Self.site(folder, ids: ids)
        #expect(try Self.vigie(["sim", "prepare", "--site", site.path, "--stream", "main"]).status == 0)
        let storage = folder.appendingPathComponent("storage")
        let common = ["--site", site.path, "--storage", storage.path]
        let recorded = try Self.vigie(["record"] + common + ["--segment-seconds", "5", "--duration", "26"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let catalog = storage.appendingPathComponent("catalog.sqlite").path
        let first = Int64(Self.sql(catalog, "SELECT MIN(start_us) FROM segments WHERE camera = 'anatole-france'")) ?? 0
        let last = Int64(Self.sql(catalog, "SELECT MAX(end_us) FROM segments WHERE camera = 'anatole-france'")) ?? 0
        #expect(last - first > 20_000_000)
        let zone = TimeZone(identifier: "Europe/Paris")!
        func local(_ micros: Int64) -> String { LocalTime.format(Date(timeIntervalSince1970: Double(micros) / 1e6), timeZone: zone) }
        // Whole seconds, as typed.
        let from = (first + 4_000_000) / 1_000_000 * 1_000_000, to = (last - 4_000_000) / 1_000_000 * 1_000_000

        // Entered: held at once, under its number.
        let added = try Self.vigie(
            ["requisition", "add", "--number", "PV 2026/117", "--authority", "OPJ Durand, commissariat de Coutances", "--basis", "77-1-1",
             "--cameras", "anatole-france,beranger-est", "--from", local(from), "--to", local(to)] + common)
        #expect(added.status == 0, "\(added.stderr)")
        #expect(Self.sql(catalog, "SELECT reference || '|' || cameras FROM holds WHERE released_us IS NULL") == "PV 2026/117|anatole-france,beranger-est")
        #expect(try Self.vigie(["requisition", "add", "--number", "PV 2026/117", "--authority", "x", "--basis", "60-1", "--cameras", "all",
                                "--from", local(from), "--to", local(to)] + common).status == 64)
        #expect(try Self.vigie(["requisition", "add", "--number", "PV 9", "--authority", "x", "--basis", "61", "--cameras", "all",
                                "--from", local(from), "--to", local(to)] + common).status == 64)

        // Playback inside it: allowed, audited with its number; outside it: refused unless a reason is given (the site allows it).
        let inside = try Self.vigie(["play", "anatole-france", "--at", local(from + 2_000_000), "--frames", "3", "--size", "20x6"] + common)
        #expect(inside.status == 0, "\(inside.stderr)")
        let outside = try Self.vigie(["play", "beranger-ouest", "--at", local(from + 2_000_000), "--frames", "3", "--size", "20x6"] + common)
        #expect(outside.status == 77 && outside.stderr.contains("no open requisition covers camera beranger-ouest"), "\(outside)")
        let before = try Self.vigie(["play", "anatole-france", "--at", local(first + 1_000_000), "--frames", "3", "--size", "20x6"] + common)
        #expect(before.status == 77, "\(before)")
        let reasoned = try Self.vigie(["play", "beranger-ouest", "--at", local(from), "--frames", "3", "--size", "20x6", "--reason", "contrôle du cadrage"] + common)
        #expect(reasoned.status == 0, "\(reasoned.stderr)")
        let strict = try Self.site(folder, ids: ids, extra: "  outside_requisition: refused\n", name: "strict.yaml")
        let refused = try Self.vigie(
            ["play", "beranger-ouest", "--at", local(from), "--frames", "3", "--size", "20x6", "--reason", "x", "--site", strict.path, "--storage", storage.path])
        #expect(refused.status == 77 && refused.stderr.contains("allows no consultation outside one"), "\(refused)")
        let plays = Self.sql(catalog, "SELECT camera || '|' || IFNULL(requisition, '-') || '|' || IFNULL(reason, '-') || '|' || detail FROM audit WHERE action = 'recording.play'")
        #expect(plays.contains("anatole-france|PV 2026/117|-|opened"), "\(plays)")
        #expect(plays.contains("beranger-ouest|-|contrôle du cadrage|opened (outside any requisition)"), "\(plays)")
        #expect(Self.sql(catalog, "SELECT COUNT(*) FROM audit WHERE action = 'access.refuse' AND camera = 'beranger-ouest'") == "2")

        // The export: per camera one MP4, signed; outside the requisition, refused.
        let output = folder.appendingPathComponent("export")
        let wider = try Self.vigie(["export", "--requisition", "PV 2026/117", "--from", local(first), "--recipient", "OPJ Durand", "--medium", "DVD 1",
                                    "--output", output.path] + common)
        #expect(wider.status == 77, "\(wider)")
        let exported = try Self.vigie(["export", "--requisition", "PV 2026/117", "--recipient", "OPJ Durand", "--medium", "DVD scellé n° 1", "--output", output.path] + common)
        #expect(exported.status == 0, "\(exported.stderr)")
        let manifest = try ExportManifest.load(try Data(contentsOf: output.appendingPathComponent("manifest.json")))
        #expect(manifest.files.map(\.camera) == ["anatole-france", "beranger-est"])
        #expect(manifest.requisition.number == "PV 2026/117" && manifest.requisition.basis == "77-1-1" && manifest.technician == "root")
        #expect(manifest.auditHead.sequence > 0)
        for file in manifest.files {
            let path = output.appendingPathComponent(file.name).path
            let probe = try runProgram(
                "/usr/bin/ffprobe",
                ["-v", "error", "-show_entries", "format=duration:format_tags=creation_time:stream=codec_type,codec_name,nb_frames", "-of", "default=noprint_wrappers=1", path])
            #expect(probe.status == 0, "\(probe.stderr)")
            let duration = Double(probe.stdout.split(separator: "\n").first { $0.hasPrefix("duration=") }?.dropFirst(9) ?? "") ?? 0
            // From the keyframe at or before the period's start to its end, every picture (25 a second).
            let asked = Double(to - from) / 1e6
            #expect(duration >= asked - 0.2 && duration <= asked + 2.5, "\(file.name): \(duration) s for \(asked) s asked; manifest \(file.from) to \(file.to), asked \(from) to \(to)")
            #expect(probe.stdout.contains("codec_name=h264") && probe.stdout.contains("codec_name=mov_text"), "\(probe.stdout)")
            #expect(probe.stdout.contains("nb_frames=\(file.frames)"), "\(probe.stdout)")
            #expect(abs(Double(file.frames) - duration * 25) <= 2, "\(file.frames) frames in \(duration) s")
            let created = try #require(probe.stdout.split(separator: "\n").first { $0.hasPrefix("TAG:creation_time=") }).dropFirst(18)
            let start = try #require(try? Date(String(created), strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
            #expect(abs(start.timeIntervalSince(file.from)) < 0.001 && file.from.timeIntervalSince1970 * 1e6 <= Double(from) + 1)
            // The subtitle track tells the local date and time of the first second.
            let subtitles = try runProgram("/usr/bin/ffmpeg", ["-v", "error", "-i", path, "-map", "0:1", "-f", "srt", "-"])
            let firstSecond = LocalTime.format(Date(timeIntervalSince1970: file.from.timeIntervalSince1970.rounded(.down)), timeZone: zone) + " +01:00"
            #expect(subtitles.stdout.contains(firstSecond) && subtitles.stdout.contains("Rue \(file.camera)"), "\(subtitles.stdout.prefix(300))")
            // The ONVIF signature, checked by OpenSSL on the file with the signature's bytes zero (salt 20, as the format says).
            try checkWithOpenSSL(path, certificate: output.appendingPathComponent("certificate.pem").path, scratch: folder)
        }
        let sums = try runProgram("/bin/sh", ["-c", "cd '\(output.path)' && sha256sum -c SHA256SUMS"])
        #expect(sums.status == 0 && sums.stdout.components(separatedBy: ": OK").count == 6, "\(sums)")
        let verified = try Self.vigie(["export", "verify", output.path, "--fingerprint", manifest.signer.certificateSHA256])
        #expect(verified.status == 0 && verified.stdout.contains("verified: 2 file(s)"), "\(verified)")
        #expect(try Self.vigie(["export", "verify", output.path, "--fingerprint", String(repeating: "ab", count: 32)]).status == 1)

        // One byte changed in a picture, in the manifest, in a signature: caught, and where.
        func tampered(_ name: String, _ change: (inout [UInt8]) -> Void) throws -> String {
            let copy = folder.appendingPathComponent("tampered-\(name.hashValue & 0xFFFF)-\(UUID().uuidString.prefix(6))")
            try FileManager.default.copyItem(at: output, to: copy)
            let file = copy.appendingPathComponent(name)
            var bytes = [UInt8](try Data(contentsOf: file))
            change(&bytes)
            try Data(bytes).write(to: file)
            let result = try Self.vigie(["export", "verify", copy.path])
            #expect(result.status == 1, "\(name): \(result)")
            return result.stdout
        }
        let video = manifest.files[0].name
        let mdat = try #require(try BMFF.topLevelBoxes(of: output.appendingPathComponent(video).path).first { $0.type == "mdat" })
        let picture = try tampered(video) { $0[mdat.payloadOffset + (mdat.size - mdat.headerSize) / 2] ^= 0x01 }
        #expect(picture.contains("\(video): its SHA-256 is not the manifest's") && picture.contains("`mdat` (the pictures)")
            && picture.contains("ONVIF signature inside the file does not match"), "\(picture)")
        let text = try tampered("manifest.json") { bytes in
            let at = bytes.indices.first { bytes[$0] == UInt8(ascii: "D") && bytes[$0 + 1] == UInt8(ascii: "u") }!
            bytes[at] = UInt8(ascii: "P")
        }
        #expect(text.contains("manifest.json: its signature (manifest.json.sig) does not match"), "\(text)")
        let signature = try tampered(video) { bytes in
            let sibo = (0..<(bytes.count - 4)).last { bytes[$0] == 0x73 && bytes[$0 + 1] == 0x69 && bytes[$0 + 2] == 0x62 && bytes[$0 + 3] == 0x6F }!
            bytes[sibo + 4 + 100] ^= 0x80
        }
        #expect(signature.contains("the ONVIF signature inside the file does not match") && signature.contains("`meta` (the ONVIF signature box)"), "\(signature)")
        let sig = try tampered("manifest.txt.sig") { $0[10] ^= 0x01 }
        #expect(sig.contains("manifest.txt: its signature"), "\(sig)")

        // The register and the audit log know of it; the requisition is delivered.
        #expect(Self.sql(catalog, "SELECT requisition || '|' || by || '|' || recipient || '|' || medium || '|' || files FROM transmissions")
            == "PV 2026/117|root|OPJ Durand|DVD scellé n° 1|2")
        #expect(Self.sql(catalog, "SELECT COUNT(*) FROM audit WHERE action = 'evidence.export' AND requisition = 'PV 2026/117'") == "2")
        let shown = try Self.vigie(["requisition", "show", "PV 2026/117"] + common)
        #expect(shown.stdout.contains("delivered") && shown.stdout.contains("OPJ Durand on DVD scellé n° 1: 2 file(s)"), "\(shown)")
        #expect(try Self.vigie(["audit", "verify"] + common).status == 0)

        // Closed: no more consultation; the holds stay until released.
        #expect(try Self.vigie(["requisition", "close", "PV 2026/117", "--reason", "réponse transmise"] + common).status == 0)
        #expect(Self.sql(catalog, "SELECT COUNT(*) FROM holds WHERE released_us IS NULL") == "1")
        #expect(try Self.vigie(["play", "anatole-france", "--at", local(from + 2_000_000), "--frames", "1", "--size", "20x6"] + common).status == 77)
        #expect(try Self.vigie(["requisition", "release", "PV 2026/117", "--reason", "classement sans suite"] + common).status == 0)
        #expect(Self.sql(catalog, "SELECT COUNT(*) FROM holds WHERE released_us IS NULL") == "0")

        // Released footage follows the storage rules again: a small quota destroys the oldest.
        let squeezed = try Self.vigie(["record"] + common + ["--segment-seconds", "5", "--duration", "8", "--storage-quota", "12M"])
        #expect(squeezed.status == 0, "\(squeezed.stderr)")
        #expect((Int(Self.sql(catalog, "SELECT COUNT(*) FROM destructions WHERE destroyed_us IS NOT NULL")) ?? 0) > 0)

        // The register and the compliance report tell what happened, in text, CSV, HTML and PDF.
        let register = try Self.vigie(["register"] + common)
        #expect(register.status == 0, "\(register)")
        for expected in ["RECORDINGS MADE", "anatole-france", "kept", "destroyed", "DESTRUCTIONS", "storage quota", "TRANSMISSIONS TO JUDICIAL AUTHORITIES (1)",
                         "requisition PV 2026/117  to OPJ Durand on DVD scellé n° 1  by root"] {
            #expect(register.stdout.contains(expected), "\(expected) in \(register.stdout)")
        }
        let csv = try Self.vigie(["register", "--format", "csv"] + common)
        #expect(csv.stdout.hasPrefix("kind,camera,from,to,at,segments,bytes,detail\r\n") && csv.stdout.contains("\r\ntransmission,anatole-france beranger-est,"), "\(csv.stdout)")
        let report = try Self.vigie(["compliance", "report"] + common)
        #expect(report.status == 0, "\(report)")
        for expected in ["single-user mode", "RETENTION PER CAMERA (3 cameras, 0 over their retention)", "HOLDS IN FORCE (0; 0 without an open requisition)",
                         "PV 2026/117  closed  CPP 77-1-1  OPJ Durand, commissariat de Coutances", "exported", "chain VERIFIED"] {
            #expect(report.stdout.contains(expected), "\(expected) in \(report.stdout)")
        }
        let html = try Self.vigie(["compliance", "report", "--format", "html"] + common)
        #expect(html.stdout.hasPrefix("<!DOCTYPE html>") && html.stdout.contains("<h2>ACCOUNTS (0)</h2>"), "\(html.stdout.prefix(400))")
        for (command, expected) in [(["register"], "TRANSMISSIONS TO JUDICIAL AUTHORITIES (1)"), (["compliance", "report"], "chain VERIFIED")] {
            let pdf = folder.appendingPathComponent("\(command[0]).pdf")
            let made = try runProgram("/bin/sh", ["-c", "VIGIE_CACHE=\(Self.cache) '\(try #require(TestPaths.vigie))' \(command.joined(separator: " ")) --format pdf \(common.map { "'\($0)'" }.joined(separator: " ")) > '\(pdf.path)'"])
            #expect(made.status == 0, "\(made)")
            #expect(try Data(contentsOf: pdf).prefix(5) == Data("%PDF-".utf8))
            let text = try runProgram("/usr/bin/pdftotext", [pdf.path, "-"])
            #expect(text.status == 0 && text.stdout.contains(expected) && text.stdout.contains("PV 2026/117") && text.stdout.contains("page 1/"), "\(text)")
        }
    }

    /// The file with its `sibo` payload zeroed, and its signature, given to `openssl dgst -verify`.
    func checkWithOpenSSL(_ path: String, certificate: String, scratch: URL) throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let boxes = try BMFF.topLevelBoxes(of: path)
        let meta = try #require(boxes.last)
        #expect(meta.type == "meta")
        let parsed = try OnvifMetaBox.parse(Array(bytes[meta.offset..<meta.end]), offset: meta.offset)
        #expect(parsed.schemeType == "oeff" && parsed.operatorName == "root" && parsed.userInformation?.contains("PV 2026/117") == true)
        #expect(parsed.starts.count == 2 && parsed.starts[0].track == 1)
        let at = meta.offset + parsed.signatureOffset
        let signature = Data(bytes[at..<(at + parsed.signature.count)])
        for index in at..<(at + parsed.signature.count) { bytes[index] = 0 }
        let zeroed = scratch.appendingPathComponent("zeroed.mp4"), signatureFile = scratch.appendingPathComponent("signature.bin")
        let key = scratch.appendingPathComponent("key.pem")
        try Data(bytes).write(to: zeroed)
        try signature.write(to: signatureFile)
        let extracted = try runProgram("/usr/bin/openssl", ["x509", "-in", certificate, "-pubkey", "-noout", "-out", key.path])
        #expect(extracted.status == 0, "\(extracted)")
        let checked = try runProgram(
            "/usr/bin/openssl",
            ["dgst", "-sha256", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:20", "-verify", key.path, "-signature", signatureFile.path, zeroed.path])
        #expect(checked.stdout.contains("Verified OK"), "\(checked)")
    }

    @Test func pssSignaturesAreTheOnesOpenSSLMakesAndChecks() throws {
        let folder = TestPaths.temporaryFolder("pss")
        let identity = try EvidenceIdentity.loadOrCreate(storage: folder, siteName: "Test")
        #expect(identity.created)
        #expect(try EvidenceIdentity.loadOrCreate(storage: folder, siteName: "Test").fingerprint == identity.fingerprint)
        let message = folder.appendingPathComponent("message.bin")
        try Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: message)
        let data = try Data(contentsOf: message)
        let numbers = try RSAPublicNumbers(certificateDER: identity.certificateDER)
        #expect(numbers.bits == 3072)
        // Ours, checked by ours and by OpenSSL with a salt of 20 (not 32).
        let signature = try identity.sign(SHA256.hash(data: data))
        #expect(RSAPSS.verify(signature: [UInt8](signature), digest: SHA256.hash(data: data), modulus: numbers.modulus, exponent: numbers.exponent) == 20)
        var changed = data
        changed[5] ^= 1
        #expect(RSAPSS.verify(signature: [UInt8](signature), digest: SHA256.hash(data: changed), modulus: numbers.modulus, exponent: numbers.exponent) == nil)
        let paths = EvidenceIdentity.paths(storage: folder)
        let publicKey = folder.appendingPathComponent("public.pem").path
        #expect(try runProgram("/usr/bin/openssl", ["x509", "-in", paths.certificate, "-pubkey", "-noout", "-out", publicKey]).status == 0)
        let signatureFile = folder.appendingPathComponent("ours.sig")
        try signature.write(to: signatureFile)
        for (salt, expected) in [("20", true), ("32", false)] {
            let checked = try runProgram(
                "/usr/bin/openssl",
                ["dgst", "-sha256", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:\(salt)", "-verify", publicKey, "-signature", signatureFile.path, message.path])
            #expect(checked.stdout.contains("Verified OK") == expected, "salt \(salt): \(checked)")
        }
        // OpenSSL's, checked by ours.
        let theirs = folder.appendingPathComponent("theirs.sig")
        let signed = try runProgram(
            "/usr/bin/openssl",
            ["dgst", "-sha256", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:20", "-sign", paths.key, "-out", theirs.path, message.path])
        #expect(signed.status == 0, "\(signed)")
        let made = [UInt8](try Data(contentsOf: theirs))
        #expect(RSAPSS.verify(signature: made, digest: SHA256.hash(data: data), modulus: numbers.modulus, exponent: numbers.exponent) == 20)
    }

    /// Vidéoprotection (Coutances): no live view for any role, not even single-user mode (the
    /// console opening on the requisitions is tested in tmux, SynchronizedPlaybackTests).
    @Test func videoprotectionRefusesLiveForEveryRole() throws {
        let folder = TestPaths.temporaryFolder("videoprotection")
        let site = try Self.site(folder, ids: ["a"], extra: "  mode: videoprotection\n")
        let inventory = try CameraInventory.load(path: site.path)
        #expect(inventory.site.mode == .videoprotection && inventory.site.consultationOutsideRequisition == .refused)
        let store = try RecordingStore(root: folder.appendingPathComponent("storage"))
        let api = ServerAPI(store: store, inventory: inventory, metrics: { "" })
        func live(_ user: String) -> APIReply {
            api.handle(APIRequest(method: "GET", target: "/v1/live/a/sub", authorization: nil, body: [], peer: .local(unixUser: user)))
        }
        #expect(live("root").status == 403)
        for role in Role.allCases {
            try store.catalog.addAccount(
                Account(name: "p-\(role.rawValue)", role: role, unixUser: "u-\(role.rawValue)", passwordHash: try PasswordHash.make("a long password"), createdBy: "test", createdAt: Date()))
        }
        for role in Role.allCases {
            let reply = live("u-\(role.rawValue)")
            #expect(reply.status == 403 && String(decoding: reply.body, as: UTF8.self).contains("vidéoprotection"), "\(role): \(String(decoding: reply.body, as: UTF8.self))")
        }
        // Nor from the command line.
        let viewed = try Self.vigie(["view", "a", "--site", site.path, "--frames", "1"])
        #expect(viewed.status == 77 && viewed.stderr.contains("vidéoprotection mode: no live view"), "\(viewed)")
        let cameras = api.handle(APIRequest(method: "GET", target: "/v1/cameras", authorization: nil, body: [], peer: .local(unixUser: "u-supervisor")))
        #expect(String(decoding: cameras.body, as: UTF8.self).contains("\"live\":false"))
        let wrong = try Self.site(folder, ids: ["a"], extra: "  mode: videoprotection\n  outside_requisition: with-reason\n", name: "wrong.yaml")
        let checked = try Self.vigie(["cameras", "check", wrong.path])
        #expect(checked.status == 65 && checked.stderr.contains("wrong.yaml:5:24: error: outside_requisition: with-reason is not possible"), "\(checked)")
    }

    /// Each role its own part: technicians enter, extend and close requisitions and export;
    /// only a supervisor releases a requisition's holds; an operator may do none of it, an
    /// auditor reads them; nobody exports outside a requisition's cameras and periods.
    @Test func requisitionsAndExportsAreEachRolesOwn() throws {
        let folder = TestPaths.temporaryFolder("requisition-roles")
        let site = try Self.site(folder, ids: ["a", "b"])
        let inventory = try CameraInventory.load(path: site.path)
        let store = try RecordingStore(root: folder.appendingPathComponent("storage"))
        let api = ServerAPI(store: store, inventory: inventory, metrics: { "" })
        for role in Role.allCases {
            try store.catalog.addAccount(
                Account(
                    name: "p-\(role.rawValue)", role: role, cameras: role == .technician ? ["a"] : ["*"], unixUser: "u-\(role.rawValue)",
                    passwordHash: try PasswordHash.make("a long password"), createdBy: "test", createdAt: Date()))
        }
        func ask(_ role: Role, _ method: String, _ target: String, _ body: String = "") -> (status: Int, body: String) {
            let reply = api.handle(APIRequest(method: method, target: target, authorization: nil, body: Array(body.utf8), peer: .local(unixUser: "u-\(role.rawValue)")))
            return (reply.status, String(decoding: reply.body, as: UTF8.self))
        }
        let entry = #"{"number":"PV 5","authority":"OPJ","basis":"60-1","cameras":["a"],"from":"2026-11-30T10:00:00Z","to":"2026-11-30T11:00:00Z"}"#
        #expect(ask(.operator, "POST", "/v1/requisitions", entry).status == 403)
        #expect(ask(.auditor, "POST", "/v1/requisitions", entry).status == 403)
        // A technician limited to camera a may not ask for b.
        #expect(ask(.technician, "POST", "/v1/requisitions", entry.replacingOccurrences(of: #"["a"]"#, with: #"["b"]"#)).status == 403)
        let entered = ask(.technician, "POST", "/v1/requisitions", entry)
        #expect(entered.status == 201 && entered.body.contains(#""createdBy":"p-technician""#), "\(entered)")
        #expect(ask(.technician, "POST", "/v1/requisitions", entry).status == 409)
        #expect(ask(.auditor, "GET", "/v1/requisitions").status == 200)
        #expect(ask(.operator, "GET", "/v1/requisitions").status == 403)
        #expect(ask(.admin, "GET", "/v1/requisitions").status == 403)
        // Exports: a technician's (outside the requisition's period: refused), never an operator's or an auditor's.
        let export = #"{"requisition":"PV 5","cameras":[],"from":"2026-11-30T09:00:00Z","to":"2026-11-30T10:30:00Z","recipient":"OPJ","medium":"clé","output":"/tmp/x"}"#
        #expect(ask(.operator, "POST", "/v1/exports", export).status == 403)
        #expect(ask(.auditor, "POST", "/v1/exports", export).status == 403)
        let outside = ask(.technician, "POST", "/v1/exports", export)
        #expect(outside.status == 403 && outside.body.contains("does not cover camera a"), "\(outside)")
        let traversal = export.replacingOccurrences(of: "09:00:00", with: "10:00:00").replacingOccurrences(of: #""output":"/tmp/x""#, with: #""output":"/tmp/../etc""#)
        #expect(ask(.technician, "POST", "/v1/exports", traversal).status == 400)
        // The recorder writes only where its own Unix user asks (here it is root, the technician u-technician).
        let elsewhere = ask(.technician, "POST", "/v1/exports", export.replacingOccurrences(of: "09:00:00", with: "10:00:00"))
        #expect(elsewhere.status == 403 && elsewhere.body.contains("the export goes to the recorder's storage"), "\(elsewhere)")
        // A requisition's hold is released with it only, not as a hold of its own.
        let holdID = try #require(try store.catalog.holds(includeReleased: false).first { $0.requisition == "PV 5" }?.id)
        let direct = ask(.technician, "POST", "/v1/holds/\(holdID)/release", #"{"reason":"plus besoin"}"#)
        #expect(direct.status == 403 && direct.body.contains("belongs to requisition PV 5"), "\(direct)")
        // The register and the report: supervisors and auditors only.
        #expect(ask(.auditor, "GET", "/v1/register").status == 200 && ask(.supervisor, "GET", "/v1/compliance").status == 200)
        #expect(ask(.technician, "GET", "/v1/register").status == 403 && ask(.operator, "GET", "/v1/compliance").status == 403)
        // Closing: the technician may, but not release the holds; the supervisor confirms.
        let number = "PV%205"
        #expect(ask(.technician, "POST", "/v1/requisitions/\(number)/close", #"{"reason":"fait","release":true}"#).status == 403)
        let closed = ask(.technician, "POST", "/v1/requisitions/\(number)/close", #"{"reason":"fait","release":false}"#)
        #expect(closed.status == 200 && closed.body.contains(#""status":"closed""#) && !closed.body.contains(#""holds":[]"#), "\(closed)")
        #expect(ask(.technician, "POST", "/v1/requisitions/\(number)/release", #"{"reason":"fin"}"#).status == 403)
        let released = ask(.supervisor, "POST", "/v1/requisitions/\(number)/release", #"{"reason":"fin"}"#)
        #expect(released.status == 200 && released.body.contains(#""holds":[]"#) && released.body.contains(#""holdsReleasedBy":"p-supervisor""#), "\(released)")
        let refusals = try store.catalog.auditEntries(camera: nil, since: nil, who: nil).filter { $0.event.action == .accessRefused }
        #expect(refusals.count >= 9, "every refusal audited: \(refusals.count)")
    }
}
