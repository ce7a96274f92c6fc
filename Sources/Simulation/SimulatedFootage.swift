public import Foundation
public import Media
import Synchronization

/// The two streams a simulated camera offers, as real IP cameras do.
public enum SimulatedStream: String, Sendable, CaseIterable {
    /// Full resolution: recording and the full pane.
    case main
    /// Low resolution: wall tiles.
    case sub

    public var width: Int { self == .main ? 1280 : 640 }
    public var height: Int { self == .main ? 720 : 360 }
    /// Bit rate the encoder aims at, in bit/s.
    public var bitRate: Int { self == .main ? 2_000_000 : 450_000 }
}

/// Builds and keeps the simulated cameras' footage: each camera's scene is rendered and
/// encoded once (H.264 with libx264 when present) into a Matroska file, then replayed
/// by `SimulatedSource` at real-time pace, so a simulated camera costs about what
/// receiving a real one costs.
///
/// Files are named by a digest of everything that shapes the picture, written to a
/// temporary name and renamed when complete, so a crash never leaves a half file in use.
public final class SimulatedFootageCache: Sendable {
    public let directory: URL
    /// Keyframe interval of the footage, in frames (2 s at 25 fps).
    public let keyframeInterval: Int
    /// One build at a time in a process: footage building is CPU-bound, the encoder
    /// already uses both cores.
    private let buildLock = Mutex<Void>(())

    /// `directory` nil uses $VIGIE_CACHE/sim, else $XDG_CACHE_HOME/vigie/sim, else ~/.cache/vigie/sim.
    public init(directory: URL? = nil, keyframeInterval: Int = 50) {
        self.directory = directory ?? SimulatedFootageCache.defaultDirectory()
        self.keyframeInterval = keyframeInterval
    }

    /// x264 preset of the footage.
    static let preset = "superfast"

    public static func defaultDirectory() -> URL {
        let environment = ProcessInfo.processInfo.environment
        if let base = environment["VIGIE_CACHE"], !base.isEmpty {
            return URL(fileURLWithPath: base).appendingPathComponent("sim")
        }
        if let base = environment["XDG_CACHE_HOME"], !base.isEmpty {
            return URL(fileURLWithPath: base).appendingPathComponent("vigie/sim")
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/vigie/sim")
    }

    /// The file that holds (or will hold) this camera's footage.
    public func path(city: SimulatedCity, camera: String, stream: SimulatedStream) -> URL {
        var description = "vigie-sim-v2|\(SimulatedFootageCache.preset)|\(camera)|\(stream.rawValue)|\(stream.width)x\(stream.height)|\(stream.bitRate)"
        description += "|\(city.loopSeconds)|\(city.framesPerSecond)|\(keyframeInterval)|\(city.seed)"
        if let spec = city.camera(camera) { description += "|\(spec.name)" }
        description += "|\(city.lighting(camera: camera).rawValue)|\(city.lampPost(camera: camera).map { String(format: "%.4f", $0) } ?? "-")"
        for visit in city.visits(camera: camera) {
            description += "|\(visit.agent.id),\(visit.agent.kind),\(visit.agent.color),"
            description += String(format: "%.4f,%.4f,%d,%.3f,%.3f", visit.enter, visit.exit, visit.lane, visit.pause, visit.pauseAt)
        }
        for vehicle in city.parked(camera: camera) {
            description += "|\(vehicle.agent.id),\(vehicle.agent.color),\(String(format: "%.4f", vehicle.position))"
        }
        let digest = String(StableRandom.seed(description), radix: 16)
        return directory.appendingPathComponent("\(camera)-\(stream.rawValue)-\(digest).mkv")
    }

    /// Returns the footage file, building it first when it does not exist yet. A build
    /// stops (nothing is kept) when `interrupt` is cancelled.
    public func footage(
        city: SimulatedCity, camera: String, stream: SimulatedStream, timeZone: TimeZone, interrupt: InterruptFlag? = nil
    ) throws(MediaError) -> URL {
        let url = path(city: city, camera: camera, stream: stream)
        if FileManager.default.fileExists(atPath: url.path) { return url }
        guard let spec = city.camera(camera) else {
            throw MediaError(
                kind: .invalidArgument, operation: "simulate", source: "sim://\(camera)/\(stream.rawValue)",
                message: "the simulated city has no camera \(camera)")
        }
        return try buildLock.withLock { _ throws(MediaError) -> URL in
            if FileManager.default.fileExists(atPath: url.path) { return url }
            try build(spec: spec, city: city, stream: stream, timeZone: timeZone, to: url, interrupt: interrupt)
            return url
        }
    }

    private func build(
        spec: SimulatedCameraSpec, city: SimulatedCity, stream: SimulatedStream, timeZone: TimeZone, to url: URL,
        interrupt: InterruptFlag?
    ) throws(MediaError) {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw MediaError(kind: .io, operation: "create cache folder", source: directory.path, message: "\(error)")
        }
        let loopStart = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / Double(city.loopSeconds)).rounded(.down) * Double(city.loopSeconds))
        let scene = StreetScene(
            camera: spec, city: city, width: stream.width, height: stream.height, clockStart: loopStart, timeZone: timeZone)
        var settings = EncoderSettings(
            width: stream.width, height: stream.height, framesPerSecond: city.framesPerSecond,
            keyframeInterval: keyframeInterval, bitRate: stream.bitRate)
        settings.threads = 2
        // Like a camera's encoder: CABAC and deblocking on (x264's ultrafast turns both
        // off, which would make decoding unrealistically cheap).
        settings.preset = SimulatedFootageCache.preset
        let encoder = try Encoder(settings: settings)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).partial.mkv")
        let writer = try StreamCopyWriter(path: temporary.path, streams: [(encoder.parameters, encoder.timeBase)])
        let frames = city.loopSeconds * city.framesPerSecond
        do throws(MediaError) {
            for frame in 0..<frames {
                if interrupt?.isCancelled == true {
                    throw MediaError(kind: .cancelled, operation: "simulate", source: url.lastPathComponent, message: "cancelled")
                }
                for packet in try encoder.encode(scene.render(frame: frame), frameNumber: Int64(frame)) {
                    try writer.write(packet)
                }
            }
            for packet in try encoder.flush() { try writer.write(packet) }
            try writer.close()
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
        if rename(temporary.path, url.path) != 0 {
            throw MediaError(kind: .io, operation: "rename footage", source: url.path, message: String(cString: strerror(errno)))
        }
    }
}
