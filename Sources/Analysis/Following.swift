public import Foundation
public import RecorderCore

/// Follows one vehicle across the town: ranks the passages of other cameras by how much
/// they look like it and by whether it could have driven there in the time (the neighbour
/// graph's streets: at least `travel.lowerBound` seconds a street, and ever less likely
/// past `travel.upperBound` a street), then chains the best into a route. Pure.
public struct Following: Sendable {
    /// Camera id to its neighbours (the site file's `neighbours`).
    public let graph: [String: [String]]
    /// Seconds one street takes to drive: the least, and the most that is still likely.
    public let travel: ClosedRange<Double>
    /// Seconds before or after the followed passage beyond which nothing is ranked.
    public let horizon: Double

    public init(graph: [String: [String]], travel: ClosedRange<Double> = 4...120, horizon: Double = 3600) {
        self.graph = graph
        self.travel = travel
        self.horizon = horizon
    }

    /// Streets from a camera to every camera it is connected to (breadth-first over the graph).
    public func streets(from a: String) -> [String: Int] {
        var found: [String: Int] = [a: 0]
        var frontier = [a], depth = 0
        while !frontier.isEmpty {
            depth += 1
            var next: [String] = []
            for camera in frontier {
                for neighbour in graph[camera] ?? [] where found[neighbour] == nil {
                    found[neighbour] = depth
                    next.append(neighbour)
                }
            }
            frontier = next
        }
        return found
    }

    /// Streets between two cameras, nil when unconnected.
    public func streets(from a: String, to b: String) -> Int? { streets(from: a)[b] }

    /// How plausible it is to be seen at `b` after (or before) `a`: 0 when it could not
    /// have got there in the time, 1 inside the usual travel time, decaying after it.
    public func timeScore(_ a: Passage, _ b: Passage) -> Double {
        timeScore(a, b, hops: streets(from: a.camera, to: b.camera))
    }

    func timeScore(_ a: Passage, _ b: Passage, hops: Int?) -> Double {
        guard let hops, hops > 0 else { return 0 }
        // The gap between leaving one picture and entering the other, whichever came first.
        let gap = b.start >= a.start ? b.start.timeIntervalSince(a.end) : a.start.timeIntervalSince(b.end)
        let least = Double(hops) * travel.lowerBound, most = Double(hops) * travel.upperBound
        if gap < least - 1 || gap > horizon { return 0 }
        if gap <= most { return 1 / Double(hops).squareRoot() }
        return exp(-(gap - most) / most) / Double(hops).squareRoot()
    }

    public struct Candidate: Sendable {
        public let passage: Passage
        public let score: Double
        public let appearance: Double
        public let streets: Int
    }

    /// The other cameras' passages of the same kind of object, most likely first.
    /// What following a passage answers: the route chained from it, and the ranked
    /// passages with the route's steps first, nearest in time first (a chain of
    /// neighbours in plausible times is surer than one likeness), then the others.
    public func follow(_ query: Passage, among passages: [Passage]) -> (ranked: [Candidate], route: [Passage]) {
        let route = route(from: query, among: passages)
        let ranked = rank(query, among: passages)
        let steps = Set(route.map(\.id)).subtracting([query.id])
        let first = ranked.filter { steps.contains($0.passage.id) }.sorted {
            abs($0.passage.start.timeIntervalSince(query.start)) < abs($1.passage.start.timeIntervalSince(query.start))
        }
        return (first + ranked.filter { !steps.contains($0.passage.id) }, route)
    }

    /// Least likeness for two touching pieces on one camera to be one passage.
    public static let sameLook = 0.85

    /// Pieces of one passage (a track cut in two by an occlusion: the same camera, times
    /// that touch, the same look) are one result: the best-ranked piece stands for the others.
    public func rank(_ query: Passage, among passages: [Passage]) -> [Candidate] {
        let sorted = candidates(query, among: passages).sorted { $0.score > $1.score || ($0.score == $1.score && $0.passage.start < $1.passage.start) }
        var kept: [Candidate] = []
        var taken: [String: [Passage]] = [:]
        for candidate in sorted {
            let p = candidate.passage
            let piece = taken[p.camera, default: []].contains { other in
                p.start <= other.end.addingTimeInterval(2) && p.end >= other.start.addingTimeInterval(-2)
                    && Appearance.similarity(p.descriptor, other.descriptor) >= Following.sameLook
            }
            if piece { continue }
            taken[p.camera, default: []].append(p)
            kept.append(candidate)
        }
        return kept
    }

    /// The passages that could be the same object, scored, in no order.
    private func candidates(_ query: Passage, among passages: [Passage]) -> [Candidate] {
        let distances = streets(from: query.camera)
        let kind = vehicleKind(query)
        return passages.compactMap { candidate -> Candidate? in
            guard candidate.id != query.id, candidate.camera != query.camera, let hops = distances[candidate.camera] else { return nil }
            guard vehicleKind(candidate) == kind else { return nil }
            let time = timeScore(query, candidate, hops: hops)
            guard time > 0 else { return nil }
            let look = max(0, Appearance.similarity(query.descriptor, candidate.descriptor))
            return Candidate(passage: candidate, score: look * look * time, appearance: look, streets: hops)
        }
    }

    private func vehicleKind(_ passage: Passage) -> String {
        // A van may be seen as a car by one camera and as a truck by another.
        passage.objectClass == "car" || passage.objectClass == "van" ? "car-or-van" : passage.objectClass
    }

    /// The route: from the passage, the best next passage on a neighbouring camera after
    /// it, again and again (and the same backwards), as long as one looks alike enough.
    public func route(from query: Passage, among passages: [Passage], minimumAppearance: Double = 0.85, longest: Int = 30) -> [Passage] {
        var used: Set<Int64> = [query.id]
        let kind = vehicleKind(query)
        let byCamera = Dictionary(grouping: passages.filter { vehicleKind($0) == kind }, by: \.camera)
        func step(_ from: Passage, forward: Bool) -> Passage? {
            var best: (passage: Passage, score: Double)? = nil
            for neighbour in Set(graph[from.camera] ?? []) where neighbour != from.camera {
                for candidate in byCamera[neighbour] ?? [] where !used.contains(candidate.id) {
                    guard forward ? candidate.start >= from.end : candidate.end <= from.start else { continue }
                    let time = timeScore(from, candidate, hops: 1)
                    guard time > 0 else { continue }
                    let look = max(0, Appearance.similarity(from.descriptor, candidate.descriptor))
                    guard look >= minimumAppearance else { continue }
                    let score = look * look * time
                    if best == nil || score > best!.score || (score == best!.score && candidate.start < best!.passage.start) { best = (candidate, score) }
                }
            }
            return best?.passage
        }
        var after: [Passage] = [], before: [Passage] = []
        var current = query
        while after.count < longest, let next = step(current, forward: true) {
            used.insert(next.id)
            after.append(next)
            current = next
        }
        current = query
        while before.count < longest, let previous = step(current, forward: false) {
            used.insert(previous.id)
            before.append(previous)
            current = previous
        }
        return before.reversed() + [query] + after
    }
}
