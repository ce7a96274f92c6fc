public import Foundation
public import Media
public import RecorderAPI
public import RecorderCore
import Synchronization

/// A camera's recordings read through the recorder (GET /v1/playback/{camera}?at= as a
/// WebSocket): the same packets the segment files hold, in the same order, for the
/// console's `PlaybackReader` to decode. A position is a new request; the recorder sends as
/// fast as this reads, never more than the socket's buffers ahead. The recorder, not the
/// console, writes the audit entries (with the session's account and `reason`).
public final class RemoteRecordedPackets: RecordedPackets, @unchecked Sendable {  // used by one thread
    public let camera: String
    private let address: ServerAddress
    private let trust: ServerTrust?
    private let token: String?
    private let reason: String?
    private let requisition: String?
    private let timeout: Double
    /// The open request; set and read by the reading thread, closed by `cancel()` from any.
    private let open = Mutex<StreamSocket?>(nil)
    private let cancelled = Atomic<Bool>(false)
    private var socket: StreamSocket? {
        get { open.withLock { $0 } }
        set { open.withLock { $0 = newValue } }
    }
    private var stream: RecordedStream?

    public init(address: ServerAddress, trust: ServerTrust?, token: String?, camera: String, reason: String?, requisition: String? = nil, timeout: Double = 10) {
        self.address = address
        self.trust = trust
        self.token = token
        self.camera = camera
        self.reason = reason
        self.requisition = requisition
        self.timeout = timeout
    }

    private var source: String { "vigie://\(address)/\(camera)/recordings" }

    public func cancel() {
        cancelled.store(true, ordering: .relaxed)
        open.withLock { $0?.close() }
    }

    public func position(at target: Date) throws(MediaError) -> RecordedStream? {
        socket?.close()
        socket = nil
        stream = nil
        if cancelled.load(ordering: .relaxed) { throw MediaError(kind: .cancelled, operation: "play", source: source, message: "cancelled") }
        var path = "/v1/playback/\(StreamSocket.escape(camera))?at=\(Int64(target.timeIntervalSince1970 * 1_000_000))"
        if let reason, !reason.isEmpty { path += "&reason=\(StreamSocket.escape(reason))" }
        if let requisition, !requisition.isEmpty { path += "&requisition=\(StreamSocket.escape(requisition))" }
        let opened = try StreamSocket(
            address: address, trust: trust, token: token, path: path, flowControlled: true, timeout: timeout, source: source)
        socket = opened
        if cancelled.load(ordering: .relaxed) { opened.close() }
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            switch opened.inbox.pop(until: deadline) {
            case .message(let message) where message.type == "stream":
                stream = try described(message)
                return stream
            case .message(let message) where message.type == "end":
                opened.close()
                socket = nil
                return nil
            case .message(let message):
                throw lost(message)
            case .packet:
                continue  // never before a description
            case .closed(let why):
                socket = nil
                throw MediaError(kind: .io, operation: "play", source: source, message: why)
            case nil:
                opened.close()
                socket = nil
                throw MediaError(kind: .timedOut, operation: "play", source: source, message: "the recorder did not send the recordings")
            }
        }
    }

    public func read() throws(MediaError) -> RecordedItem? {
        guard let socket, let current = stream else { return nil }
        while true {
            switch socket.inbox.pop(until: Date().addingTimeInterval(timeout)) {
            case .packet(let header, let payload):
                let packet = payload.withUnsafeBytes {
                    Packet(payload: $0, pts: header.pts, dts: header.dts, duration: header.duration, isKeyframe: header.isKeyframe, timeBase: current.info.timeBase)
                }
                if let packet { return .packet(packet) }
            case .message(let message) where message.type == "stream":
                let next = try described(message)
                stream = next
                return .stream(next)
            case .message(let message) where message.type == "end":
                socket.close()
                self.socket = nil
                return nil
            case .message(let message):
                throw lost(message)
            case .closed(let why):
                self.socket = nil
                throw MediaError(kind: .io, operation: "play", source: source, message: why)
            case nil:
                throw MediaError(kind: .timedOut, operation: "play", source: source, message: "the recorder stopped sending the recordings")
            }
        }
    }

    private func described(_ message: LiveMessage) throws(MediaError) -> RecordedStream {
        guard let info = RemotePacketSource.streamInfo(message), let origin = message.origin else {
            throw MediaError(kind: .unsupportedCodec, operation: "play", source: source, message: "the recorded stream cannot be decoded here")
        }
        return RecordedStream(info: info, origin: Date(timeIntervalSince1970: Double(origin) / 1_000_000), segmentPath: message.segment ?? "")
    }

    private func lost(_ message: LiveMessage) -> MediaError {
        socket?.close()
        socket = nil
        return MediaError(kind: .io, operation: "play", source: source, message: message.reason ?? "the recorder ended the playback")
    }

    deinit { socket?.close() }
}

/// The recordings through the recorder: timelines and holds by its API, packets by
/// `RemoteRecordedPackets`. Whatever the account may not see, the recorder refuses.
public struct RemoteRecordings: ConsoleRecordings {
    private let service: RecorderService
    private let address: ServerAddress
    private let trust: ServerTrust?
    private let token: String?

    public init(service: RecorderService, address: ServerAddress, trust: ServerTrust?, token: String?) {
        self.service = service
        self.address = address
        self.trust = trust
        self.token = token
    }

    public func packets(camera: String, reason: String?, requisition: String?) -> any RecordedPackets {
        RemoteRecordedPackets(address: address, trust: trust, token: token, camera: camera, reason: reason, requisition: requisition)
    }

    public var consoleAuditsPlayback: Bool { false }

    public func spans(camera: String, from: Date, to: Date) throws -> RecordedSpans {
        let timeline = try service.timeline(camera: camera, from: from, to: to)
        let holds = try service.holds(includeReleased: false).filter { $0.cameras.isEmpty || $0.cameras.contains(camera) }
        return RecordedSpans(
            camera: camera, from: from, to: to, recorded: timeline.segments.map { ($0.from, $0.to) }, held: holds.map { ($0.from, $0.to) })
    }

    public func recording(_ cameras: [String], since: Date) throws -> Set<String> {
        let wanted = Set(cameras)
        return Set(try service.cameras().filter { wanted.contains($0.id) && ($0.recordedUntil ?? .distantPast) > since }.map(\.id))
    }

    public func requisitions() throws -> [RequisitionChoice] {
        try service.requisitions().filter { $0.status != "closed" }.map {
            RequisitionChoice(
                number: $0.number, authority: $0.authority, status: $0.status,
                cameras: $0.scopes.contains { $0.cameras.isEmpty } ? [] : Array(Set($0.scopes.flatMap(\.cameras))).sorted(),
                from: $0.scopes.map(\.from).min() ?? $0.received, to: $0.scopes.map(\.to).max() ?? $0.received, opensAt: $0.firstFootage)
        }
    }
}
