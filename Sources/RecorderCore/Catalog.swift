public import Foundation

/// Where a keyframe is in a segment: seconds from the segment's start and the byte offset
/// its container packets start at. Playback seeks there, then decodes forward.
public struct KeyframeMark: Sendable, Hashable {
    public let offset: Double
    public let byte: Int64
    public init(offset: Double, byte: Int64) {
        self.offset = offset
        self.byte = byte
    }
}

public enum SegmentState: String, Sendable {
    /// Being written by the recorder.
    case open
    /// Closed by the recorder: its end, size and hash are final.
    case closed
    /// Closed after a crash by recovery, from what the file held.
    case recovered
    /// Indexed from its file when a damaged catalog was rebuilt: its hash was taken then,
    /// not when it was recorded (nil until the background indexing reaches it).
    case rebuilt
}

/// Whether a process opens the catalog to change it or only to read it.
public enum CatalogAccess: Sendable {
    /// The recorder and the commands that add holds or audit entries.
    case readWrite
    /// Listing, verifying, auditing: works on a full disk and on read-only media.
    case readOnly
}

/// One segment file of a camera: about a minute of one of its streams, stream-copied.
public struct SegmentRecord: Sendable, Hashable {
    public var id: Int64
    public var camera: String
    /// The main stream (playback, exports) or the sub stream (the wall's relay, analysis).
    public var stream: StreamChoice
    /// Relative to the storage folder: CAMERA/YYYY-MM-DD/HHMMSS.ts (UTC).
    public var path: String
    public var start: Date
    public var end: Date
    public var bytes: Int64
    /// Hex SHA-256 of the file, once closed.
    public var sha256: String?
    public var keyframes: [KeyframeMark]
    public var state: SegmentState
    /// Recorder clock minus stream clock at the segment's end, in seconds (camera drift, jumps).
    public var skew: Double
    public var duration: Double { end.timeIntervalSince(start) }

    public init(
        id: Int64 = 0, camera: String, path: String, start: Date, end: Date, bytes: Int64 = 0, sha256: String? = nil,
        keyframes: [KeyframeMark] = [], state: SegmentState = .open, skew: Double = 0, stream: StreamChoice = .main
    ) {
        self.id = id
        self.camera = camera
        self.stream = stream
        self.path = path
        self.start = start
        self.end = end
        self.bytes = bytes
        self.sha256 = sha256
        self.keyframes = keyframes
        self.state = state
        self.skew = skew
    }
}

/// A time a camera was not recorded (signal lost, recorder stopped), a row of its own.
public struct GapRecord: Sendable, Hashable {
    public var camera: String
    public var start: Date
    public var end: Date
    public var reason: String
    public var stream: StreamChoice
    public init(camera: String, start: Date, end: Date, reason: String, stream: StreamChoice = .main) {
        self.stream = stream
        self.camera = camera
        self.start = start
        self.end = end
        self.reason = reason
    }
}

/// A judicial hold: footage of these cameras in this period is never destroyed until the
/// hold is released. `reference` is the requisition's number.
public struct Hold: Sendable, Hashable {
    public var id: Int64
    public var reference: String
    /// Camera ids; empty means every camera of the site.
    public var cameras: [String]
    public var start: Date
    public var end: Date
    public var reason: String
    public var createdBy: String
    public var createdAt: Date
    public var releasedBy: String?
    public var releasedAt: Date?
    /// The requisition that holds it (its number), when a requisition made it: released only with it.
    public var requisition: String?

    public init(
        id: Int64 = 0, reference: String, cameras: [String], start: Date, end: Date, reason: String, createdBy: String,
        createdAt: Date, releasedBy: String? = nil, releasedAt: Date? = nil, requisition: String? = nil
    ) {
        self.requisition = requisition
        self.id = id
        self.reference = reference
        self.cameras = cameras
        self.start = start
        self.end = end
        self.reason = reason
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.releasedBy = releasedBy
        self.releasedAt = releasedAt
    }

    public var isActive: Bool { releasedAt == nil }

    /// Whether the hold covers any part of `camera`'s footage from `from` to `to`.
    public func covers(camera: String, from: Date, to: Date) -> Bool {
        isActive && (cameras.isEmpty || cameras.contains(camera)) && from < end && to > start
    }
}

