/// Follows objects from picture to picture within one camera: one track per passage of an
/// object, not boxes per picture. Greedy association on overlap, on the distance to where
/// the track's speed puts it, and on likeness (a box that looks different is another
/// object). A moving track ends when it has not been seen for `movingGap` seconds; a
/// standing one (parked, waiting) after `standingGap`, and one seen once after `onceGap`,
/// so that the periodic look at the whole picture keeps a parked car one track. Pure.
public struct Tracker: Sendable {
    public struct Track: Sendable {
        public let id: Int
        public var boxes: [(time: Double, box: Box)] = []
        public var classVotes: [ObjectClass: Double] = [:]
        public var bestConfidence = 0.0
        public var lastSeen: Double
        /// The mean of its recent descriptors (nil when none was given).
        public var appearance: [Float]?

        public var first: (time: Double, box: Box) { boxes[0] }
        public var last: (time: Double, box: Box) { boxes[boxes.count - 1] }
        public var hits: Int { boxes.count }

        public var objectClass: ObjectClass {
            classVotes.max { $0.value < $1.value || ($0.value == $1.value && $0.key.rawValue > $1.key.rawValue) }?.key ?? .car
        }

        /// Whether it has moved less than half its width since it was first seen.
        public var isStanding: Bool {
            let a = first.box, b = last.box
            let moved = ((a.centreX - b.centreX) * (a.centreX - b.centreX) + (a.centreY - b.centreY) * (a.centreY - b.centreY)).squareRoot()
            return moved < 0.5 * max(1, a.width)
        }

        /// Whether it has been seen twice or more and stands still now: it is then kept
        /// longer unseen, and only what covers it is it.
        public var isStopped: Bool {
            guard boxes.count >= 2 else { return false }
            let (vx, vy) = velocity
            return (vx * vx + vy * vy).squareRoot() < 12
        }

        /// Speed in pixels per second over its last boxes.
        var velocity: (Double, Double) {
            guard boxes.count >= 2 else { return (0, 0) }
            let a = boxes[max(0, boxes.count - 4)], b = last
            let dt = b.time - a.time
            guard dt > 0 else { return (0, 0) }
            return ((b.box.centreX - a.box.centreX) / dt, (b.box.centreY - a.box.centreY) / dt)
        }

        func predicted(at time: Double) -> Box {
            let (vx, vy) = velocity
            let dt = time - last.time
            var box = last.box
            box.x0 += vx * dt; box.x1 += vx * dt
            box.y0 += vy * dt; box.y1 += vy * dt
            return box
        }
    }

    public private(set) var tracks: [Track] = []
    private var nextID = 1
    public var movingGap = 1.6
    public var standingGap = 25.0
    /// How long an object seen once is waited for (a parked car's next look at the whole picture).
    public var onceGap = 12.0
    /// Least likeness (`Appearance.similarity`) of a box to a track's appearance for it to join.
    public var minimumLikeness = 0.6
    /// How far along the street, in its own lengths a second, a vehicle seen once may have gone.
    public var lengthsPerSecond = 3.0
    /// Tracks seen fewer times are dropped as noise when they end.
    public var minimumHits = 2

    public init() {}

