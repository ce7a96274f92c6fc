import Foundation
public import Media
import Synchronization

/// Which of a camera's two streams.
public enum StreamChoice: String, Sendable, CaseIterable {
    /// Full resolution: recording and the full pane.
    case main
    /// Low resolution: wall tiles. Cameras without a sub stream use their main stream.
    case sub
}

/// Opens the addresses of one scheme (`sim`, the simulated city the executable wires in;
/// `vigie`, a recorder's relay for a remote console) as packet sources.
public typealias SchemeOpener = @Sendable (_ url: String, _ interrupt: InterruptFlag) throws(MediaError) -> any PacketSource

/// The recorder core: owns the site's cameras and their live feeds. The console talks
/// to it, never to FFmpeg; it records, keeps the catalog and the audit log.
///
/// One feed per camera stream, created on first use and connected only while somebody
/// (a viewer, the recorder) wants it. Network and file addresses are opened by FFmpeg;
/// other schemes by the openers given (so no production module depends on the simulator).
public final class RecorderCore: Sendable {
    public let inventory: CameraInventory
    private let feeds = Mutex<[String: LiveFeed]>([:])
    private let opener: SourceOpener
    private let policy: ReconnectPolicy

    /// The largest picture a sub stream is asked for; above it viewers get the main stream.
    public static let subStreamLimit = (width: 704, height: 576)

    public init(
        inventory: CameraInventory, schemes: [String: SchemeOpener] = [:], policy: ReconnectPolicy = ReconnectPolicy(),
        connectTimeout: Duration = .seconds(10), readTimeout: Duration = .seconds(10)
    ) {
        self.inventory = inventory
        self.policy = policy
        self.opener = { url, transport, interrupt throws(MediaError) -> any PacketSource in
            if let scheme = url.split(separator: ":", maxSplits: 1).first, url.dropFirst(scheme.count).hasPrefix("://"),
                CameraURL.schemesOpenedElsewhere.contains(String(scheme))
            {
                guard let open = schemes[String(scheme)] else {
                    throw MediaError(
                        kind: .invalidArgument, operation: "open", source: url,
                        message: scheme == "sim" ? "sim:// cameras need the simulated city (run them with vigie)" : "no opener for \(scheme)://")
                }
                return try open(url, interrupt)
            }
            var options = DemuxerOptions(rtspTransport: transport, connectTimeout: connectTimeout, readTimeout: readTimeout)
            options.extraOptions = [:]
            // A file used as a camera plays at the camera's pace (the recorder must not read it at disk speed).
            options.realTime = !url.contains("://") || url.hasPrefix("file://")
            return try DemuxerSource(url: url, options: options, interrupt: interrupt)
        }
    }

    /// Opens a stream address directly (probes, benchmarks); sim:// goes to the simulated city.
    public func openSource(url: String, transport: RTSPTransport = .tcp, interrupt: InterruptFlag = InterruptFlag())
        throws(MediaError) -> any PacketSource
    {
        try opener(url, transport, interrupt)
    }

    /// The feed of one camera stream (created on first use, not started until wanted).
    public func feed(camera id: String, stream: StreamChoice) -> LiveFeed? {
        guard let camera = inventory.camera(id) else { return nil }
        let useSub = stream == .sub && camera.subURL != nil
        let key = "\(camera.id)/\(useSub ? "sub" : "main")"
        return feeds.withLock { feeds in
            if let existing = feeds[key] { return existing }
            let feed = LiveFeed(
                cameraID: camera.id, stream: useSub ? "sub" : "main", url: useSub ? camera.subURL! : camera.mainURL,
                transport: camera.transport, opener: opener, policy: policy)
            feeds[key] = feed
            return feed
        }
    }

    /// Decoded pictures of a camera at a size: from the given stream, else from the sub
    /// stream when the size fits it.
    public func subscribeFrames(camera id: String, width: Int, height: Int, stream: StreamChoice? = nil) -> FrameSubscription? {
        let small = width <= RecorderCore.subStreamLimit.width && height <= RecorderCore.subStreamLimit.height
        return feed(camera: id, stream: stream ?? (small ? .sub : .main))?.subscribeFrames(width: width, height: height)
    }

    /// Every feed created so far, in inventory order.
    public func statuses() -> [FeedStatus] {
        let all = feeds.withLock { Array($0.values) }
        let order = Dictionary(uniqueKeysWithValues: inventory.cameras.map { ($0.id, $0.number) })
        return all.map(\.status).sorted { (order[$0.cameraID] ?? 0, $0.stream) < (order[$1.cameraID] ?? 0, $1.stream) }
    }

    /// Stops every feed and waits for their threads.
    public func shutdown() {
        let all = feeds.withLock { Array($0.values) }
        for feed in all { feed.stop(timeout: 0) }
        for feed in all { feed.stop(timeout: 5) }
    }
}
