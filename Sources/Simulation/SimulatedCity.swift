public import Foundation

/// What the simulator needs to know of one camera: who it is and which cameras are
/// reachable from it by street.
public struct SimulatedCameraSpec: Sendable, Hashable {
    public let id: String
    public let name: String
    public let location: String
    public let neighbours: [String]

    public init(id: String, name: String, location: String, neighbours: [String]) {
        self.id = id
        self.name = name
        self.location = location
        self.neighbours = neighbours
    }
}

/// A named colour of the simulated world, as a witness would say it.
public enum SimulatedColor: String, Sendable, CaseIterable, Codable {
    case red, white, black, blue, grey, silver, green, yellow, brown, orange, maroon, pink

    /// The colour in sRGB.
    public var rgb: (r: UInt8, g: UInt8, b: UInt8) {
        switch self {
        case .red: return (196, 28, 36)
        case .white: return (232, 232, 228)
        case .black: return (24, 24, 28)
        case .blue: return (28, 58, 158)
        case .grey: return (118, 120, 124)
        case .silver: return (178, 181, 187)
        case .green: return (28, 108, 58)
        case .yellow: return (228, 188, 36)
        case .brown: return (110, 72, 40)
        case .orange: return (226, 118, 30)
        case .maroon: return (112, 24, 34)
        case .pink: return (226, 122, 152)
        }
    }
}

/// How a camera's scene is lit: the analysis must name colours under all of them.
public enum SimulatedLighting: String, Sendable, CaseIterable, Codable {
    /// Overcast daylight: the colours as painted.
    case day
    /// In a building's shade: darker and bluish.
    case shade
    /// Low sun: brighter and warm.
    case lowSun = "low-sun"
    /// Night under sodium street lights: dark and orange.
    case night
}

/// What kind of thing moves through the city.
public enum AgentKind: String, Sendable, Codable {
    case car, van, pedestrian
}

/// Which way an agent crosses a camera's picture.
public enum CrossingDirection: String, Sendable, Codable {
    case leftToRight = "left-to-right"
    case rightToLeft = "right-to-left"
}

/// Something that moves through the city: a vehicle or a pedestrian, with the colour
/// an investigator would search for.
public struct SimulatedAgent: Sendable, Hashable, Codable {
    public let id: String
    public let kind: AgentKind
    public let color: SimulatedColor
}

/// One passage of an agent through one camera's view, in loop time (seconds from the
/// start of the loop; `enter` is in [0, loop), `exit` may pass the loop's end and wrap).
public struct Visit: Sendable, Hashable {
    public let agent: SimulatedAgent
    public let cameraID: String
    public let enter: Double
    public let exit: Double
    public let direction: CrossingDirection
    /// The camera this agent was seen on just before, and when it left it (loop time,
    /// possibly negative for the previous loop), nil for the first passage of its route.
    public let previousCameraID: String?
    /// 0 = far lane or far pavement, 1 = near lane or near pavement.
    public let lane: Int
    /// Seconds the vehicle stands still in the picture (waiting at a light), 0 when it drives through.
    public var pause: Double = 0
    /// Where it stops, as a fraction of its crossing.
    public var pauseAt: Double = 0.5
}

/// A parked vehicle: in one camera's picture for the whole loop.
public struct ParkedVehicle: Sendable, Hashable {
    public let agent: SimulatedAgent
    public let cameraID: String
    /// Left edge, as a fraction of the picture's width.
    public let position: Double
}

/// The simulated town: the cameras, the agents that move between them along the
/// neighbour graph, and the ground truth of what each camera shows when.
///
/// Everything is a pure function of the camera list and the seed. The footage is a loop
/// of `loopSeconds` anchored to the Unix epoch: at wall time T every camera shows loop
/// time T mod `loopSeconds`, so all cameras agree and the truth repeats with the loop.
public struct SimulatedCity: Sendable {
    public let cameras: [SimulatedCameraSpec]
    public let loopSeconds: Int
    public let framesPerSecond: Int
    public let seed: UInt64
    public let agents: [SimulatedAgent]
    /// Every passage, sorted by camera then entry time.
    public let visits: [Visit]
    public let parked: [ParkedVehicle]
    private let visitsByCamera: [String: [Visit]]

