import Foundation
import Logging
import Media
import NIOCore
import NIOWebSocket
import RecorderAPI
import RecorderCore
import Synchronization

/// One console playing one camera's recordings (GET /v1/playback/{camera}?at= as a
/// WebSocket): a thread of its own reads the segment files from the keyframe at or before
/// the time and sends the packets as they are (no decoding here), as fast as the console
/// takes them: at most `window` writes are in flight, so TCP's flow control paces the
/// reading and a console that stops reading (paused) holds no more than its socket's buffer.
///
/// The recorder writes the audit entries under the session's account, with the requisition
/// (or marked outside any, with the reason): the opening, and when the stream ends, the
/// period sent. Under a requisition, the stream ends where its period does.
final class PlaybackStreamer: Sendable {
    private let channel: any Channel
    private let api: ServerAPI
    private let grant: ServerAPI.LiveGrant
    private let at: Date
    private let consultation: ServerAPI.Consultation
    private let stopped = Atomic<Bool>(false)
    static let window = 16

    init(channel: any Channel, api: ServerAPI, grant: ServerAPI.LiveGrant, at: Date, consultation: ServerAPI.Consultation) {
        self.channel = channel
        self.api = api
        self.grant = grant
        self.at = at
        self.consultation = consultation
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "playback \(grant.camera)"
        thread.start()
    }

    /// The connection ended: the thread stops at its next packet.
    func stop() { stopped.store(true, ordering: .relaxed) }

    /// The server stops: the connection is closed (a write waited for fails at once).
    func cancel() {
        stop()
        channel.close(promise: nil)
    }

    private func text(_ message: LiveMessage) -> WebSocketFrame {
        var buffer = channel.allocator.buffer(capacity: 512)
        buffer.writeBytes(API.encode(message))
        return WebSocketFrame(fin: true, opcode: .text, data: buffer)
    }

    private func run() {
        api.register(self, asker: ServerAPI.asker(session: grant.session, peer: grant.peer))
        defer {
            api.unregister(self)
            // The console closes on `end`; one that does not is closed a moment later.
            let channel = channel
            channel.eventLoop.scheduleTask(in: .seconds(5)) { channel.close(promise: nil) }
        }
        let who = grant.actor.name, camera = grant.camera
        let reason = consultation.reason, requisition = consultation.requisition
        let under = requisition == nil ? "outside any requisition, " : ""
        api.audit(
            OperatorEvent(
                who: who, action: .playback, cameraID: camera, detail: "opened (\(under)console at \(grant.peer))", from: at, reason: reason,
                requisition: requisition))
        var sent: (from: Date, to: Date)? = nil
        var inFlight: [EventLoopFuture<Void>] = []
        var ending = "end"
        do {
            let packets = SegmentPackets(store: api.store, camera: camera)
            var stream = try packets.position(at: at)
            if let first = stream { inFlight.append(send(describing: first)) }
            reading: while let current = stream, !stopped.load(ordering: .relaxed) {
                guard let item = try packets.read() else { break }
                switch item {
                case .stream(let next):
                    stream = next
                    inFlight.append(send(describing: next))
                case .packet(let packet):
                    let seconds = packet.pts.map { current.info.timeBase.seconds($0) } ?? 0
                    let time = current.origin.addingTimeInterval(seconds)
                    if let until = consultation.until, time >= until {
                        ending = "end of requisition \(requisition ?? "")'s period"
                        break reading
                    }
                    if time >= at { sent = (sent?.from ?? time, time) }
                    var buffer = channel.allocator.buffer(capacity: packet.size + LivePacketHeader.size)
                    buffer.writeBytes(
                        LivePacketHeader(
                            isKeyframe: packet.isKeyframe, pts: packet.pts, dts: packet.dts, duration: packet.duration,
                            receivedMicros: Int64(time.timeIntervalSince1970 * 1_000_000)
                        ).bytes)
                    _ = packet.withPayload { buffer.writeBytes($0) }
                    inFlight.append(channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .binary, data: buffer)))
                }
                if inFlight.count >= PlaybackStreamer.window { try inFlight.removeFirst().wait() }
            }
        } catch let error as MediaError {
            ending = "lost"
            Logger(label: "vigie.playback").warning("playback of \(camera) for \(who) ended: \(error)")
            _ = channel.writeAndFlush(text(LiveMessage(type: "lost", reason: "the recordings cannot be read: \(error.kind)")))
        } catch {
            ending = "gone"  // the console went away while a write was in flight
        }
        if ending.hasPrefix("end") && !stopped.load(ordering: .relaxed) {
            // After the last packet: the console plays what it has, then shows the end.
            _ = channel.writeAndFlush(text(LiveMessage(type: "end")))
        }
        if stopped.load(ordering: .relaxed) { ending = "closed by the console" }
        api.audit(
            OperatorEvent(
                who: who, action: .playback, cameraID: camera, detail: "sent (\(under)\(ending))", from: sent?.from ?? at, to: sent?.to ?? at,
                reason: reason, requisition: requisition))
    }

    private func send(describing stream: RecordedStream) -> EventLoopFuture<Void> {
        channel.writeAndFlush(
            text(LiveMessage(describing: stream.info, origin: Int64(stream.origin.timeIntervalSince1970 * 1_000_000), segment: stream.segmentPath)))
    }
}
