import ArgumentParser
import Client
import Foundation
import Logging
import Media
import RecorderAPI
import RecorderCore
import Synchronization

/// A console that is the recorder's client: its cameras come from the recorder (never their
/// addresses), their live pictures through the recorder's relay (one camera connection for
/// every console), its audit entries are written by the recorder under the session's account.
struct RemoteSite {
    let service: RecorderService
    let session: SessionInfo
    let inventory: CameraInventory
    /// The cameras the account may watch: the wall's default layout.
    let viewable: CameraInventory
    let cameras: [CameraInfo]
    let core: RecorderCore
    /// The recordings through the recorder (playback, timelines, REC marks).
    let recordings: RemoteRecordings

    /// Connects (a saved session for HOST:PORT, or the Unix socket of a path) and builds the
    /// console's view of the site.
    static func connect(_ server: String) throws -> RemoteSite {
        guard let address = ServerAddress.parse(server) else { throw ValidationError("--server is HOST:PORT or the recorder's socket path") }
        let client: RecorderClient
        if case .unix = address {
            client = RecorderClient(address: address)
        } else {
            guard let saved = SavedSession.load(server: address) else {
                printError("vigie: not logged in to \(address): run `vigie login --server \(address) --user NAME` first")
                throw ExitCode(77)
            }
            client = RecorderClient(address: address, trust: saved.trust, token: saved.token)
        }
        let service = RecorderService(client)
        let session = try check { () throws(ServiceError) in try service.session() }
        let cameras = try check { () throws(ServiceError) in try service.cameras() }
        // The inventory as the console needs it: every camera (layouts name them all), each
        // relayed by the recorder; and the cameras the account may watch (the default layout's).
        let inventory: CameraInventory, viewable: CameraInventory
        do {
            inventory = try inventoryOf(cameras, site: session, from: address)
            let live = cameras.filter(\.live)
            viewable = live.isEmpty ? inventory : try inventoryOf(live, site: session, from: address)
        } catch {
            printError("vigie: the recorder's cameras cannot be shown: \(error)")
            throw ExitCode(76)
        }
        let token = client.token, trust = client.trust
        let core = RecorderCore(
            inventory: inventory,
            schemes: [
                "vigie": { url, interrupt throws(MediaError) in
                    let parts = url.dropFirst("vigie://".count).split(separator: "/")
                    return try RemotePacketSource(
                        address: address, trust: trust, token: token, camera: String(parts.first ?? ""), stream: String(parts.last ?? "sub"),
                        interrupt: interrupt)
                }
            ],
            // The recorder away (restarted): the console retries soon, and keeps trying.
            policy: ReconnectPolicy(initialDelay: 1, multiplier: 1.6, maximumDelay: 5, jitter: 0.2))
        return RemoteSite(
            service: service, session: session, inventory: inventory, viewable: viewable, cameras: cameras, core: core,
            recordings: RemoteRecordings(service: service, address: address, trust: trust, token: token))
    }

    static func inventoryOf(_ cameras: [CameraInfo], site session: SessionInfo, from address: ServerAddress) throws -> CameraInventory {
        func quoted(_ text: String) -> String { String(decoding: API.encode(text), as: UTF8.self) }
        var yaml = "site:\n  name: \(quoted(session.site ?? "Vigie"))\n  timezone: \(quoted(session.timeZone ?? "UTC"))\n"
        if session.mode == SiteMode.videoprotection.rawValue { yaml += "  mode: videoprotection\n" }
        yaml += "cameras:\n"
        let known = Set(cameras.map(\.id))
        for camera in cameras {
            yaml += "  - id: \(quoted(camera.id))\n    name: \(quoted(camera.name))\n    location: \(quoted(camera.location))\n"
            yaml += "    main: \(quoted("vigie://\(camera.id)/main"))\n"
            if camera.hasSubStream { yaml += "    sub: \(quoted("vigie://\(camera.id)/sub"))\n" }
            let neighbours = camera.neighbours.filter(known.contains)
            if !neighbours.isEmpty { yaml += "    neighbours: [\(neighbours.map(quoted).joined(separator: ", "))]\n" }
        }
        return try CameraInventory.parse(yaml: yaml, file: "(the recorder at \(address))")
    }

    /// Why the session's account may not play recordings back, to say at once (the recorder
    /// refuses it anyway, and audits the refusal).
    var playbackRefusal: @Sendable (String) -> String? {
        let session = session
        return { _ in
            guard !session.singleUser, let role = Role(rawValue: session.role) else { return nil }
            return role.permissions.contains(.playback) ? nil : "account \(session.account) (\(role.rawValue)) may not \(Permission.playback.rawValue)"
        }
    }

    var mayView: @Sendable (String) -> Bool {
        let allowed = Set(cameras.filter(\.live).map(\.id))
        return { allowed.contains($0) }
    }
}

/// The console's session, asked of the recorder every 2 s in the background: revoked,
/// expired or its account disabled, the console is cut (a recorder away is no end: the
/// console waits for it).
final class SessionWatch: Sendable {
    private let ended = Mutex<String?>(nil)
    private let stopping = Atomic<Bool>(false)

    init(service: RecorderService) {
        let thread = Thread { [self] in
            while !stopping.load(ordering: .relaxed) {
                Thread.sleep(forTimeInterval: 2)
                do throws(ServiceError) {
                    _ = try service.session()
                } catch {
                    if error.kind == .unauthenticated || error.kind == .refused {
                        ended.withLock { $0 = error.description }
                        return
                    }
                }
            }
        }
        thread.name = "session watch"
        thread.start()
    }

    var endedBecause: String? { ended.withLock { $0 } }
    func stop() { stopping.store(true, ordering: .relaxed) }
}

/// The console's audit entries sent to the recorder, which writes them under the session's
/// account. Behind a `QueuedAuditSink` (the console's thread never waits for the network):
/// while the recorder is away an entry is tried again each second, until `stop()`.
final class RecorderAuditSink: AuditSink {
    private let service: RecorderService
    private let stopping = Atomic<Bool>(false)
    private let logger = Logger(label: "vigie.console.audit")

    init(service: RecorderService) { self.service = service }

    func record(_ event: OperatorEvent) {
        while true {
            do throws(ServiceError) {
                try service.recordEvent(action: event.action.name, camera: event.cameraID, detail: event.detail)
                return
            } catch {
                guard error.kind == .unreachable, !stopping.load(ordering: .relaxed) else {
                    logger.error("console event not audited (\(event.action)): \(error)")
                    return
                }
                Thread.sleep(forTimeInterval: 1)  // the recorder is away: keep the event, try again
            }
        }
    }

    /// Gives up on entries the recorder cannot take now.
    func stop() { stopping.store(true, ordering: .relaxed) }
}
