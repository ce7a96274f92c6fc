import Foundation
import RecorderAPI
import RecorderCore

/// Requisitions through the server: entered (and held at once) and closed by technicians and
/// supervisors, their holds released only on a supervisor's confirmation, read by auditors.
extension ServerAPI {
    func requisitionRoute(_ request: APIRequest, _ actor: Actor, _ path: [String]) throws -> APIReply {
        let number = path.count >= 3 ? path[2].removingPercentEncoding ?? path[2] : nil
        switch (request.method, path.count, path.count == 4 ? path[3] : "") {
        case ("GET", 2, _):
            if let refused = try refuse(actor, .readRequisitions, request) { return refused }
            return .json(try store.catalog.requisitions().map(info))
        case ("POST", 2, _):
            return try addRequisition(request, actor)
        case ("GET", 3, _):
            if let refused = try refuse(actor, .readRequisitions, request) { return refused }
            guard let number, let found = try store.catalog.requisition(number: number) else { return .error(404, "no requisition \(number ?? "")") }
            return .json(try info(found))
        case ("POST", 4, "extend"):
            return try extendRequisition(request, actor, number: number ?? "")
        case ("POST", 4, "close"):
            return try closeRequisition(request, actor, number: number ?? "")
        case ("POST", 4, "release"):
            return try releaseRequisition(request, actor, number: number ?? "")
        case (_, 2, _), (_, 3, _), (_, 4, "extend"), (_, 4, "close"), (_, 4, "release"):
            return .error(405, "\(request.method) is not a method of \(request.path) (see docs/protocol.yaml)")
        default:
            return .error(404, "no such resource: \(request.method) \(request.path) (see docs/protocol.yaml)")
        }
    }

    func info(_ requisition: Requisition) throws -> RequisitionInfo {
        let holds = try store.catalog.holds(includeReleased: false).filter { $0.requisition == requisition.number }.map(\.id)
        let transmissions = try store.catalog.transmissions(requisition: requisition.number).map(ServerAPI.info)
        return RequisitionInfo(
            number: requisition.number, authority: requisition.authority, basis: requisition.basis.rawValue, received: requisition.received,
            deadline: requisition.deadline, scopes: requisition.scopes.map { ScopeInfo(cameras: $0.cameras, from: $0.start, to: $0.end) },
            status: requisition.status.rawValue, createdBy: requisition.createdBy, createdAt: requisition.createdAt, closedBy: requisition.closedBy,
            closedAt: requisition.closedAt, holdsReleasedBy: requisition.holdsReleasedBy, holdsReleasedAt: requisition.holdsReleasedAt, holds: holds,
            transmissions: transmissions, firstFootage: try requisition.firstFootage(in: store.catalog, cameras: inventory.cameras.map(\.id)))
    }

    static func info(_ transmission: Transmission) -> TransmissionInfo {
        TransmissionInfo(
            requisition: transmission.requisition, at: transmission.at, by: transmission.by, recipient: transmission.recipient, medium: transmission.medium,
            cameras: transmission.cameras, from: transmission.start, to: transmission.end, files: transmission.files, bytes: transmission.bytes,
            manifestSHA256: transmission.manifestSHA256)
    }

    /// A field typed by a person: printable, not empty, at most `limit` characters.
    static func textProblem(_ field: String, _ text: String, limit: Int = 1000) -> String? {
        if text.trimmingCharacters(in: .whitespaces).isEmpty { return "`\(field)` must not be empty" }
        if let (position, problem) = TerminalText.firstProblem(in: text) { return "`\(field)` contains \(problem) at character \(position)" }
        if text.count > limit { return "`\(field)` is longer than \(limit) characters" }
        return nil
    }

