import ArgumentParser
import Foundation
import Client
import Media
import RecorderCore
import Simulation
import Server
import Synchronization

/// CPU time used by this process so far (user + system), in seconds.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
        + Double(usage.ru_stime.tv_usec) / 1e6
}

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks of the media layer (see bench/ for the side-by-side scripts).",
        subcommands: [Decode.self, Receive.self, Bench.SyntheticCatalog.self, Bench.Relay.self, Bench.Serve.self, Bench.SyntheticIndex.self, Bench.SearchLatency.self, Bench.Import.self]
    )

    struct Decode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Demux and decode every frame of a file; print frames per CPU-second.")

        @Argument(help: "A video file.")
        var file: String

        @Option(help: "Decoder threads (1 compares with ffmpeg -threads 1).")
        var threads: Int = 1

        @Option(help: "Also scale each frame to WxH RGB (the wall's work), e.g. 160x90.")
        var scale: String?

        @Flag(help: "Decode for preview (no deblocking), as tiles and terminal views do.")
        var preview = false

        func run() throws {
            FFmpegLog.install(level: .error)
            var scaler: Scaler? = nil
            if let scale {
                let parts = scale.split(separator: "x").compactMap { Int($0) }
                guard parts.count == 2 else { throw ValidationError("--scale is WxH") }
                scaler = try Scaler(outputWidth: parts[0], outputHeight: parts[1])
            }
            let cpuStart = processCPUSeconds()
            let wallStart = Date()
            let source = try DemuxerSource(url: file)
            let decoder = try Decoder(
                parameters: source.video.parameters, timeBase: source.video.timeBase, threads: threads, forPreview: preview)
            var frames = 0
            func drain() throws {
                while let frame = try decoder.receive() {
                    frames += 1
                    if let scaler { _ = try scaler.scale(frame) }
                }
            }
            while let packet = try source.read() {
                while !(try decoder.send(packet)) { try drain() }
                try drain()
            }
            _ = try decoder.send(nil)
            try drain()
            let cpu = processCPUSeconds() - cpuStart
            let wall = Date().timeIntervalSince(wallStart)
            print(String(format: "frames=%d cpu_s=%.3f wall_s=%.3f frames_per_cpu_s=%.1f", frames, cpu, wall, Double(frames) / cpu))
        }
    }

    struct Receive: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Receive N simulated cameras' main streams (as the recorder does) and print the CPU used.")

        @OptionGroup var siteOptions: SiteOptions

        @Option(help: "How many cameras (the first N of the inventory).")
        var cameras: Int = 16

        @Option(help: "Seconds to receive.")
        var seconds: Double = 60

        @Option(help: "Stream: main or sub.")
        var stream: String = "main"

        func run() throws {
            LogSetup.toStandardError(level: siteOptions.level)
            let inventory = try SiteLocator.load(siteOptions.site)
            let (core, simulation) = SiteSources.core(inventory)
            let choice = StreamChoice(rawValue: stream) ?? .main
            let selected = Array(inventory.cameras.prefix(cameras))
            if let simulation {
                // Footage is built before the measure: building is a one-off, receiving is the steady cost.
                for camera in selected where SimulatedAddress.parse(camera.mainURL) != nil {
                    _ = try simulation.cache.footage(
                        city: simulation.city, camera: camera.id, stream: choice == .main ? .main : .sub, timeZone: simulation.timeZone)
                }
            }
            let cpuStart = processCPUSeconds()
            let subscriptions = selected.compactMap { core.feed(camera: $0.id, stream: choice)?.subscribePackets(capacity: 1000) }
            let counter = PacketCounter()
            let threads = subscriptions.map { subscription in
                let thread = Thread {
                    while let event = subscription.next(timeout: 1) {
                        if case .packet(let packet, _) = event { counter.add(packet.size) }
                    }
                }
                thread.start()
                return thread
            }
            _ = threads
            Thread.sleep(forTimeInterval: seconds)
            let cpu = processCPUSeconds() - cpuStart
            let dropped = subscriptions.map(\.droppedCount).reduce(0, +)
            let live = core.statuses().filter { $0.state.isLive }.count
            for subscription in subscriptions { subscription.cancel() }
            core.shutdown()
            let (packets, bytes) = counter.totals
            print(
                String(
                    format: "cameras=%d live=%d seconds=%.0f packets=%d mbit_per_s=%.2f dropped=%d cpu_s=%.3f cpu_percent_of_one_core=%.2f per_camera_percent=%.3f",
                    selected.count, live, seconds, packets, Double(bytes * 8) / seconds / 1e6, dropped, cpu, cpu / seconds * 100,
                    cpu / seconds * 100 / Double(max(1, selected.count))))
        }
    }
}

