public import Foundation
public import Media

/// A camera's timeline around a time: what is recorded, and what is held.
public struct RecordedSpans: Sendable {
    public var camera: String
    public var from: Date
    public var to: Date
    public var recorded: [(Date, Date)]
    public var held: [(Date, Date)]

    public init(camera: String, from: Date, to: Date, recorded: [(Date, Date)], held: [(Date, Date)]) {
        self.camera = camera
        self.from = from
        self.to = to
        self.recorded = recorded
        self.held = held
    }
}

/// A requisition as a console offers it: its footage to open (playback under it).
public struct RequisitionChoice: Sendable, Hashable {
    public var number: String
    public var authority: String
    public var status: String
    /// Camera ids; empty: every camera of the site.
    public var cameras: [String]
    public var from: Date
    public var to: Date
    /// Where its footage is opened: the first kept inside it (else its start).
    public var opensAt: Date

    public init(number: String, authority: String, status: String, cameras: [String], from: Date, to: Date, opensAt: Date? = nil) {
        self.number = number
        self.authority = authority
        self.status = status
        self.cameras = cameras
        self.from = from
        self.to = to
        self.opensAt = opensAt ?? from
    }

    public init(_ requisition: Requisition) {
        self.init(
            number: requisition.number, authority: requisition.authority, status: requisition.status.rawValue, cameras: requisition.cameras,
            from: requisition.scopes.map(\.start).min() ?? requisition.received, to: requisition.scopes.map(\.end).max() ?? requisition.received)
    }
}

/// The recordings as a console sees them: the site's own storage (the embedded core) or
/// the recorder over the network. The console calls these from a background thread, never
/// from the one that draws.
public protocol ConsoleRecordings: Sendable {
    /// A camera's recorded packets, for a player: consulted under `requisition` (nil: whichever
    /// open one covers the footage), else outside any with `reason` if the site allows it.
    func packets(camera: String, reason: String?, requisition: String?) -> any RecordedPackets
    /// Whether the console writes the playback's audit entries itself (false: the recorder does).
    var consoleAuditsPlayback: Bool { get }
    /// The recorded and held spans of a camera between two times.
    func spans(camera: String, from: Date, to: Date) throws -> RecordedSpans
    /// Of `cameras`, those with footage written after `since`.
    func recording(_ cameras: [String], since: Date) throws -> Set<String>
    /// The requisitions still open to consultation, oldest first.
    func requisitions() throws -> [RequisitionChoice]
}

/// The recordings in this machine's storage, read directly, under the site's rule
/// (`ConsultedPackets` decides and audits as the recorder would).
public struct LocalRecordings: ConsoleRecordings {
    public let store: RecordingStore
    let site: Site
    let who: String
    let audit: any AuditSink

    public init(store: RecordingStore, site: Site, who: String, audit: any AuditSink) {
        self.store = store
        self.site = site
        self.who = who
        self.audit = audit
    }

    public func packets(camera: String, reason: String?, requisition: String?) -> any RecordedPackets {
        ConsultedPackets(inner: SegmentPackets(store: store, camera: camera), store: store, site: site, who: who, reason: reason, requisition: requisition, audit: audit)
    }
    public var consoleAuditsPlayback: Bool { false }

    public func spans(camera: String, from: Date, to: Date) throws -> RecordedSpans {
        let segments = try store.catalog.segments(camera: camera, from: from, to: to)
        let holds = try store.catalog.holds(includeReleased: false).filter { $0.cameras.isEmpty || $0.cameras.contains(camera) }
        return RecordedSpans(camera: camera, from: from, to: to, recorded: segments.map { ($0.start, $0.end) }, held: holds.map { ($0.start, $0.end) })
    }

    public func requisitions() throws -> [RequisitionChoice] {
        try store.catalog.requisitions().filter { $0.status.allowsConsultation }.map { requisition in
            var choice = RequisitionChoice(requisition)
            if let first = try requisition.firstFootage(in: store.catalog, cameras: try store.catalog.usage().map(\.camera)) { choice.opensAt = first }
            return choice
        }
    }