    /// Camera ids or numbers as the site (or footage still kept) knows them; empty: all.
    func cameraIDs(_ given: [String]) throws -> Result<[String], Refusal> {
        var ids: [String] = []
        let recorded = given.contains { inventory.camera($0) == nil } ? Set(try store.catalog.usage().map(\.camera)) : []
        for name in given {
            if let camera = inventory.camera(name) {
                if !ids.contains(camera.id) { ids.append(camera.id) }
            } else if recorded.contains(name) {
                ids.append(name)
            } else {
                return .failure(Refusal(reply: .error(404, "no camera `\(name)` in the site nor in the recordings")))
            }
        }
        return .success(ids)
    }

    private func addRequisition(_ request: APIRequest, _ actor: Actor) throws -> APIReply {
        if let refused = try refuse(actor, .requisitions, request) { return refused }
        guard let body = try? API.decode(RequisitionRequest.self, from: request.body) else {
            return .error(
                400,
                "a requisition is {\"number\", \"authority\", \"basis\": \"60-1|77-1-1|99-3\", \"cameras\": [ids], \"from\", \"to\", \"received\"?, \"deadline\"?} with ISO 8601 times")
        }
        if let problem = Requisition.problem(number: body.number) { return .error(400, problem) }
        if let problem = ServerAPI.textProblem("authority", body.authority) { return .error(400, problem) }
        guard let basis = LegalBasis(rawValue: body.basis) else {
            return .error(400, "`basis` is the article of the code of criminal procedure: 60-1, 77-1-1 or 99-3, not `\(body.basis)`")
        }
        guard body.to > body.from else { return .error(400, "`to` must be after `from`") }
        let now = Date()
        if let deadline = body.deadline, deadline < (body.received ?? now) { return .error(400, "`deadline` must be after the requisition was received") }
        let ids: [String]
        switch try cameraIDs(body.cameras) {
        case .success(let found): ids = found
        case .failure(let refusal): return refusal.reply
        }
        for id in ids.isEmpty ? inventory.cameras.map(\.id) : ids {
            if let refused = try refuse(actor, .playback, request, camera: id) { return refused }
        }
        let requisition = Requisition(
            number: body.number, authority: body.authority, basis: basis, received: body.received ?? now, deadline: body.deadline,
            scopes: [RequisitionScope(cameras: ids, start: body.from, end: body.to)], createdBy: actor.name, createdAt: now)
        // (The catalog refuses a duplicate in its transaction too: two entered at once.)
        if try store.catalog.requisition(number: body.number) != nil { return .error(409, "there is already a requisition \(body.number)") }
        let (stored, holds) = try store.catalog.addRequisition(requisition, holdReason: "requisition \(body.number) (\(basis.summary)) from \(body.authority)")
        audit(
            OperatorEvent(
                who: actor.name, action: .requisitionAdded, cameraID: ids.count == 1 ? ids[0] : nil,
                detail: "\(basis.summary), from \(body.authority), cameras \(ids.isEmpty ? "all" : ids.joined(separator: ","))",
                from: body.from, to: body.to, requisition: body.number))
        for hold in holds {
            audit(
                OperatorEvent(
                    who: actor.name, action: .holdAdded, cameraID: hold.cameras.count == 1 ? hold.cameras[0] : nil,
                    detail: "hold \(hold.id) \(hold.reference) cameras \(hold.cameras.isEmpty ? "all" : hold.cameras.joined(separator: ","))",
                    from: hold.start, to: hold.end, reason: hold.reason, requisition: body.number))
        }
        return .json(try info(stored), status: 201)
    }

