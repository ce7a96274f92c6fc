public import Foundation
public import RecorderCore

/// Scores an index against a ground truth (the simulated city's): which passage is which
/// true sighting, then the precision and recall of a colour search and the share of a
/// vehicle's true passages that following it finds in its first five results. Pure.
public struct TruthScore: Sendable {
    /// One thing a camera really showed.
    public struct Sighting: Sendable, Hashable {
        public var agent: String
        public var camera: String
        public var vehicle: Bool
        public var colour: String
        public var start: Date
        public var end: Date
        /// Where it stands in the picture: the bottom of its box, and for a parked vehicle
        /// the centre of its length (fractions of the picture).
        public var bottom: Double
        public var centreX: Double?

        public init(agent: String, camera: String, vehicle: Bool, colour: String, start: Date, end: Date, bottom: Double, centreX: Double?) {
            self.agent = agent
            self.camera = camera
            self.vehicle = vehicle
            self.colour = colour
            self.start = start
            self.end = end
            self.bottom = bottom
            self.centreX = centreX
        }
    }

    public let truth: [Sighting]

    public init(truth: [Sighting]) { self.truth = truth }

    /// The true sighting a passage is, if any: same camera, mostly inside its time, at its place.
    public func match(_ passage: Passage) -> Sighting? {
        let duration = max(0.2, passage.end.timeIntervalSince(passage.start))
        var best: (Sighting, Double)? = nil
        for sighting in truth where sighting.camera == passage.camera && sighting.vehicle == (passage.objectClass != "person") {
            let overlap = min(passage.end, sighting.end).timeIntervalSince(max(passage.start, sighting.start))
            guard overlap > 0 else { continue }
            let share = min(1, (overlap + 0.4) / duration)
            guard share >= 0.5, passage.box.count == 4 else { continue }
            guard abs(passage.box[3] - sighting.bottom) < 0.07 else { continue }
            if let x = sighting.centreX, abs((passage.box[0] + passage.box[2]) / 2 - x) > 0.1 { continue }
            if share > (best?.1 ?? 0) { best = (sighting, share) }
        }
        return best?.0
    }

    public struct ColourScore: Sendable, CustomStringConvertible {
        public var colour: String
        public var returned: Int
        public var correct: Int
        public var truthCount: Int
        public var found: Int
        public var precision: Double { returned == 0 ? 0 : Double(correct) / Double(returned) }
        public var recall: Double { truthCount == 0 ? 0 : Double(found) / Double(truthCount) }
        public var description: String {
            String(format: "%@ vehicles: precision %.2f (%d of %d results), recall %.2f (%d of %d true passages)", colour, precision, correct, returned, recall, found, truthCount)
        }
    }

    /// `results`: what the search returned for vehicles of `colour`. True passages shorter
    /// than `minimumSeconds` inside the period are not counted (a car leaving as the period begins).
    public func colourSearch(_ colour: String, results: [Passage], from: Date, to: Date, minimumSeconds: Double = 1.5) -> ColourScore {
        let wanted = truth.filter {
            $0.vehicle && $0.colour == colour && min($0.end, to).timeIntervalSince(max($0.start, from)) >= minimumSeconds
        }
        var foundSightings = Set<Sighting>()
        var correct = 0
        for passage in results {
            if let sighting = match(passage), sighting.colour == colour {
                correct += 1
                foundSightings.insert(sighting)
            }
        }
        return ColourScore(
            colour: colour, returned: results.count, correct: correct, truthCount: wanted.count, found: wanted.filter { foundSightings.contains($0) }.count)
    }

    public struct FollowScore: Sendable, CustomStringConvertible {
        public var vehicles = 0
        public var truePassages = 0
        public var foundInFive = 0
        public var routeSteps = 0
        public var routeCorrect = 0
        public var share: Double { truePassages == 0 ? 0 : Double(foundInFive) / Double(truePassages) }
        public var routeShare: Double { routeSteps == 0 ? 0 : Double(routeCorrect) / Double(routeSteps) }
        public var description: String {
            String(format: "following: %.2f of true passages in the first 5 (%d of %d, %d vehicles); route %.2f correct (%d of %d steps)",
                   share, foundInFive, truePassages, vehicles, routeShare, routeCorrect, routeSteps)
        }
    }

    /// For each vehicle seen on at least two cameras, follows it from its first matched
    /// passage: how many of its other true passages (up to five) are in the first five results,
    /// and how many of the route's steps are the same vehicle.
    public func following(_ passages: [Passage], follow: (Passage) -> (ranked: [Passage], route: [Passage])) -> FollowScore {
        var score = FollowScore()
        let matched = passages.compactMap { p in match(p).map { (p, $0) } }
        let byAgent = Dictionary(grouping: matched.filter { $0.1.vehicle && $0.1.centreX == nil }, by: { $0.1.agent })
        for (agent, seen) in byAgent.sorted(by: { $0.key < $1.key }) {
            let cameras = Set(seen.map { $0.1.camera })
            guard cameras.count >= 2, let query = seen.min(by: { $0.0.start < $1.0.start }) else { continue }
            let others = Set(truth.filter { $0.agent == agent && $0.camera != query.1.camera && $0.end.timeIntervalSince($0.start) >= 1.5 })
            guard !others.isEmpty else { continue }
            score.vehicles += 1
            let (ranked, route) = follow(query.0)
            let top = ranked.prefix(5).compactMap { match($0) }
            let hits = Set(top.filter { $0.agent == agent && $0.camera != query.1.camera })
            score.truePassages += min(5, others.count)
            score.foundInFive += min(5, hits.count)
            for step in route where step.id != query.0.id {
                score.routeSteps += 1
                if match(step)?.agent == agent { score.routeCorrect += 1 }
            }
        }
        return score
    }
}
