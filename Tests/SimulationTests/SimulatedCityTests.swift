import Foundation
import Media
import Simulation
import TestSupport
import Testing

/// A small town: a street of four cameras, and a loose one joined at the end.
let townCameras = [
    SimulatedCameraSpec(id: "a", name: "Rue A", location: "Rue A", neighbours: ["b"]),
    SimulatedCameraSpec(id: "b", name: "Rue B", location: "Rue B", neighbours: ["a", "c"]),
    SimulatedCameraSpec(id: "c", name: "Place C", location: "Place C", neighbours: ["b", "d", "e"]),
    SimulatedCameraSpec(id: "d", name: "Rue D", location: "Rue D", neighbours: ["c"]),
    SimulatedCameraSpec(id: "e", name: "Pont E", location: "Pont E", neighbours: ["c"]),
]

@Suite struct SimulatedCityTests {
    @Test func theSameCameraListGivesTheSameCity() {
        let first = SimulatedCity(cameras: townCameras)
        let second = SimulatedCity(cameras: townCameras)
        #expect(first.visits == second.visits)
        #expect(first.parked == second.parked)
        #expect(SimulatedCity(cameras: townCameras, seed: 7).visits != first.visits)
    }

    @Test func vehiclesInOneLaneNeverOverlap() {
        let city = SimulatedCity(cameras: townCameras)
        for camera in townCameras {
            let vehicles = city.visits(camera: camera.id).filter { $0.agent.kind != .pedestrian }
            var overlaps = 0
            for (i, a) in vehicles.enumerated() {
                for b in vehicles[(i + 1)...] where a.lane == b.lane && a.enter < b.exit && b.enter < a.exit { overlaps += 1 }
            }
            #expect(overlaps <= vehicles.count / 4, "camera \(camera.id): \(overlaps) overlaps in \(vehicles.count)")
        }
    }

    @Test func everyCameraSeesTrafficOfSeveralColours() {
        let city = SimulatedCity(cameras: townCameras)
        for camera in townCameras {
            #expect(city.visits(camera: camera.id).count >= 2, "camera \(camera.id)")
        }
        let colours = Set(city.visits.map(\.agent.color))
        #expect(colours.count >= 4)
        #expect(city.visits.contains { $0.agent.color == .red && $0.agent.kind != .pedestrian })
    }

    @Test func agentsMoveOnlyToNeighboursAfterATravelTime() {
        let city = SimulatedCity(cameras: townCameras)
        let neighbours = Dictionary(uniqueKeysWithValues: townCameras.map { ($0.id, Set($0.neighbours)) })
        let byAgent = Dictionary(grouping: city.visits, by: \.agent.id)
        var checked = 0
        for (_, visits) in byAgent {
            // Rebuild each route in absolute loop time: a visit's previous camera is the one before it.
            for visit in visits {
                guard let previous = visit.previousCameraID else { continue }
                #expect(neighbours[previous]?.contains(visit.cameraID) == true, "\(previous) -> \(visit.cameraID)")
                let before = visits.filter { $0.cameraID == previous }
                let loop = Double(city.loopSeconds)
                let gaps = before.map { earlier -> Double in
                    var gap = visit.enter - earlier.exit
                    while gap < 0 { gap += loop }
                    return gap.truncatingRemainder(dividingBy: loop)
                }
                let range = visit.agent.kind == .pedestrian ? 20.0...45.0 : 6.0...16.0
                #expect(gaps.contains { range.contains($0) }, "\(visit.agent.id) \(previous) -> \(visit.cameraID): \(gaps)")
                checked += 1
            }
        }
        #expect(checked > 5)
    }

    @Test func sightingsRepeatWithTheLoopInWallClockTime() {
        let city = SimulatedCity(cameras: townCameras)
        let start = Date(timeIntervalSince1970: 1_800_000_000)  // a multiple of 60 s
        let firstMinute = city.sightings(from: start, to: start.addingTimeInterval(60), camera: "c")
        let secondMinute = city.sightings(from: start.addingTimeInterval(60), to: start.addingTimeInterval(120), camera: "c")
        #expect(!firstMinute.isEmpty)
        let shifted = secondMinute.map { $0.start.addingTimeInterval(-60) }
        #expect(Set(firstMinute.map(\.start)).intersection(shifted).count >= firstMinute.count - 2)
        for sighting in firstMinute { #expect(sighting.end > sighting.start && sighting.cameraID == "c") }
    }
}

@Suite struct StreetSceneTests {
    @Test func renderingIsDeterministicAndMoves() {
        let city = SimulatedCity(cameras: townCameras)
        let scene = StreetScene(camera: townCameras[2], city: city, width: 320, height: 180, clockStart: Date(timeIntervalSince1970: 0), timeZone: TimeZone(identifier: "Europe/Paris")!)
        #expect(scene.render(frame: 100).luma == scene.render(frame: 100).luma)
        // Something moves between two seconds when an agent is in view.
        let busy = city.visits(camera: "c").first!
        let frame = Int((busy.enter + 0.5) * 25) % (city.loopSeconds * 25)
        let a = scene.render(frame: frame), b = scene.render(frame: frame + 25)
        let changed = zip(a.luma, b.luma).filter { abs(Int($0) - Int($1)) > 20 }.count
        #expect(changed > 200)
    }

