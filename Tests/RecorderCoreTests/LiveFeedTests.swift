import Foundation
import Media
import RecorderCore
import Simulation
import TestSupport
import Synchronization
import Testing

/// Feeds against real sources: GStreamer's RTSP server on loopback and the simulated city.
/// Serialized: they share the machine's two cores with real servers and decoders.
@Suite(.serialized) struct LiveFeedTests {
    static let fastPolicy = ReconnectPolicy(initialDelay: 0.2, multiplier: 2, maximumDelay: 1, jitter: 0.1)
    static let footage = SimulatedFootageCache(directory: TestPaths.scratch.appendingPathComponent("sim-footage"))

    func inventory(_ cameras: [(id: String, main: String, transport: String)]) throws -> CameraInventory {
        var yaml = "site:\n  name: Test\n  timezone: Europe/Paris\ncameras:\n"
        for camera in cameras {
            yaml += "  - id: \(camera.id)\n    name: \(camera.id)\n    location: test\n    main: \(camera.main)\n    transport: \(camera.transport)\n"
        }
        return try CameraInventory.parse(yaml: yaml, file: "test.yaml")
    }

    @Test func decodesFramesFromARealRTSPServerOverTCPAndUDP() throws {
        let fixture = try RTSPFixture(cameras: 2, basePort: RTSPFixture.randomBasePort())
        defer { fixture.stopAll() }
        // Credentials in the address are sent if the camera asks, and shown nowhere.
        let withCredentials = fixture.urls[0].replacingOccurrences(of: "rtsp://", with: "rtsp://operator:hunter2@")
        let core = RecorderCore(
            inventory: try inventory([("cam-tcp", withCredentials, "tcp"), ("cam-udp", fixture.urls[1], "udp")]),
            policy: LiveFeedTests.fastPolicy, readTimeout: .seconds(3))
        defer { core.shutdown() }
        let tcp = try #require(core.subscribeFrames(camera: "cam-tcp", width: 80, height: 60))
        let udp = try #require(core.subscribeFrames(camera: "cam-udp", width: 80, height: 60))
        #expect(eventually(timeout: 20) { (tcp.latest()?.sequence ?? 0) >= 10 && (udp.latest()?.sequence ?? 0) >= 10 })
        let frame = try #require(tcp.latest())
        #expect(frame.image.width == 80 && frame.image.height == 60)
        // A real picture, not a flat one: the test pattern has many levels.
        #expect(Set(frame.image.pixels).count > 16)

        let statuses = Dictionary(uniqueKeysWithValues: core.statuses().map { ($0.cameraID, $0) })
        #expect(statuses["cam-tcp"]?.state.isLive == true)
        #expect(statuses["cam-tcp"]?.transport == "rtsp/tcp")
        #expect(statuses["cam-udp"]?.transport == "rtsp/udp")
        #expect(statuses["cam-tcp"]?.codec == "h264" && statuses["cam-tcp"]?.width == 320)
        #expect((statuses["cam-tcp"]?.receivedFramesPerSecond ?? 0) > 10)
        #expect((statuses["cam-tcp"]?.bitsPerSecond ?? 0) > 10_000)
        #expect(core.feed(camera: "cam-tcp", stream: .main)?.displayURL.contains("hunter2") == false)
        tcp.cancel()
        udp.cancel()
    }

    @Test func followsACameraThroughLossAndBackToLive() throws {
        let fixture = try RTSPFixture(cameras: 1, basePort: RTSPFixture.randomBasePort())
        defer { fixture.stopAll() }
        let core = RecorderCore(
            inventory: try inventory([("cam0", fixture.urls[0], "tcp")]), policy: LiveFeedTests.fastPolicy, connectTimeout: .seconds(3), readTimeout: .seconds(2))
        defer { core.shutdown() }
        let feed = try #require(core.feed(camera: "cam0", stream: .main))
        let frames = feed.subscribeFrames(width: 64, height: 48)
        let packets = feed.subscribePackets(capacity: 10_000)
        #expect(eventually(timeout: 20) { feed.state.isLive && frames.latest() != nil })

        let stoppedAt = Date()
        try fixture.stop(0)
        #expect(eventually(timeout: 10) { feed.state.lostSince != nil })
        let lostSince = try #require(feed.state.lostSince)
        #expect(lostSince >= stoppedAt.addingTimeInterval(-0.5))
        #expect(feed.status.receivedFramesPerSecond == 0)
        // While the camera is away the feed keeps trying, with backoff.
        #expect(eventually(timeout: 5) { feed.status.failures >= 3 })

        let before = frames.latest()?.sequence ?? 0
        try fixture.restart(0)
        #expect(eventually(timeout: 25) { feed.state.isLive && (frames.latest()?.sequence ?? 0) > before + 5 })

        // The recorder's view of the same story: started, packets, lost, started again.
        var sawLoss = false, startsAfterLoss = 0, packetCount = 0
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, !(sawLoss && startsAfterLoss >= 1 && packetCount > 20), let event = packets.next(timeout: 1) {
            switch event {
            case .streamStarted: if sawLoss { startsAfterLoss += 1 }
            case .packet: packetCount += 1
            case .streamLost: sawLoss = true
            }
        }
        #expect(sawLoss && startsAfterLoss >= 1 && packetCount > 20)
        frames.cancel()
        packets.cancel()
    }