/// One line of the destruction register: footage destroyed, which, when and why.
public struct Destruction: Sendable, Hashable {
    public var camera: String
    public var start: Date
    public var end: Date
    public var bytes: Int64
    public var path: String
    /// When it was destroyed; nil while the destruction is under way (finished at recovery).
    public var destroyedAt: Date?
    /// "retention 15 days", "storage quota".
    public var reason: String

    public init(camera: String, start: Date, end: Date, bytes: Int64, path: String, destroyedAt: Date?, reason: String) {
        self.camera = camera
        self.start = start
        self.end = end
        self.bytes = bytes
        self.path = path
        self.destroyedAt = destroyedAt
        self.reason = reason
    }
}

/// Per camera: footage kept.
public struct StorageUsage: Sendable, Hashable {
    public var camera: String
    public var bytes: Int64
    public var segments: Int
    public var oldest: Date?
    public var newest: Date?
}

/// The recordings' index and the registers: segments with their keyframes, gaps, holds,
/// the destruction register and the audit chain.
///
/// SQLite is the embedded default (`SQLiteCatalog`); a multi-node site would implement
/// this protocol on PostgreSQL, with recorders sharing one catalog.
public protocol Catalog: AnyObject, Sendable {
    /// Adds a segment being written (state open) and returns its id. The row comes before
    /// the file, so a crash leaves a row to recover, never an unknown file.
    func insertSegment(_ segment: SegmentRecord) throws(CatalogError) -> Int64
    /// Adds many segments in one transaction (a rebuilt catalog, a synthetic one).
    func insertSegments(_ segments: [SegmentRecord]) throws(CatalogError)
    /// Replaces what is known of a segment (progress while open, final values at close).
    func updateSegment(_ segment: SegmentRecord) throws(CatalogError)
    func removeSegment(id: Int64) throws(CatalogError)
    /// Segments of a camera (every camera when nil) and stream (both when nil) that overlap
    /// the period, oldest first.
    func segments(camera: String?, stream: StreamChoice?, from: Date?, to: Date?) throws(CatalogError) -> [SegmentRecord]
    /// The segment of a camera's stream holding `time`, else the first one after it.
    func segment(camera: String, stream: StreamChoice, containingOrAfter time: Date) throws(CatalogError) -> SegmentRecord?
    /// The segment just before `time` (for stepping back across a boundary).
    func segment(camera: String, stream: StreamChoice, before time: Date) throws(CatalogError) -> SegmentRecord?
    func openSegments() throws(CatalogError) -> [SegmentRecord]
    /// The relative paths of a camera's segments, both streams (what recovery and verify compare with the files).
    func segmentPaths(camera: String) throws(CatalogError) -> Set<String>
    func segmentExists(path: String) throws(CatalogError) -> Bool
    /// The oldest closed segments of the site, all cameras, oldest first, after `after` (the
    /// last one of the page before: start and id). Their keyframes are not read.
    func oldestSegments(limit: Int, after: (start: Date, id: Int64)?) throws(CatalogError) -> [SegmentRecord]
    func usage() throws(CatalogError) -> [StorageUsage]
    /// Segments indexed from their files by a rebuild and not yet hashed, oldest first.
    func segmentsToIndex(limit: Int) throws(CatalogError) -> [SegmentRecord]

    /// Adds a gap and returns its id.
    @discardableResult
    func addGap(_ gap: GapRecord) throws(CatalogError) -> Int64
    /// Moves a gap's end (the segment after it starts earlier than first thought).
    func updateGap(id: Int64, end: Date) throws(CatalogError)
    func removeGap(id: Int64) throws(CatalogError)
    func gaps(camera: String, stream: StreamChoice, from: Date, to: Date) throws(CatalogError) -> [GapRecord]
    /// The end of what the catalog says of a camera's stream: its last segment or gap.
    func lastCovered(camera: String, stream: StreamChoice) throws(CatalogError) -> Date?

    func addHold(_ hold: Hold) throws(CatalogError) -> Hold
    func holds(includeReleased: Bool) throws(CatalogError) -> [Hold]
    func releaseHold(id: Int64, by who: String, at time: Date) throws(CatalogError) -> Hold?

