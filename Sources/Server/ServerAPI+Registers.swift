import Evidence
import Foundation
import RecorderAPI
import RecorderCore

/// The register (CSI R252-11) and the compliance report, for supervisors and auditors: no
/// images, only what was recorded, destroyed, held, exported, who may log in and whether
/// the audit chain is whole.
extension ServerAPI {
    func register(_ request: APIRequest, _ actor: Actor) throws -> APIReply {
        if let refused = try refuse(actor, .registers, request) { return refused }
        let now = Date()
        let to = request.query["to"].flatMap(ServerAPI.time) ?? now
        let from = request.query["from"].flatMap(ServerAPI.time) ?? to.addingTimeInterval(-31 * 86_400)
        guard to > from else { return .error(400, "`from` must be before `to` (ISO 8601 times)") }
        let names = Dictionary(inventory.cameras.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        var recordings: [RegisterInfo.Recording] = []
        let destroyed = try store.catalog.destructionGroups(from: from, to: now)
        var ids = inventory.cameras.map(\.id)
        for camera in try store.catalog.usage().map(\.camera) + destroyed.map(\.camera) where !ids.contains(camera) { ids.append(camera) }
        for camera in ids {
            // Kept: the span in storage, cut by its gaps.
            if let kept = try store.catalog.recordedSummary(camera: camera, from: from, to: to) {
                var start = max(kept.start, from)
                let end = min(kept.end, to)
                for gap in try store.catalog.gaps(camera: camera, from: start, to: end) where gap.end > start {
                    if gap.start > start {
                        recordings.append(.init(camera: camera, name: names[camera] ?? camera, from: start, to: gap.start, state: "kept", segments: 0, bytes: 0))
                    }
                    start = max(start, gap.end)
                }
                if end > start { recordings.append(.init(camera: camera, name: names[camera] ?? camera, from: start, to: end, state: "kept", segments: 0, bytes: 0)) }
                // The totals on the camera's first kept line.
                if let index = recordings.firstIndex(where: { $0.camera == camera && $0.state == "kept" }) {
                    recordings[index].segments = kept.segments
                    recordings[index].bytes = kept.bytes
                }
            }
            for group in destroyed where group.camera == camera && group.end > from && group.start < to {
                recordings.append(
                    .init(camera: camera, name: names[camera] ?? camera, from: group.start, to: group.end, state: "destroyed", segments: group.segments, bytes: group.bytes))
            }
        }
        recordings.sort { ($0.camera, $0.from) < ($1.camera, $1.from) }
        let destructions = destroyed.filter { $0.destroyedAt >= from && $0.destroyedAt < to }.map {
            RegisterInfo.Destruction(camera: $0.camera, destroyedAt: $0.destroyedAt, from: $0.start, to: $0.end, segments: $0.segments, bytes: $0.bytes, reason: $0.reason)
        }
        let transmissions = try store.catalog.transmissions(requisition: nil).filter { $0.at >= from && $0.at < to }.map(ServerAPI.info)
        audit(OperatorEvent(who: actor.name, action: .reportMade, detail: "register (from \(request.peer))", from: from, to: to))
        return .json(
            RegisterInfo(
                site: inventory.site.name, timeZone: inventory.site.timeZone.identifier, from: from, to: to, generatedAt: now, generatedBy: actor.name,
                recordings: recordings, destructions: destructions, transmissions: transmissions))
    }

    func compliance(_ request: APIRequest, _ actor: Actor) throws -> APIReply {
        if let refused = try refuse(actor, .registers, request) { return refused }
        let now = Date()
        let holds = try store.catalog.holds(includeReleased: false)
        let requisitions = try store.catalog.requisitions()
        let usage = Dictionary(try store.catalog.usage().map { ($0.camera, $0) }, uniquingKeysWith: { first, _ in first })
        var cameras: [ComplianceInfo.CameraRetention] = []
        for camera in inventory.cameras {
            let days = inventory.retentionDays(camera: camera.id)
            let oldest = try store.catalog.segment(camera: camera.id, containingOrAfter: .distantPast)?.start ?? usage[camera.id]?.oldest
            let age = oldest.map { now.timeIntervalSince($0) / 86_400 }
            var status = "none"
            if let oldest, let age {
                // A day's grace: retention runs every few seconds, footage older than its days plus one is a breach unless held.
                if age <= Double(days) + 1 {
                    status = "ok"
                } else {
                    status = holds.contains { $0.covers(camera: camera.id, from: oldest, to: oldest.addingTimeInterval(1)) } ? "held" : "over"
                }
            }
            cameras.append(.init(camera: camera.id, name: camera.name, retentionDays: days, oldest: oldest, oldestAgeDays: age, status: status))
        }
        let holdLines = holds.map { hold in
            ComplianceInfo.HoldLine(
                id: hold.id, reference: hold.reference, cameras: hold.cameras, from: hold.start, to: hold.end, createdBy: hold.createdBy,
                createdAt: hold.createdAt, ageDays: now.timeIntervalSince(hold.createdAt) / 86_400,
                requisition: hold.requisition.flatMap { number in requisitions.first { $0.number == number }?.status.rawValue } ?? "none")
        }
        let accounts = try store.catalog.accounts()
        let since = now.addingTimeInterval(-30 * 86_400)
        var failed: [String: (Int, Date)] = [:]
        for entry in try store.catalog.auditEntries(camera: nil, since: since, who: nil) where entry.event.action == .loginFailed {
            let previous = failed[entry.event.who] ?? (0, entry.event.when)
            failed[entry.event.who] = (previous.0 + 1, max(previous.1, entry.event.when))
        }
        let verification = try store.audit.verify()
        let evidence = try? EvidenceIdentity.load(
            keyPath: EvidenceIdentity.paths(storage: store.root).key, certificatePath: EvidenceIdentity.paths(storage: store.root).certificate)
        let info = ComplianceInfo(
            site: inventory.site.name, timeZone: inventory.site.timeZone.identifier, mode: inventory.site.mode.rawValue, generatedAt: now, generatedBy: actor.name,
            singleUser: accounts.isEmpty, authorisedRetentionDays: inventory.site.authorisedRetentionDays,
            outsideRequisition: inventory.site.consultationOutsideRequisition.rawValue, cameras: cameras, holds: holdLines,
            requisitions: try requisitions.map(info),
            accounts: accounts.map {
                .init(
                    name: $0.name, role: $0.role.rawValue, cameras: $0.cameras, unixUser: $0.unixUser, createdBy: $0.createdBy, createdAt: $0.createdAt,
                    expires: $0.expires, disabledAt: $0.disabledAt, lastLogin: $0.lastLogin)
            },
            failedLogins: failed.map { .init(who: $0.key, count: $0.value.0, last: $0.value.1) }.sorted { $0.count > $1.count },
            failedLoginsSince: since,
            audit: .init(
                entries: verification.entries, valid: verification.problems.isEmpty, problems: verification.problems.prefix(20).map(\.description),
                notes: verification.notes, signedBy: verification.signedBy.sorted(), headSequence: verification.head?.sequence, headHash: verification.head?.hash),
            evidenceCertificateSHA256: evidence?.fingerprint)
        audit(OperatorEvent(who: actor.name, action: .reportMade, detail: "compliance report (from \(request.peer))"))
        return .json(info)
    }
}
