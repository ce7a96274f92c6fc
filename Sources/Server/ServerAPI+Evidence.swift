import Crypto
import Evidence
import Foundation
import Logging
import RecorderAPI
import RecorderCore

/// Exports through the server: a technician's export of a requisition's footage runs on a
/// thread of its own (an hour of four cameras takes a while), the command follows its
/// progress; the recorder signs it with its own key, writes the transmission register and
/// the audit log, and marks the requisition delivered.
extension ServerAPI {
    func startExport(_ request: APIRequest, _ actor: Actor) throws -> APIReply {
        guard let body = try? API.decode(ExportRequest.self, from: request.body) else {
            return .error(
                400, "an export is {\"requisition\", \"cameras\": [ids], \"from\"?, \"to\"?, \"recipient\", \"medium\", \"output\"?} with ISO 8601 times")
        }
        if let refused = try refuse(actor, .export, request) { return refused }
        for (field, text) in [("recipient", body.recipient), ("medium", body.medium)] {
            if let problem = ServerAPI.textProblem(field, text) { return .error(400, problem) }
        }
        guard let requisition = try store.catalog.requisition(number: body.requisition) else { return .error(404, "no requisition \(body.requisition)") }
        guard requisition.status.allowsConsultation else { return .error(409, "requisition \(requisition.number) is closed: nothing more is exported under it") }
        let ids: [String]
        switch try cameraIDs(body.cameras) {
        case .success(let found): ids = found.isEmpty ? (requisition.cameras.isEmpty ? inventory.cameras.map(\.id) : requisition.cameras) : found
        case .failure(let refusal): return refusal.reply
        }
        // The period: as asked, else the requisition's; it must lie inside one of its scopes, for every camera.
        let from = body.from ?? requisition.scopes.map(\.start).min()!, to = body.to ?? requisition.scopes.map(\.end).max()!
        guard to > from else { return .error(400, "`to` must be after `from`") }
        var cameras: [Camera] = []
        for id in ids {
            if let refused = try refuse(actor, .export, request, camera: id) { return refused }
            guard requisition.scopes.contains(where: { $0.includes(camera: id) && $0.start <= from && $0.end >= to }) else {
                audit(
                    OperatorEvent(
                        who: actor.name, action: .accessRefused, cameraID: id,
                        detail: "\(Permission.export.rawValue): outside requisition \(requisition.number)'s cameras and periods (from \(request.peer))", from: from, to: to,
                        requisition: requisition.number))
                return .error(403, "requisition \(requisition.number) does not cover camera \(id) from \(from) to \(to)")
            }
            cameras.append(inventory.camera(id) ?? Camera.former(id: id))
        }
        let directory: URL
        if let output = body.output {
            guard case .local(let user) = request.peer else {
                return .error(400, "`output` is a folder on the recorder's machine: only local clients name one (over the network, leave it out)")
            }
            guard output.hasPrefix("/"), !output.split(separator: "/").contains(".."), TerminalText.firstProblem(in: output) == nil else {
                return .error(400, "`output` must be an absolute path without `..`")
            }
            // The recorder writes there as its own Unix user: only for that same user (no one may have it write elsewhere).
            guard user == ServerAPI.recorderUnixUser else {
                return .error(
                    403, "the recorder runs as \(ServerAPI.recorderUnixUser), not as \(user): the export goes to the recorder's storage (leave `output` out) and is copied from there")
            }
            directory = URL(fileURLWithPath: output)
        } else {
            let stamp = Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: false).timeSeparator(.omitted).dateSeparator(.omitted))
            let safe = requisition.number.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" }
            directory = store.root.appendingPathComponent("exports").appendingPathComponent("\(String(safe))_\(stamp)_\(UUID().uuidString.prefix(8).lowercased())")
        }
        let identity: EvidenceIdentity
        do {
            identity = try EvidenceIdentity.loadOrCreate(storage: store.root, siteName: inventory.site.name)
        } catch {
            return .error(503, "the recorder cannot sign exports: \(error)")
        }
        if identity.created {
            audit(OperatorEvent(who: actor.name, action: .evidenceKeyCreated, detail: "evidence-signing certificate made: SHA-256 \(identity.fingerprint)"))
        }
        let id = UUID().uuidString.lowercased()
        let began = Date()
        var status = ExportStatus(
            id: id, requisition: requisition.number, state: "running", directory: directory.path, cameras: cameras.map(\.id), camerasDone: 0, files: 0,
            bytes: 0, manifestSHA256: nil, certificateSHA256: identity.fingerprint, error: nil, seconds: 0)
        exports.withLock { $0[id] = status }
        exportOwners.withLock { $0[id] = actor.name }
        // The chain's head at export time: the entry saying the export begins.
        let started = OperatorEvent(
            who: actor.name, action: .exported, detail: "started: cameras \(cameras.map(\.id).joined(separator: ",")) to \(directory.path) for \(body.recipient)",
            from: from, to: to, requisition: requisition.number)
        let head: ExportManifest.Head
        do {
            let entry = try store.audit.append(started)
            head = .init(sequence: entry.sequence, hash: entry.hash)
        } catch {
            exports.withLock { $0[id] = nil }
            return .error(503, "the audit log cannot be written: no export without it (\(error))")
        }
        let exportRequest = EvidenceExporter.Request(
            requisition: requisition, cameras: cameras, from: from, to: to, technician: actor.name, recipient: body.recipient, medium: body.medium)
        let thread = Thread { [self] in
            do {
                let manifest = try EvidenceExporter.export(
                    exportRequest, store: store, site: inventory.site, identity: identity, auditHead: head, into: directory,
                    cameraDone: { _ in self.exports.withLock { $0[id]?.camerasDone += 1 } }, stop: { self.stopping.load(ordering: .relaxed) })
                let manifestData = (try? Data(contentsOf: directory.appendingPathComponent(ExportManifest.jsonName))) ?? Data()
                let manifestSHA = SHA256.hash(data: manifestData).map { String(format: "%02x", $0) }.joined()
                let bytes = manifest.files.reduce(Int64(0)) { $0 + $1.bytes }
                _ = try store.catalog.addTransmission(
                    Transmission(
                        requisition: requisition.number, at: manifest.exportedAt, by: actor.name, recipient: body.recipient, medium: body.medium,
                        cameras: exportRequest.cameras.map(\.id), start: from, end: to, files: manifest.files.count, bytes: bytes, manifestSHA256: manifestSHA))
                if requisition.status == .open { _ = try store.catalog.setRequisitionStatus(number: requisition.number, .delivered, by: actor.name, at: Date()) }
                audit(
                    OperatorEvent(
                        who: actor.name, action: .exported,
                        detail: "\(manifest.files.count) file(s), \(bytes) bytes, manifest SHA-256 \(manifestSHA), for \(body.recipient) on \(body.medium)",
                        from: from, to: to, requisition: requisition.number))
                exports.withLock {
                    $0[id]?.state = "done"
                    $0[id]?.files = manifest.files.count
                    $0[id]?.bytes = bytes
                    $0[id]?.manifestSHA256 = manifestSHA
                    $0[id]?.seconds = Date().timeIntervalSince(began)
                }
            } catch {
                Logger(label: "vigie.export").error("export \(id) of requisition \(requisition.number) failed: \(error)")
                audit(OperatorEvent(who: actor.name, action: .exported, detail: "failed: \(error)", from: from, to: to, requisition: requisition.number))
                exports.withLock {
                    $0[id]?.state = "failed"
                    $0[id]?.error = "\(error)"
                    $0[id]?.seconds = Date().timeIntervalSince(began)
                }
            }
        }
        thread.name = "export \(requisition.number)"
        thread.start()
        status.seconds = 0
        return .json(status, status: 202)
    }

    func exportStatus(_ request: APIRequest, _ actor: Actor, id: String) throws -> APIReply {
        if let refused = try refuse(actor, .export, request) { return refused }
        // Only its maker follows it (the recorder's single user, too).
        guard let status = exports.withLock({ $0[id] }), exportOwners.withLock({ $0[id] }) == actor.name else {
            return .error(404, "no export \(id) of yours since the recorder started")
        }
        return .json(status)
    }

    /// A finished export of the asker's own: its folder.
    private func finishedExport(_ request: APIRequest, _ actor: Actor, id: String) throws -> Result<URL, Refusal> {
        if let refused = try refuse(actor, .export, request) { return .failure(Refusal(reply: refused)) }
        guard let status = exports.withLock({ $0[id] }), exportOwners.withLock({ $0[id] }) == actor.name else {
            return .failure(Refusal(reply: .error(404, "no export \(id) of yours since the recorder started")))
        }
        guard status.state == "done" else { return .failure(Refusal(reply: .error(409, "export \(id) is \(status.state)"))) }
        return .success(URL(fileURLWithPath: status.directory))
    }

    /// GET /v1/exports/{id}/files: the export's files and sizes (a client copies them from there).
    func exportFiles(_ request: APIRequest, _ actor: Actor, id: String) throws -> APIReply {
        let directory: URL
        switch try finishedExport(request, actor, id: id) {
        case .success(let found): directory = found
        case .failure(let refusal): return refusal.reply
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
        let files = names.map { name -> [String: String] in
            let size = (try? FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent(name).path))?[.size] as? Int64 ?? 0
            return ["name": name, "bytes": "\(size)"]
        }
        let requisition = exports.withLock { $0[id]?.requisition }
        audit(
            OperatorEvent(who: actor.name, action: .exported, detail: "copied by the client at \(request.peer) (\(files.count) files)", requisition: requisition))
        return .json(files)
    }

    /// GET /v1/exports/{id}/files/{name}?offset=N: up to 8 MiB of one file from `offset`.
    func exportFile(_ request: APIRequest, _ actor: Actor, id: String, name: String) throws -> APIReply {
        let directory: URL
        switch try finishedExport(request, actor, id: id) {
        case .success(let found): directory = found
        case .failure(let refusal): return refusal.reply
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        guard names.contains(name), !name.contains("/") else { return .error(404, "no file \(name) in export \(id)") }
        let offset = UInt64(request.query["offset"] ?? "0") ?? 0
        guard let handle = FileHandle(forReadingAtPath: directory.appendingPathComponent(name).path) else { return .error(404, "no file \(name) in export \(id)") }
        defer { try? handle.close() }
        try handle.seek(toOffset: offset)
        let data = try handle.read(upToCount: ServerAPI.exportChunk) ?? Data()
        return APIReply(status: 200, contentType: "application/octet-stream", body: [UInt8](data))
    }

    static let exportChunk = 8 << 20
}