    /// Writes a destruction to the register before the file goes; returns its id, or nil when
    /// a hold in force covers the footage or its destruction is already under way (checked in
    /// the same statement: a hold added by another process a moment before is seen).
    /// `segmentID` 0: footage without a row (a rebuild's file not indexed yet).
    func beginDestruction(_ destruction: Destruction, segmentID: Int64) throws(CatalogError) -> Int64?
    /// Removes a destruction begun whose file could not be removed.
    func abortDestruction(id: Int64) throws(CatalogError)
    /// Marks it done and removes the segment's row, in one transaction.
    func completeDestruction(id: Int64, segmentID: Int64, at time: Date) throws(CatalogError)
    /// Destructions begun but not completed (a crash in between), with their segment ids.
    func pendingDestructions() throws(CatalogError) -> [(id: Int64, segmentID: Int64, destruction: Destruction)]
    func destructions(camera: String?, since: Date?) throws(CatalogError) -> [Destruction]

    /// Appends to the audit chain (the entry's hash covers the one before it).
    /// Signed with `signingKey` when given (the recorder's key; nil: unsigned, and `audit verify` says so).
    func appendAudit(_ event: OperatorEvent, signingKey: AuditSigningKey?) throws(CatalogError) -> AuditEntry
    func auditEntries(camera: String?, since: Date?, who: String?) throws(CatalogError) -> [AuditEntry]
    /// The last entry of the chain with this action.
    func lastAuditEntry(action: OperatorEvent.Action) throws(CatalogError) -> AuditEntry?

    /// The site's named accounts, by name.
    func accounts() throws(CatalogError) -> [Account]
    /// Adds an account; an existing name or Unix user is refused (`.conflict`).
    func addAccount(_ account: Account) throws(CatalogError)
    /// Rewrites an existing account (role, cameras, password, expiry, disabling, last login).
    func updateAccount(_ account: Account) throws(CatalogError)

    /// Enters a requisition and holds each of its scopes, in one transaction (`.conflict`
    /// when its number exists); the requisition and its holds.
    func addRequisition(_ requisition: Requisition, holdReason: String) throws(CatalogError) -> (Requisition, [Hold])
    /// Adds a scope to a requisition not closed, held at once; nil when there is none.
    func extendRequisition(number: String, scope: RequisitionScope, by who: String, at time: Date, holdReason: String) throws(CatalogError) -> (Requisition, Hold)?
    func requisitions() throws(CatalogError) -> [Requisition]
    func requisition(number: String) throws(CatalogError) -> Requisition?
    func setRequisitionStatus(number: String, _ status: RequisitionStatus, by who: String, at time: Date) throws(CatalogError) -> Requisition?
    /// Releases the holds of a requisition (a supervisor's confirmation), in one transaction.
    func releaseRequisitionHolds(number: String, by who: String, at time: Date) throws(CatalogError) -> [Hold]
    /// The transmission register: exports handed to a judicial authority.
    func addTransmission(_ transmission: Transmission) throws(CatalogError) -> Transmission
    func transmissions(requisition: String?) throws(CatalogError) -> [Transmission]
    /// The register's figures: a camera's kept footage in a period (nil: none), and the
    /// destructions completed in a period, grouped by camera, day and reason.
    func recordedSummary(camera: String, from: Date, to: Date) throws(CatalogError) -> RecordedSummary?
    func destructionGroups(from: Date, to: Date) throws(CatalogError) -> [DestructionGroup]

    /// The object index of requisitions' analyses (it dies with its segments).
    func analysedSegments(requisition: String) throws(CatalogError) -> Set<Int64>
    func saveAnalysis(requisition: String, segmentID: Int64, passages: [(Passage, [UInt8]?)], at: Date) throws(CatalogError)
    func searchPassages(_ query: PassageQuery) throws(CatalogError) -> [Passage]
    func passages(requisition: String, objectClass: String?, from: Date?, to: Date?) throws(CatalogError) -> [Passage]
    /// The same, only what following compares (camera, times, class, appearance): no colours, box or direction.
    func followingCandidates(requisition: String, from: Date, to: Date) throws(CatalogError) -> [Passage]
    func passage(id: Int64) throws(CatalogError) -> Passage?
    func thumbnail(passage id: Int64) throws(CatalogError) -> [UInt8]?
    func passageCount(requisition: String) throws(CatalogError) -> Int
    /// Drops a requisition's whole index (passages, colours, thumbnails, analysed marks); returns the passages dropped.
    @discardableResult func dropAnalysis(requisition: String) throws(CatalogError) -> Int