    @Test func aSimulatedCameraIsDecodedOnlyWhileWatched() throws {
        let inventory = try inventory([("a", "sim://a/main", "tcp"), ("b", "sim://b/main", "tcp")])
        let city = SimulatedCityRuntime(
            city: SimulatedCity(cameras: inventory.cameras.map { SimulatedCameraSpec(id: $0.id, name: $0.name, location: $0.location, neighbours: $0.neighbours) }),
            cache: LiveFeedTests.footage, timeZone: inventory.site.timeZone)
        // As the executable wires it: the sim scheme opened by the simulated city.
        let core = RecorderCore(
            inventory: inventory, schemes: ["sim": { url, interrupt throws(MediaError) in try city.open(url: url, interrupt: interrupt) }],
            policy: LiveFeedTests.fastPolicy)
        defer { core.shutdown() }
        let feed = try #require(core.feed(camera: "a", stream: .main))
        let packets = feed.subscribePackets(capacity: 5)
        #expect(eventually(timeout: 60) { feed.status.packetsReceived >= 30 })
        #expect(feed.status.framesDecoded == 0)
        #expect(feed.status.transport == "sim")

        // Nobody reads: the queue keeps the newest packets and counts the rest as dropped.
        #expect(packets.droppedCount >= 20)

        let frames = feed.subscribeFrames(width: 64, height: 36)
        #expect(eventually(timeout: 10) { (frames.latest()?.sequence ?? 0) >= 5 })
        #expect(feed.status.framesDecoded >= 5)
        frames.cancel()
        Thread.sleep(forTimeInterval: 0.3)
        let decoded = feed.status.framesDecoded
        Thread.sleep(forTimeInterval: 0.5)
        #expect(feed.status.framesDecoded == decoded)
        #expect(feed.status.packetsReceived > 40)
        packets.cancel()
    }

    @Test func aFeedNobodyWantsStops() throws {
        let runtime = SimulatedCityRuntime(
            city: SimulatedCity(cameras: [SimulatedCameraSpec(id: "a", name: "A", location: "L", neighbours: [])]),
            cache: LiveFeedTests.footage, timeZone: TimeZone(identifier: "UTC")!)
        let feed = LiveFeed(
            cameraID: "a", stream: "sub", url: "sim://a/sub",
            opener: { url, _, interrupt throws(MediaError) in try runtime.open(url: url, interrupt: interrupt) }, linger: 0.2)
        let frames = feed.subscribeFrames(width: 32, height: 18)
        #expect(eventually(timeout: 60) { frames.latest() != nil })
        frames.cancel()
        #expect(eventually(timeout: 5) { feed.state == .stopped })
        // And starts again for the next viewer.
        let again = feed.subscribeFrames(width: 32, height: 18)
        #expect(eventually(timeout: 10) { again.latest() != nil })
        feed.stop()
        #expect(feed.state == .stopped)
    }

    /// A subscriber that asks to be caught up (the server's relay, made on a zap) gets the
    /// stream's description and the packets since the last keyframe before the live ones, in
    /// order, with nothing missed or doubled: not the camera's next keyframe, seconds later.
    @Test func aSubscriberJoiningARunningStreamIsCaughtUpFromTheLastKeyframe() throws {
        let runtime = SimulatedCityRuntime(
            city: SimulatedCity(cameras: [SimulatedCameraSpec(id: "a", name: "A", location: "L", neighbours: [])]),
            cache: LiveFeedTests.footage, timeZone: TimeZone(identifier: "UTC")!)
        let feed = LiveFeed(
            cameraID: "a", stream: "sub", url: "sim://a/sub",
            opener: { url, _, interrupt throws(MediaError) in try runtime.open(url: url, interrupt: interrupt) })
        defer { feed.stop() }
        // The recorder's subscription: every packet, in order.
        let recorder = feed.subscribePackets(capacity: 10_000)
        var recorded: [(dts: Int64?, key: Bool)] = []
        func readRecorder(until done: () -> Bool) {
            while !done(), let event = recorder.next(timeout: 10) {
                if case .packet(let packet, _) = event { recorded.append((packet.dts, packet.isKeyframe)) }
            }
        }
        // Joins a few packets after a keyframe that came in real time (the second: the first group
        // comes at once, as a camera's server sends it), far from the next (a group lasts 2 s).
        readRecorder {
            recorded.filter(\.key).count >= 2 && (recorded.lastIndex { $0.key }).map { recorded.count - $0 > 5 } == true
        }
        let joinedAt = Date().timeIntervalSince1970
        let caughtUp = Mutex<[FeedEvent]>([])
        let relay = feed.subscribePackets(catchUp: true) { event in caughtUp.withLock { $0.append(event) } }
        #expect(eventually(timeout: 10) { caughtUp.withLock { $0.count } >= 20 })
        relay.cancel()
        let events = caughtUp.withLock { $0 }
        guard case .streamStarted = events.first else {
            Issue.record("the first event is not the stream's description")
            return
        }
        let packets = events.dropFirst().compactMap { event -> (dts: Int64?, key: Bool, receivedAt: Double)? in
            if case .packet(let packet, let receivedAt) = event { return (packet.dts, packet.isKeyframe, receivedAt) }
            return nil
        }
        #expect(packets.count == events.count - 1)
        // From the cache: a keyframe received before the subscription, and the packets after it.
        #expect(packets.first?.key == true)
        #expect((packets.first?.receivedAt ?? .infinity) < joinedAt)
        #expect(packets.prefix { $0.receivedAt < joinedAt }.count > 5)
        // The same packets as the recorder's, in the same order, from that keyframe on.
        readRecorder { recorded.count > 500 || recorded.contains { $0.dts == packets.last?.dts } }
        let start = try #require(recorded.firstIndex { $0.dts == packets.first?.dts })
        #expect(recorded[start...].prefix(packets.count).map(\.dts) == packets.map(\.dts))
        recorder.cancel()
    }
}