    /// Seconds a vehicle takes to cross a picture, and to drive to the next camera.
    static let vehicleCrossing = 4.0...7.0
    static let vehicleTravel = 6.0...16.0
    static let pedestrianCrossing = 12.0...20.0
    static let pedestrianTravel = 20.0...45.0
    /// Seconds a waiting vehicle stands still, and the share of passages that wait.
    static let waiting = 5.0...12.0
    static let waitingShare = 1.0 / 8

    public init(cameras: [SimulatedCameraSpec], loopSeconds: Int = 60, framesPerSecond: Int = 25, seed: UInt64 = 2017) {
        precondition(loopSeconds > 0 && 86_400 % loopSeconds == 0, "the loop must divide a day")
        self.cameras = cameras
        self.loopSeconds = loopSeconds
        self.framesPerSecond = framesPerSecond
        self.seed = seed
        let known = Dictionary(cameras.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var random = StableRandom(seed: seed ^ StableRandom.seed(cameras.map(\.id).joined(separator: ",")))

        // About five vehicles and one or two pedestrians per camera and minute of loop (some wait in a picture).
        let vehicleCount = max(3, cameras.count * 5 * loopSeconds / 60 / 5)
        let pedestrianCount = max(2, cameras.count / 2)
        var agents: [SimulatedAgent] = []
        for index in 0..<vehicleCount {
            agents.append(
                SimulatedAgent(
                    id: String(format: "V%03d", index + 1), kind: random.double(0, 1) < 0.8 ? .car : .van,
                    color: SimulatedCity.vehicleColor(&random, index: index)))
        }
        let coats: [SimulatedColor] = [.black, .blue, .grey, .brown, .red, .green, .white, .yellow, .orange]
        for index in 0..<pedestrianCount {
            agents.append(
                SimulatedAgent(
                    id: String(format: "P%03d", index + 1), kind: .pedestrian,
                    color: coats[Int(random.next() % UInt64(coats.count))]))
        }

        var visits: [Visit] = []
        let loop = Double(loopSeconds)
        if !cameras.isEmpty {
            for agent in agents {
                let walking = agent.kind == .pedestrian
                var camera = cameras[Int(random.next() % UInt64(cameras.count))]
                var time = random.double(0, loop)
                let end = time + loop
                var previous: String? = nil
                var lastCamera: String? = nil
                var lane = Int(random.next() % 2)
                while true {
                    let crossing = random.double(
                        walking ? SimulatedCity.pedestrianCrossing.lowerBound : SimulatedCity.vehicleCrossing.lowerBound,
                        walking ? SimulatedCity.pedestrianCrossing.upperBound : SimulatedCity.vehicleCrossing.upperBound)
                    if time + crossing > end { break }
                    let direction: CrossingDirection = lane == 1 ? .leftToRight : .rightToLeft
                    // One vehicle passage in six waits at a light in the picture.
                    let waits = !walking && random.double(0, 1) < SimulatedCity.waitingShare
                    let pause = waits ? random.double(SimulatedCity.waiting.lowerBound, SimulatedCity.waiting.upperBound) : 0
                    let pauseAt = waits ? random.double(0.35, 0.6) : 0.5
                    if time + crossing + pause > end { break }
                    var visit = Visit(
                        agent: agent, cameraID: camera.id, enter: time.truncatingRemainder(dividingBy: loop),
                        exit: time.truncatingRemainder(dividingBy: loop) + crossing + pause, direction: direction,
                        previousCameraID: previous, lane: lane)
                    visit.pause = pause
                    visit.pauseAt = pauseAt
                    visits.append(visit)
                    previous = camera.id
                    time += crossing + pause
                    time += random.double(
                        walking ? SimulatedCity.pedestrianTravel.lowerBound : SimulatedCity.vehicleTravel.lowerBound,
                        walking ? SimulatedCity.pedestrianTravel.upperBound : SimulatedCity.vehicleTravel.upperBound)
                    // Next camera: a neighbour, not straight back where it came from when it can.
                    let options = camera.neighbours.filter { known[$0] != nil }
                    let forward = options.filter { $0 != lastCamera }
                    let choices = forward.isEmpty ? options : forward
                    lastCamera = camera.id
                    if let next = choices.isEmpty ? nil : choices[Int(random.next() % UInt64(choices.count))] {
                        camera = known[next]!
                    }
                    lane = Int(random.next() % 2)
                }
            }
        }
        visits.sort { ($0.cameraID, $0.enter, $0.agent.id) < ($1.cameraID, $1.enter, $1.agent.id) }
        visits = SimulatedCity.separateLanes(visits, loop: loop)

        var parked: [ParkedVehicle] = []
        for camera in cameras {
            var local = StableRandom(seed: seed ^ StableRandom.seed(camera.id, salt: 7))
            let count = Int(local.next() % 3) + 1
            var position = local.double(0.02, 0.2)
            for index in 0..<count {
                let agent = SimulatedAgent(
                    id: "S-\(camera.id)-\(index + 1)", kind: local.double(0, 1) < 0.85 ? .car : .van,
                    color: SimulatedCity.vehicleColor(&local, index: index + 7))
                parked.append(ParkedVehicle(agent: agent, cameraID: camera.id, position: position))
                position += local.double(0.22, 0.34)
                if position > 0.8 { break }
            }
        }

        self.agents = agents
        self.visits = visits
        self.parked = parked
        self.visitsByCamera = Dictionary(grouping: visits, by: \.cameraID)
    }

    /// Vehicles do not drive through each other: a passage takes the lane that is free
    /// for its whole crossing (the lane sets the direction); pedestrians likewise on the
    /// two pavements. When both are taken the passage keeps its lane.
    private static func separateLanes(_ visits: [Visit], loop: Double) -> [Visit] {
        func overlap(_ a: Visit, _ b: Visit) -> Bool {
            let margin = 0.3
            return [-loop, 0, loop].contains { shift in
                a.enter - margin < b.exit + shift && b.enter + shift - margin < a.exit
            }
        }
        var result: [Visit] = []
        for visit in visits {
            let sameKind = result.filter {
                $0.cameraID == visit.cameraID && ($0.agent.kind == .pedestrian) == (visit.agent.kind == .pedestrian)
            }
            let preferred = [visit.lane, 1 - visit.lane]
            let lane = preferred.first { lane in !sameKind.contains { $0.lane == lane && overlap($0, visit) } } ?? visit.lane
            var moved = Visit(
                agent: visit.agent, cameraID: visit.cameraID, enter: visit.enter, exit: visit.exit,
                direction: lane == 1 ? .leftToRight : .rightToLeft, previousCameraID: visit.previousCameraID, lane: lane)
            moved.pause = visit.pause
            moved.pauseAt = visit.pauseAt
            result.append(moved)
        }
        return result
    }

    /// The colour mix of French traffic, with red cars and their close shades (maroon,
    /// orange, pink) planted often enough that every city has several at once.
    private static func vehicleColor(_ random: inout StableRandom, index: Int) -> SimulatedColor {
        switch index % 9 {
        case 2, 6: return .red
        case 4: return [.maroon, .orange, .pink][(index / 9) % 3]
        default: break
        }
        let roll = random.double(0, 1)
        switch roll {
        case ..<0.26: return .white
        case ..<0.44: return .grey
        case ..<0.61: return .black
        case ..<0.73: return .silver
        case ..<0.84: return .blue
        case ..<0.90: return .red
        case ..<0.93: return .green
        case ..<0.95: return .brown
        default: return .yellow
        }
    }

    public func camera(_ id: String) -> SimulatedCameraSpec? { cameras.first { $0.id == id } }

    /// The passages through one camera, by entry time.
    public func visits(camera id: String) -> [Visit] { visitsByCamera[id] ?? [] }

    public func parked(camera id: String) -> [ParkedVehicle] { parked.filter { $0.cameraID == id } }

    /// How the camera's scene is lit: a fixed draw per camera (four in ten in daylight,
    /// the others in shade, low sun or at night).
    public func lighting(camera id: String) -> SimulatedLighting {
        var random = StableRandom(seed: seed ^ StableRandom.seed(id, salt: 11))
        let roll = random.double(0, 1)
        switch roll {
        case ..<0.4: return .day
        case ..<0.6: return .shade
        case ..<0.8: return .lowSun
        default: return .night
        }
    }

    /// Where a lamp post stands in front of the traffic, as a fraction of the width, for
    /// the cameras that have one (about a third): it hides part of each passing vehicle.
    public func lampPost(camera id: String) -> Double? {
        var random = StableRandom(seed: seed ^ StableRandom.seed(id, salt: 13))
        let roll = random.double(0, 1)
        return roll < 0.35 ? random.double(0.3, 0.7) : nil
    }

    /// Loop time of a wall-clock instant.
    public func loopTime(at date: Date) -> Double {
        let seconds = date.timeIntervalSince1970
        let loop = Double(loopSeconds)
        return seconds - (seconds / loop).rounded(.down) * loop
    }

    /// Where a passage is at loop time `t`: the fraction of the crossing done (0 enters,
    /// 1 leaves), or nil when the agent is not in the picture then.
    public func progress(of visit: Visit, atLoopTime t: Double) -> Double? {
        let loop = Double(loopSeconds)
        for candidate in [t, t + loop] where candidate >= visit.enter && candidate < visit.exit {
            let elapsed = candidate - visit.enter
            let moving = visit.exit - visit.enter - visit.pause
            let stop = visit.pauseAt * moving
            if elapsed < stop { return elapsed / moving }
            if elapsed < stop + visit.pause { return visit.pauseAt }
            return (elapsed - visit.pause) / moving
        }
        return nil
    }

    /// One line of ground truth: an agent seen by a camera between two instants.
    public struct Sighting: Sendable, Hashable {
        public let agent: SimulatedAgent
        public let cameraID: String
        public let start: Date
        public let end: Date
        public let direction: CrossingDirection
        public let previousCameraID: String?
        /// A parked vehicle: in the picture for the whole period asked.
        public var parked = false
        /// Seconds it stood still in the picture (waiting at a light).
        public var pause: Double = 0
        /// Where it is in the picture: its lane (0 far, 1 near), or for a parked vehicle the
        /// left edge of its place (a fraction of the width).
        public var lane = 0
        public var parkedAt: Double? = nil

        /// The bottom of its box and (parked) the centre of its length, as fractions of the picture.
        public var placeInPicture: (bottom: Double, centreX: Double?) {
            if let parkedAt {
                return (StreetScene.parkingBottom, parkedAt + (agent.kind == .van ? 0.17 : 0.15) / 2)
            }
            if agent.kind == .pedestrian { return (lane == 0 ? StreetScene.farPavementBottom : StreetScene.nearPavementBottom, nil) }
            return (lane == 0 ? StreetScene.farLaneBottom : StreetScene.nearLaneBottom, nil)
        }
    }

    /// Every passage that overlaps [from, to), in wall-clock time, ordered by start.
    public func sightings(from: Date, to: Date, camera: String? = nil) -> [Sighting] {
        let loop = Double(loopSeconds)
        let firstLoop = (from.timeIntervalSince1970 / loop).rounded(.down) - 1
        let lastLoop = (to.timeIntervalSince1970 / loop).rounded(.down)
        var result: [Sighting] = []
        let candidates = camera.map { visits(camera: $0) } ?? visits
        var loopIndex = firstLoop
        while loopIndex <= lastLoop {
            let base = loopIndex * loop
            for visit in candidates {
                let start = Date(timeIntervalSince1970: base + visit.enter)
                let end = Date(timeIntervalSince1970: base + visit.exit)
                if end > from && start < to {
                    var sighting = Sighting(
                        agent: visit.agent, cameraID: visit.cameraID, start: start, end: end,
                        direction: visit.direction, previousCameraID: visit.previousCameraID)
                    sighting.pause = visit.pause
                    sighting.lane = visit.lane
                    result.append(sighting)
                }
            }
            loopIndex += 1
        }
        for vehicle in parked where camera == nil || vehicle.cameraID == camera {
            var sighting = Sighting(
                agent: vehicle.agent, cameraID: vehicle.cameraID, start: from, end: to, direction: .leftToRight, previousCameraID: nil)
            sighting.parked = true
            sighting.parkedAt = vehicle.position
            result.append(sighting)
        }
        return result.sorted { ($0.start, $0.cameraID, $0.agent.id) < ($1.start, $1.cameraID, $1.agent.id) }
    }
}