/// Counts packets from several threads.
final class PacketCounter: @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private var packets = 0
    private var bytes = 0

    func add(_ size: Int) {
        lock.lock()
        packets += 1
        bytes += size
        lock.unlock()
    }

    var totals: (Int, Int) {
        lock.lock()
        defer { lock.unlock() }
        return (packets, bytes)
    }

}

extension Bench {
    struct SyntheticCatalog: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "catalog",
            abstract: "Fill a catalog with DAYS of one-minute segments for every camera of the site (seek benchmarks).",
            discussion: """
                Every row describes the TEMPLATE segment (its size, hash and keyframe index) under its own \
                path CAMERA/YYYY-MM-DD/HHMMSS.ts; only the files a benchmark seeks into need to exist \
                (bench/seek.sh links the template there).
                """)

        @OptionGroup var storageOptions: StorageOptions
        @Option(help: "Days of footage, ending now.") var days: Int = 30
        @Option(help: "Hours of footage instead of days (export benchmarks).") var hours: Double?
        @Option(help: "A recorded segment (.ts) whose index every row gets.") var template: String

        func run() throws {
            let (inventory, store) = try storageOptions.open()
            let catalog = store.catalog
            let scan = try SegmentScan.scan(URL(fileURLWithPath: template))
            guard let digest = RecordingStore.digest(of: URL(fileURLWithPath: template)), scan.duration >= 30 else {
                printError("vigie bench catalog: \(template) is not a recorded segment of at least 30 s")
                throw ExitCode(65)
            }
            let length = scan.duration.rounded()
            let end = (Date().timeIntervalSince1970 / length).rounded(.down) * length
            let first = end - (hours.map { $0 * 3600 } ?? Double(days) * 86_400)
            let started = MonotonicClock.seconds()
            var rows = 0
            for camera in inventory.cameras {
                let rowsOfCamera = stride(from: first, to: end, by: length).map { time in
                    let start = Date(timeIntervalSince1970: time)
                    return SegmentRecord(
                        camera: camera.id, path: SegmentPath.make(camera: camera.id, start: start), start: start,
                        end: start.addingTimeInterval(scan.duration), bytes: digest.bytes, sha256: digest.sha256, keyframes: scan.keyframes,
                        state: .closed)
                }
                try catalog.insertSegments(rowsOfCamera)
                rows += rowsOfCamera.count
            }
            print(String(format: "%d segments (%d cameras, %.1f hours of %.0f s each) in %.1f s", rows, inventory.cameras.count, (end - first) / 3600, length, MonotonicClock.seconds() - started))
        }
    }

    struct Serve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve a storage's recordings to consoles without recording (seek-through-the-server benchmarks).",
            discussion: """
                The recorder's server (STORAGE/recorder.sock, and TLS on --listen) over recordings that no \
                recorder writes: no camera is opened, no retention runs, so a synthetic catalog keeps its \
                rows. Stops on SIGTERM or after --duration.
                """)

        @OptionGroup var storageOptions: StorageOptions
        @Option(help: ArgumentHelp("Also serve on this address over TLS 1.3 (127.0.0.1:0).", valueName: "host:port")) var listen: String?
        @Option(help: "Stop after this many seconds.") var duration: Double?

        func run() throws {
            LogSetup.toStandardError(level: storageOptions.siteOptions.level)
            let (inventory, store) = try storageOptions.open()
            var address: (host: String, port: Int)? = nil
            if let listen {
                guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
                    throw ValidationError("--listen is HOST:PORT")
                }
                address = (String(listen[..<colon]), port)
            }
            let server = RecorderServer(api: ServerAPI(store: store, inventory: inventory, core: nil, metrics: { "" }))
            let stop = SignalFlag.install()
            try Record.serve(server, store: store, inventory: inventory, listen: address, certificate: nil, key: nil, command: "vigie bench serve")
            let started = MonotonicClock.seconds()
            while !stop.isSet {
                if let duration, MonotonicClock.seconds() - started >= duration { break }
                stop.wait(seconds: 0.5)
            }
            server.shutdown()
            unlink(store.root.appendingPathComponent("recorder.sock").path)
        }
    }

    struct Relay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Consoles' worth of live streams from a recorder: the delay the relay adds, per packet.",
            discussion: """
                Opens CONSOLES x TILES relayed streams (the first TILES cameras, each console its own \
                connections), receives for SECONDS without decoding, and prints the delay between a \
                packet's arrival at the recorder and at this client: p50, p95, max; and the packets \
                received and this process's CPU. bench/relay.sh runs it beside a recorder.
                """)

        @Option(help: "The recorder: its socket path, or HOST:PORT after `vigie login`.") var server: String
        @Option(help: "Consoles.") var consoles: Int = 4
        @Option(help: "Tiles per console (camera streams).") var tiles: Int = 16
        @Option(help: "Stream: sub or main.") var stream: String = "sub"
        @Option(help: "Seconds of measure (after every stream's first packet).") var seconds: Double = 30

        func run() throws {
            FFmpegLog.install(level: .error)
            let remote = try RemoteSite.connect(server)
            let cameras = Array(remote.cameras.filter(\.live).prefix(tiles))
            guard !cameras.isEmpty else {
                printError("vigie bench relay: the recorder shows this account no camera")
                throw ExitCode(64)
            }
            guard let address = ServerAddress.parse(server) else { throw ValidationError("--server") }
            let saved = SavedSession.load(server: address)
            let delays = Mutex<[Double]>([])
            let packets = Atomic<Int>(0)
            let started = Atomic<Int>(0)
            let measuring = Atomic<Bool>(false), done = Atomic<Bool>(false)
            var threads: [Thread] = []
            for console in 0..<consoles {
                for camera in cameras {
                    let thread = Thread {
                        let source: RemotePacketSource
                        do {
                            source = try RemotePacketSource(
                                address: address, trust: saved?.trust, token: saved?.token, camera: camera.id, stream: stream, timeout: 30)
                        } catch {
                            printError("vigie bench relay: console \(console) could not open \(camera.id): \(error)")
                            return
                        }
                        started.add(1, ordering: .relaxed)
                        var local: [Double] = []
                        while !done.load(ordering: .relaxed) {
                            do {
                                _ = try source.read()
                            } catch {
                                printError("vigie bench relay: console \(console), \(camera.id): \(error)")
                                break
                            }
                            guard measuring.load(ordering: .relaxed) else { continue }
                            let now = Date().timeIntervalSince1970 * 1_000_000
                            local.append((now - Double(source.lastReceivedMicros)) / 1000)
                            packets.add(1, ordering: .relaxed)
                        }
                        delays.withLock { $0 += local }
                    }
                    thread.start()
                    threads.append(thread)
                }
            }
            let total = consoles * cameras.count
            let deadline = Date().addingTimeInterval(60)
            while started.load(ordering: .relaxed) < total && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
            Thread.sleep(forTimeInterval: 2)  // past the groups of pictures sent at once on joining
            let cpuStart = processCPUSeconds()
            measuring.store(true, ordering: .relaxed)
            printError("vigie bench relay: measuring \(Int(seconds)) s")
            Thread.sleep(forTimeInterval: seconds)
            measuring.store(false, ordering: .relaxed)
            let cpu = processCPUSeconds() - cpuStart
            done.store(true, ordering: .relaxed)
            Thread.sleep(forTimeInterval: 1)
            let sorted = delays.withLock { $0 }.sorted()
            func percentile(_ p: Double) -> Double { sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
            print(
                String(
                    format: "relay: %d consoles x %d %@ streams (%d opened), %d packets in %.0f s; delay p50 %.2f ms, p95 %.2f ms, max %.2f ms; client CPU %.1f%%",
                    consoles, cameras.count, stream, started.load(ordering: .relaxed), packets.load(ordering: .relaxed), seconds, percentile(0.5),
                    percentile(0.95), sorted.last ?? .nan, cpu / seconds * 100))
            _ = remote
        }
    }
}