    public func recording(_ cameras: [String], since: Date) throws -> Set<String> {
        var marks: Set<String> = []
        for camera in cameras {
            if let last = try store.catalog.segment(camera: camera, before: .distantFuture), last.end > since { marks.insert(camera) }
        }
        return marks
    }
}

/// Recorded packets read on this machine under the site's consultation rule (the embedded
/// console, a local `vigie play`), as the recorder does for its remote consoles: each
/// positioning is decided by `ConsultationRule` (an open requisition covering the camera and
/// time, else the typed reason if the site allows it), and audited with the requisition; the
/// packets end where the requisition's period does; when done, the period read is audited.
public final class ConsultedPackets: RecordedPackets, @unchecked Sendable {  // used by one thread (a player's), like the packets it wraps
    public let camera: String
    private let inner: any RecordedPackets
    private let store: RecordingStore
    private let site: Site
    private let who: String
    private let reason: String?
    private let asked: String?
    private let audit: any AuditSink
    private var stream: RecordedStream?
    private var until: Date?
    private var requisition: String?
    private var period: (from: Date, to: Date)?
    private var opened = false

    public init(inner: any RecordedPackets, store: RecordingStore, site: Site, who: String, reason: String?, requisition: String?, audit: any AuditSink) {
        camera = inner.camera
        self.inner = inner
        self.store = store
        self.site = site
        self.who = who
        self.reason = reason.flatMap { $0.isEmpty ? nil : $0 }
        self.asked = requisition.flatMap { $0.isEmpty ? nil : $0 }
        self.audit = audit
    }

    public func position(at target: Date) throws(MediaError) -> RecordedStream? {
        finish()
        let requisitions: [Requisition]
        do {
            requisitions = try store.catalog.requisitions()
        } catch {
            throw MediaError(kind: .io, operation: "catalog", source: camera, message: error.description)
        }
        switch ConsultationRule.decide(camera: camera, at: target, asked: asked, reason: reason, requisitions: requisitions, site: site) {
        case .refused(let why):
            audit.record(
                OperatorEvent(
                    who: who, action: .accessRefused, cameraID: camera, detail: "\(Permission.playback.rawValue): \(why) (local)", from: target,
                    reason: reason, requisition: asked))
            throw MediaError(kind: .invalidArgument, operation: "play", source: camera, message: "refused: \(why)")
        case .requisition(let number, let end):
            requisition = number
            until = end
        case .outsideRequisition:
            requisition = nil
            until = nil
        }
        opened = true
        audit.record(
            OperatorEvent(
                who: who, action: .playback, cameraID: camera, detail: requisition == nil ? "opened (outside any requisition)" : "opened", from: target,
                reason: reason, requisition: requisition))
        stream = try inner.position(at: target)
        return stream
    }

    public func read() throws(MediaError) -> RecordedItem? {
        guard let item = try inner.read() else { return nil }
        switch item {
        case .stream(let next):
            stream = next
        case .packet(let packet):
            if let stream, let pts = packet.pts {
                let time = stream.origin.addingTimeInterval(stream.info.timeBase.seconds(pts))
                if let until, time >= until { return nil }  // the end of the requisition's period
                period = (period?.from ?? time, time)
            }
        }
        return item
    }

    public func hasFootage(after time: Date) -> Bool {
        if let until, time.addingTimeInterval(0.1) >= until { return false }
        return inner.hasFootage(after: time)
    }

    public func cancel() { inner.cancel() }

    /// The period read since the last positioning, to the audit log.
    private func finish() {
        guard opened else { return }
        opened = false
        audit.record(
            OperatorEvent(
                who: who, action: .playback, cameraID: camera, detail: requisition == nil ? "read (outside any requisition)" : "read",
                from: period?.from, to: period?.to, reason: reason, requisition: requisition))
        period = nil
    }

    deinit { finish() }
}