    /// The whole chain: the simulator's footage, decoded by the media layer, shows the
    /// vehicle the ground truth says, in its colour, where it says.
    @Test func decodedFootageShowsTheVehiclesOfTheGroundTruth() throws {
        let city = SimulatedCity(cameras: townCameras)
        let cache = SimulatedFootageCache(directory: TestPaths.scratch.appendingPathComponent("sim-footage"))
        let zone = TimeZone(identifier: "Europe/Paris")!
        // The daylit camera without a lamp post with the most traffic (the others' light
        // changes the colours: the analysis's tests cover that).
        let camera = townCameras.map(\.id).filter { city.lighting(camera: $0) == .day && city.lampPost(camera: $0) == nil }.max {
            city.visits(camera: $0).filter { $0.agent.kind != .pedestrian }.count
                < city.visits(camera: $1).filter { $0.agent.kind != .pedestrian }.count
        }!
        let spec = townCameras.first { $0.id == camera }!
        let file = try cache.footage(city: city, camera: camera, stream: .sub, timeZone: zone)
        let fields = try FFprobe.videoStream(file.path)
        #expect(fields["codec_name"] == "h264" && fields["width"] == "640" && fields["height"] == "360")

        let scene = StreetScene(camera: spec, city: city, width: 640, height: 360, clockStart: Date(), timeZone: zone)
        // The middle of each vehicle's passage, well inside the picture.
        var expectations: [(frame: Int, color: SimulatedColor, box: (x0: Int, y0: Int, x1: Int, y1: Int))] = []
        for visit in city.visits(camera: camera) where visit.agent.kind != .pedestrian {
            let t = ((visit.enter + visit.exit) / 2).truncatingRemainder(dividingBy: Double(city.loopSeconds))
            guard let box = scene.bodyRectangle(of: visit, atLoopTime: t), box.x0 > 0, box.x1 < 640 else { continue }
            let frame = Int((t * 25).rounded()) % (city.loopSeconds * 25)
            // Skip moments where another agent could overlap this one.
            let others = city.visits(camera: camera).filter { $0 != visit && $0.lane == visit.lane && city.progress(of: $0, atLoopTime: Double(frame) / 25) != nil }
            if others.isEmpty { expectations.append((frame, visit.agent.color, box)) }
        }
        #expect(expectations.count >= 2, "vehicle visits at \(camera): \(city.visits(camera: camera).map { "\($0.agent.id) \($0.agent.kind) \($0.enter)-\($0.exit) lane \($0.lane) box \(String(describing: scene.bodyRectangle(of: $0, atLoopTime: ($0.enter + $0.exit) / 2)))" })")

        let scaler = try Scaler(outputWidth: 640, outputHeight: 360)
        var pictures: [Int: RGBImage] = [:]
        let wanted = Set(expectations.map(\.frame))
        let index = try decodeEveryFrame(try DemuxerSource(url: file.path)) { frame, index in
            if wanted.contains(index) { pictures[index] = try scaler.scale(frame) }
        }
        #expect(index == city.loopSeconds * 25)

        for expectation in expectations {
            let picture = try #require(pictures[expectation.frame])
            let box = expectation.box
            // The body's inner part, away from edges blurred by the encoder.
            let inset = 4
            let mean = picture.meanColor(x: box.x0 + inset, y: box.y0 + 2, width: box.x1 - box.x0 - 2 * inset, height: max(1, box.y1 - box.y0 - 4))
            // Lit from above: the body band is painted at about 0.9 of its colour.
            let target = expectation.color.rgb
            let distance = abs(mean.r - 0.9 * Double(target.r)) + abs(mean.g - 0.9 * Double(target.g)) + abs(mean.b - 0.9 * Double(target.b))
            #expect(distance < 55, "frame \(expectation.frame) \(expectation.color): mean \(mean)")
        }
    }
}

@Suite struct SimulatedSourceTests {
    /// A one-second loop, so a test sees it wrap within seconds.
    @Test func replaysInRealTimeWithContinuousTimestampsAcrossLoops() throws {
        let city = SimulatedCity(cameras: Array(townCameras.prefix(2)), loopSeconds: 1)
        let cache = SimulatedFootageCache(directory: TestPaths.scratch.appendingPathComponent("sim-footage"), keyframeInterval: 10)
        let runtime = SimulatedCityRuntime(city: city, cache: cache, timeZone: TimeZone(identifier: "UTC")!)
        let source = try runtime.open(url: "sim://a/sub")
        #expect(source.video.parameters.codecName == "h264")
        #expect(source.video.timeBase == Rational.mpeg90kHz)
        var previous: Int64? = nil
        var first: Packet? = nil
        let start = Date()
        for _ in 0..<75 {  // three loops
            let packet = try #require(try source.read())
            if first == nil { first = packet }
            let pts = try #require(packet.pts)
            if let previous { #expect(pts - previous == 3600, "gap \(pts - previous)") }
            previous = pts
        }
        // The first packet is a keyframe from just before "now" (the group of pictures sent at once).
        #expect(first?.isKeyframe == true)
        let firstTime = Double(first!.pts!) / 90_000
        #expect(abs(firstTime - start.timeIntervalSince1970) < 1.0)
        // Paced to the wall clock: the last packet is not ahead of it.
        #expect(Double(previous!) / 90_000 <= Date().timeIntervalSince1970 + 0.05)
    }

    @Test func rejectsMalformedAddresses() {
        let runtime = SimulatedCityRuntime(city: SimulatedCity(cameras: townCameras), timeZone: TimeZone(identifier: "UTC")!)
        #expect(throws: MediaError.self) { _ = try runtime.open(url: "sim://a/fisheye") }
        #expect(throws: MediaError.self) { _ = try runtime.open(url: "sim://nowhere/main") }
        #expect(SimulatedCityRuntime.parse("sim://a/main")?.camera == "a")
    }
}