    /// Login sessions (the recorder keeps only the SHA-256 of each token).
    func addSession(_ session: LoginSession) throws(CatalogError) -> Int64
    func session(tokenSHA256: String) throws(CatalogError) -> LoginSession?
    func sessions(account: String?) throws(CatalogError) -> [LoginSession]
    /// Ends the account's sessions still valid (one with `id`); returns how many.
    @discardableResult
    func revokeSessions(account: String, id: Int64?, by who: String, at time: Date) throws(CatalogError) -> Int

    // Storage housekeeping: what the engine needs to commit on a full disk and to survive damage.

    /// Room only the catalog may use, in bytes (see `SQLiteCatalog.ensureReserve`).
    func reserveBytes() throws(CatalogError) -> Int64
    @discardableResult
    func ensureReserve(bytes: Int64, logBytes: Int64) throws(CatalogError) -> Int64
    /// Bytes the catalog takes on the storage's disk.
    var fileBytes: Int64 { get }
    /// The engine's own structural check; empty when sound. `stop` ends it early (an error).
    func integrityProblems(limit: Int, stop: @escaping @Sendable () -> Bool) throws(CatalogError) -> [String]
    /// Writes a consistent copy to `destination`.
    func backup(to destination: String) throws(CatalogError)
}

/// What playback, exports, the timeline and the registers read: the main stream.
extension Catalog {
    /// Main-stream segments of a camera (every camera when nil) that overlap the period, oldest first.
    public func segments(camera: String?, from: Date?, to: Date?) throws(CatalogError) -> [SegmentRecord] {
        try segments(camera: camera, stream: .main, from: from, to: to)
    }
    public func segment(camera: String, containingOrAfter time: Date) throws(CatalogError) -> SegmentRecord? {
        try segment(camera: camera, stream: .main, containingOrAfter: time)
    }
    public func segment(camera: String, before time: Date) throws(CatalogError) -> SegmentRecord? {
        try segment(camera: camera, stream: .main, before: time)
    }
    public func gaps(camera: String, from: Date, to: Date) throws(CatalogError) -> [GapRecord] {
        try gaps(camera: camera, stream: .main, from: from, to: to)
    }
    public func lastCovered(camera: String) throws(CatalogError) -> Date? { try lastCovered(camera: camera, stream: .main) }
}

extension Date {
    /// Microseconds since 1970 UTC: how the catalog stores times.
    var micros: Int64 { Int64((timeIntervalSince1970 * 1_000_000).rounded()) }
    init(micros: Int64) { self.init(timeIntervalSince1970: Double(micros) / 1_000_000) }
}

extension Array where Element == KeyframeMark {
    /// Packed as varints of deltas (milliseconds, bytes): about 5 bytes a keyframe.
    var packed: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count * 6)
        var lastMillis: Int64 = 0, lastByte: Int64 = 0
        func varint(_ value: Int64) {
            var zigzag = UInt64(bitPattern: (value << 1) ^ (value >> 63))
            while zigzag >= 0x80 {
                out.append(UInt8(zigzag & 0x7F) | 0x80)
                zigzag >>= 7
            }
            out.append(UInt8(zigzag))
        }
        for mark in self {
            let millis = Int64((mark.offset * 1000).rounded())
            varint(millis - lastMillis)
            varint(mark.byte - lastByte)
            lastMillis = millis
            lastByte = mark.byte
        }
        return out
    }

    init(packed bytes: [UInt8]) {
        self.init()
        var index = 0
        func varint() -> Int64? {
            var value: UInt64 = 0, shift: UInt64 = 0
            while index < bytes.count, shift < 64 {
                let byte = bytes[index]
                index += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { return Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1) }
                shift += 7
            }
            return nil
        }
        var millis: Int64 = 0, byte: Int64 = 0
        while index < bytes.count, let deltaMillis = varint(), let deltaByte = varint() {
            // Wrapping: a crafted catalog gives nonsense offsets, never a crash.
            millis &+= deltaMillis
            byte &+= deltaByte
            append(KeyframeMark(offset: Double(millis) / 1000, byte: byte))
        }
    }
}