    /// Matches `detections` seen at `time` to the tracks; returns, for each detection, the
    /// id of its track, and the tracks that ended.
    public mutating func update(time: Double, detections: [Detection]) -> (assigned: [Int], ended: [Track]) {
        var pairs: [(score: Double, track: Int, detection: Int)] = []
        for (t, track) in tracks.enumerated() {
            let guess = track.predicted(at: time)
            for (d, detection) in detections.enumerated() where detection.objectClass.isVehicle == track.objectClass.isVehicle {
                var likeness = 1.0
                if let a = track.appearance, let b = detection.descriptor {
                    likeness = Appearance.similarity(a, b)
                    if likeness < minimumLikeness { continue }
                }
                // The detector's box of one object varies from picture to picture (the whole
                // car, then only its body): each side may be up to 2.5 times the last one.
                let w = detection.box.width / max(1, track.last.box.width), h = detection.box.height / max(1, track.last.box.height)
                if min(w, h) < 0.4 || max(w, h) > 2.5 { continue }
                let score: Double
                if track.isStopped {
                    // A standing object stays where it is: only what covers it is it (a car
                    // passing in front of a parked one is not the parked one).
                    let overlap = track.last.box.iou(detection.box)
                    score = overlap >= 0.3 ? 1 + overlap : 0
                } else if track.hits == 1 {
                    // Seen once: it may be standing or on its way; near where it was, or for a
                    // vehicle along the street as far as it drives in the time (a car at town
                    // speed, seen side on, drives about three of its lengths a second).
                    let overlap = track.last.box.iou(detection.box)
                    let dx = abs(track.last.box.centreX - detection.box.centreX) / max(1, max(detection.box.width, track.last.box.width))
                    let dy = abs(track.last.box.centreY - detection.box.centreY) / max(1, max(detection.box.height, track.last.box.height))
                    // A second or so at most: one seen once waits long (a parked car's next look),
                    // and a car leaving on one side is not the one coming in on the other later.
                    let reach = track.objectClass.isVehicle ? min(2.5, max(0.9, lengthsPerSecond * (time - track.last.time))) : 0.9
                    score = overlap > 0.2 ? 1 + overlap : (dx < reach && dy < 0.5 ? max(0.05, 1 - dx / reach) : 0)
                } else {
                    let overlap = guess.iou(detection.box)
                    let dx = guess.centreX - detection.box.centreX, dy = guess.centreY - detection.box.centreY
                    let distance = (dx * dx + dy * dy).squareRoot() / max(1, max(detection.box.width, guess.width))
                    // Not from one lane to the other: across the street, only less than half its height.
                    let across = abs(guess.y1 - detection.box.y1) / max(1, max(detection.box.height, guess.height))
                    score = across > 0.5 ? 0 : (overlap > 0.2 ? 1 + overlap : (distance < 0.5 ? 1 - distance : 0))
                }
                if score > 0 { pairs.append((score * likeness, t, d)) }
            }
        }
        var assigned = [Int](repeating: 0, count: detections.count)
        var trackTaken = Set<Int>(), detectionTaken = Set<Int>()
        for pair in pairs.sorted(by: { $0.score > $1.score }) where !trackTaken.contains(pair.track) && !detectionTaken.contains(pair.detection) {
            trackTaken.insert(pair.track)
            detectionTaken.insert(pair.detection)
            add(detections[pair.detection], at: time, to: pair.track)
            assigned[pair.detection] = tracks[pair.track].id
        }
        for (d, detection) in detections.enumerated() where !detectionTaken.contains(d) {
            tracks.append(Track(id: nextID, lastSeen: time))
            nextID += 1
            add(detection, at: time, to: tracks.count - 1)
            assigned[d] = tracks[tracks.count - 1].id
        }
        return (assigned, expire(before: time))
    }

    private mutating func add(_ detection: Detection, at time: Double, to index: Int) {
        tracks[index].boxes.append((time, detection.box))
        tracks[index].classVotes[detection.objectClass, default: 0] += detection.confidence
        tracks[index].bestConfidence = max(tracks[index].bestConfidence, detection.confidence)
        tracks[index].lastSeen = time
        if let seen = detection.descriptor {
            // A running mean, so that a track follows slow changes (turning, light).
            if let kept = tracks[index].appearance, kept.count == seen.count {
                tracks[index].appearance = Appearance.mean([kept, kept, seen])
            } else {
                tracks[index].appearance = seen
            }
        }
    }

    private mutating func expire(before time: Double) -> [Track] {
        var ended: [Track] = []
        tracks.removeAll { track in
            let gap = track.hits == 1 ? onceGap : (track.isStopped ? standingGap : movingGap)
            guard time - track.lastSeen > gap else { return false }
            if track.hits >= minimumHits { ended.append(track) }
            return true
        }
        return ended
    }

    /// Ends every track (the end of the footage analysed).
    public mutating func finish() -> [Track] {
        let ended = tracks.filter { $0.hits >= minimumHits }
        tracks = []
        return ended
    }
}

/// Which way an object went across the picture.
public enum Direction: String, Sendable, Codable {
    case leftToRight = "left-to-right"
    case rightToLeft = "right-to-left"
    case towards
    case away
    case standing

    public static func of(_ track: Tracker.Track) -> Direction {
        if track.isStanding { return .standing }
        let dx = track.last.box.centreX - track.first.box.centreX, dy = track.last.box.centreY - track.first.box.centreY
        if abs(dx) >= abs(dy) { return dx > 0 ? .leftToRight : .rightToLeft }
        return dy > 0 ? .towards : .away
    }
}
