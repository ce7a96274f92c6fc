import ArgumentParser
import Evidence
import Foundation
import RecorderAPI
import RecorderCore

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Signed evidence for the court: a requisition's footage as MP4 files, and their check.",
        subcommands: [ExportMake.self, ExportVerify.self], defaultSubcommand: ExportMake.self)
}

struct ExportMake: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make", abstract: "Export a requisition's footage (the default: `vigie export --requisition N ...`).",
        discussion: """
            Per camera, MP4 files copied from the recordings without re-encoding (every picture \
            kept), with a subtitle track of the date and time, signed inside by the recorder \
            (ONVIF Export File Format: RSASSA-PSS with its certificate); beside them a signed \
            manifest (JSON and text), SHA256SUMS, the certificate and a README telling how to check \
            it all with standard tools. Cameras and period default to the requisition's and must \
            lie inside it. The export is written to the transmission register (date, recipient, \
            medium) and the audit log. With --server the recorder writes it in its storage \
            (STORAGE/exports) and the files are copied from there into --output, then checked.
            """)

    @OptionGroup var storageOptions: StorageOptions
    @OptionGroup var remote: ServiceOptions
    @Option(help: "The requisition's number.") var requisition: String
    @Option(help: "Camera ids or numbers, comma separated (default: the requisition's).") var cameras: String?
    @Option(help: "From (local time; default: the requisition's start).") var from: String?
    @Option(help: "To (local time; default: the requisition's end).") var to: String?
    @Option(help: "Who receives it (the OPJ, the prosecutor's office).") var recipient: String
    @Option(help: "The medium's reference (sealed disc number, transfer reference).") var medium: String
    @Option(help: "A new or empty folder for the export (with --server: where it is copied to).") var output: String?

    func validate() throws {
        try checkTyped(recipient, option: "--recipient")
        try checkTyped(medium, option: "--medium")
        if output == nil { throw ValidationError("--output FOLDER: where the export goes") }
    }

    func run() throws {
        let (service, zone) = try remote.connect(storageOptions, access: .readWrite)
        let start = try from.map { try parseLocal($0, zone, option: "--from") }, end = try to.map { try parseLocal($0, zone, option: "--to") }
        let folder = output.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        // Through a remote recorder the export is made in its storage, then copied here.
        let request = ExportRequest(
            requisition: requisition, cameras: cameras.map(cameraList) ?? [], from: start, to: end, recipient: recipient, medium: medium,
            output: remote.server == nil ? folder : nil)
        var status = try check("vigie export") { () throws(ServiceError) in try service.startExport(request) }
        printError("vigie export: requisition \(status.requisition), \(status.cameras.count) camera(s) into \(status.directory)")
        var shown = -1
        while status.state == "running" {
            Thread.sleep(forTimeInterval: 0.25)
            let id = status.id
            status = try check("vigie export") { () throws(ServiceError) in try service.export(id: id) }
            if status.camerasDone != shown {
                shown = status.camerasDone
                printError("vigie export: \(status.camerasDone)/\(status.cameras.count) camera(s) done")
            }
        }
        guard status.state == "done" else {
            printError("vigie export: failed: \(status.error ?? "unknown error"); nothing was left in \(status.directory)")
            throw ExitCode(74)
        }
        if remote.server != nil, let folder {
            try copy(status, from: service, into: URL(fileURLWithPath: folder))
            print("exported \(status.files) file(s), \(status.bytes) bytes, by the recorder into \(status.directory), copied into \(folder) and checked")
        } else {
            print("exported \(status.files) file(s), \(status.bytes) bytes, into \(status.directory) in \(String(format: "%.1f", status.seconds)) s")
        }
        print("manifest SHA-256 \(status.manifestSHA256 ?? "?"); signed by certificate SHA-256 \(status.certificateSHA256 ?? "?")")
    }
}

extension ExportMake {
    /// Copies a remote export's files, 8 MiB a request, into a new or empty folder, then
    /// checks the copy as `export verify` does (a transfer that changed a byte is caught).
    func copy(_ status: ExportStatus, from service: RecorderService, into folder: URL) throws {
        let manager = FileManager.default
        if manager.fileExists(atPath: folder.path), ((try? manager.contentsOfDirectory(atPath: folder.path)) ?? []).isEmpty == false {
            printError("vigie export: \(folder.path) is not empty: the copy goes into a new or empty folder (the export stays in the recorder's \(status.directory))")
            throw ExitCode(73)
        }
        try manager.createDirectory(at: folder, withIntermediateDirectories: true)
        let id = status.id
        let files = try check("vigie export") { () throws(ServiceError) in try service.exportFiles(id: id) }
        for file in files {
            guard let name = file["name"], !name.contains("/"), name != "." && name != ".." else { continue }
            let path = folder.appendingPathComponent(name).path
            guard manager.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
                printError("vigie export: cannot write \(path)")
                throw ExitCode(73)
            }
            defer { try? handle.close() }
            var offset: Int64 = 0
            while true {
                let at = offset
                let chunk = try check("vigie export") { () throws(ServiceError) in try service.exportChunk(id: id, name: name, offset: at) }
                if chunk.isEmpty { break }
                try handle.write(contentsOf: Data(chunk))
                offset += Int64(chunk.count)
            }
            printError("vigie export: copied \(name), \(offset) bytes")
        }
        let report = ExportVerifier.verify(folder, fingerprint: status.certificateSHA256)
        guard report.isValid else {
            for problem in report.problems { printError("vigie export: the copy: \(problem)") }
            throw ExitCode(74)
        }
    }
}

struct ExportVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Check an export: signatures, manifest, every byte of every file.",
        discussion: """
            Needs nothing but the folder (no recorder, no catalog). Exits 0 when everything \
            matches, 1 when anything was changed (and says where), 66 when the folder is not an \
            export. --fingerprint checks the certificate is the recorder's (its SHA-256, as \
            `vigie export` printed it).
            """)

    @Argument(help: "The export's folder.") var folder: String
    @Option(help: "The SHA-256 fingerprint the certificate must have.") var fingerprint: String?

    func run() throws {
        let url = URL(fileURLWithPath: folder)
        guard FileManager.default.fileExists(atPath: url.appendingPathComponent(ExportManifest.jsonName).path) else {
            printError("vigie export verify: \(folder) holds no manifest.json: not an export")
            throw ExitCode(66)
        }
        let began = Date()
        let report = ExportVerifier.verify(url, fingerprint: fingerprint)
        if let manifest = report.manifest {
            print("export of requisition \(manifest.requisition.number) (\(manifest.site)), \(manifest.files.count) file(s), by \(manifest.technician) for \(manifest.recipient)")
        }
        if let found = report.fingerprint {
            print("signed by certificate SHA-256 \(found)")
            if fingerprint == nil {
                print("note: the certificate was not checked against the recorder's: compare its SHA-256 with the recorder's (`vigie recorder status`), or give --fingerprint")
            }
        }
        for note in report.notes { print("note: \(note)") }
        for problem in report.problems { print("CHANGED: \(problem)") }
        let seconds = Date().timeIntervalSince(began)
        if report.isValid {
            print("verified: \(report.filesChecked) file(s), \(report.bytesChecked) bytes, signatures and manifest intact (\(String(format: "%.2f", seconds)) s)")
        } else {
            print("NOT VERIFIED: \(report.problems.count) problem(s)")
            throw ExitCode(1)
        }
    }
}