    private func extendRequisition(_ request: APIRequest, _ actor: Actor, number: String) throws -> APIReply {
        if let refused = try refuse(actor, .requisitions, request) { return refused }
        guard let body = try? API.decode(ScopeInfo.self, from: request.body) else {
            return .error(400, "a scope is {\"cameras\": [ids], \"from\", \"to\"} with ISO 8601 times")
        }
        guard body.to > body.from else { return .error(400, "`to` must be after `from`") }
        let ids: [String]
        switch try cameraIDs(body.cameras) {
        case .success(let found): ids = found
        case .failure(let refusal): return refusal.reply
        }
        for id in ids.isEmpty ? inventory.cameras.map(\.id) : ids {
            if let refused = try refuse(actor, .playback, request, camera: id) { return refused }
        }
        guard let existing = try store.catalog.requisition(number: number) else { return .error(404, "no requisition \(number)") }
        guard existing.status != .closed else { return .error(409, "requisition \(number) is closed") }
        let now = Date()
        guard let (extended, hold) = try store.catalog.extendRequisition(
            number: number, scope: RequisitionScope(cameras: ids, start: body.from, end: body.to), by: actor.name, at: now,
            holdReason: "requisition \(number) (\(existing.basis.summary)) from \(existing.authority)")
        else { return .error(409, "requisition \(number) is closed") }
        audit(
            OperatorEvent(
                who: actor.name, action: .requisitionExtended, detail: "cameras \(ids.isEmpty ? "all" : ids.joined(separator: ",")); hold \(hold.id)",
                from: body.from, to: body.to, requisition: number))
        return .json(try info(extended))
    }

    private func closeRequisition(_ request: APIRequest, _ actor: Actor, number: String) throws -> APIReply {
        if let refused = try refuse(actor, .requisitions, request) { return refused }
        guard let body = try? API.decode(CloseRequest.self, from: request.body) else {
            return .error(400, "a closing is {\"reason\": TEXT, \"release\": true|false}")
        }
        if let problem = ServerAPI.textProblem("reason", body.reason) { return .error(400, problem) }
        if body.release, let refused = try refuse(actor, .releaseRequisition, request) { return refused }
        guard let existing = try store.catalog.requisition(number: number) else { return .error(404, "no requisition \(number)") }
        if let refused = try refuseCameras(of: existing, actor, request) { return refused }
        guard existing.status != .closed else { return .error(409, "requisition \(number) is already closed") }
        guard var closed = try store.catalog.setRequisitionStatus(number: number, .closed, by: actor.name, at: Date()) else {
            return .error(404, "no requisition \(number)")
        }
        audit(
            OperatorEvent(
                who: actor.name, action: .requisitionClosed,
                detail: body.release ? "holds released with it" : "holds kept until a supervisor releases them", reason: body.reason, requisition: number))
        if body.release {
            try release(number, actor, reason: body.reason)
            closed = try store.catalog.requisition(number: number) ?? closed
        }
        return .json(try info(closed))
    }

    private func releaseRequisition(_ request: APIRequest, _ actor: Actor, number: String) throws -> APIReply {
        if let refused = try refuse(actor, .releaseRequisition, request) { return refused }
        guard let body = try? API.decode(ReleaseRequest.self, from: request.body) else { return .error(400, "a release is {\"reason\": TEXT}") }
        if let problem = ServerAPI.textProblem("reason", body.reason) { return .error(400, problem) }
        guard let existing = try store.catalog.requisition(number: number) else { return .error(404, "no requisition \(number)") }
        if let refused = try refuseCameras(of: existing, actor, request) { return refused }
        guard existing.status == .closed else {
            return .error(409, "requisition \(number) is \(existing.status.rawValue): close it first (its footage stays held while it is open)")
        }
        try release(number, actor, reason: body.reason)
        return .json(try info(try store.catalog.requisition(number: number) ?? existing))
    }

    /// A 403 when the account may not touch the footage of every camera the requisition names.
    private func refuseCameras(of requisition: Requisition, _ actor: Actor, _ request: APIRequest) throws -> APIReply? {
        for camera in requisition.cameras.isEmpty ? inventory.cameras.map(\.id) : requisition.cameras {
            if let refused = try refuse(actor, .holds, request, camera: camera) { return refused }
        }
        return nil
    }

    private func release(_ number: String, _ actor: Actor, reason: String) throws {
        for hold in try store.catalog.releaseRequisitionHolds(number: number, by: actor.name, at: Date()) {
            audit(
                OperatorEvent(
                    who: actor.name, action: .holdReleased, detail: "hold \(hold.id) \(hold.reference)", from: hold.start, to: hold.end, reason: reason,
                    requisition: number))
        }
    }
}
