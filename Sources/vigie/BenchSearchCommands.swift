import Analysis
import ArgumentParser
import Foundation
import Media
import RecorderAPI
import RecorderCore
import Simulation

extension Bench {
    /// A requisition's object index as a month of a whole town would make it, without
    /// analysing a month of footage: the search benchmarks' catalog.
    struct SyntheticIndex: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "index",
            abstract: "Fill a requisition's object index with DAYS of synthetic passages on every camera of the site (search benchmarks).",
            discussion: """
                Writes one-minute segment rows (no files: search reads none) and, in each, passages \
                spread over the minute: classes as a town street has them (cars most, then vans, people, \
                two-wheelers, buses), colours as a car park has them (white, grey, black first, a few \
                red), one or two colour names with their shares, a random appearance. The requisition \
                must exist (`vigie requisition add`); its index is replaced.
                """)

        @OptionGroup var storageOptions: StorageOptions
        @Option(help: "The requisition's number.") var requisition: String
        @Option(help: "Days of footage, ending now.") var days: Int = 30
        @Option(help: "Passages per camera and hour.") var perHour: Int = 60

        func run() throws {
            let (inventory, store) = try storageOptions.open()
            guard let catalog = store.catalog as? SQLiteCatalog else { throw ValidationError("a SQLite catalog is needed") }
            guard try catalog.requisition(number: requisition) != nil else {
                printError("vigie bench index: no requisition \(requisition): add it first")
                throw ExitCode(64)
            }
            let end = (Date().timeIntervalSince1970 / 60).rounded(.down) * 60
            let first = end - Double(days) * 86_400
            let classes: [(String, Int)] = [("car", 70), ("van", 12), ("person", 12), ("motorcycle", 2), ("bicycle", 2), ("bus", 2)]
            let colours: [(String, Int)] = [
                ("white", 24), ("grey", 16), ("silver", 12), ("black", 18), ("blue", 9), ("red", 7), ("maroon", 2), ("green", 3), ("brown", 3),
                ("yellow", 1), ("orange", 2), ("purple", 1), ("pink", 2),
            ]
            func pick(_ table: [(String, Int)], _ random: inout StableRandom) -> String {
                var n = Int.random(in: 0..<table.reduce(0) { $0 + $1.1 }, using: &random)
                for (name, weight) in table {
                    if n < weight { return name }
                    n -= weight
                }
                return table[0].0
            }
            let started = MonotonicClock.seconds()
            var random = StableRandom(seed: StableRandom.seed(requisition))
            var total = 0
            for camera in inventory.cameras {
                let segments = stride(from: first, to: end, by: 60).map { time in
                    let start = Date(timeIntervalSince1970: time)
                    return SegmentRecord(camera: camera.id, path: SegmentPath.make(camera: camera.id, start: start), start: start, end: start.addingTimeInterval(60), state: .closed)
                }
                try catalog.insertSegments(segments)
                let ids = try catalog.segments(camera: camera.id, from: Date(timeIntervalSince1970: first), to: Date(timeIntervalSince1970: end)).map { ($0.start, $0.id) }
                var batch: [(id: Int64, passages: [(Passage, [UInt8]?)])] = []
                var carry = 0.0
                for (start, id) in ids {
                    carry += Double(perHour) / 60
                    let count = Int(carry)
                    carry -= Double(count)
                    var passages: [(Passage, [UInt8]?)] = []
                    for _ in 0..<count {
                        let at = start.addingTimeInterval(Double.random(in: 0..<55, using: &random))
                        let main = Double.random(in: 0.45...0.95, using: &random)
                        var named = [Passage.NamedShare(name: pick(colours, &random), share: (main * 1000).rounded() / 1000)]
                        if main < 0.8 { named.append(Passage.NamedShare(name: pick(colours, &random), share: ((1 - main) * 1000).rounded() / 1000)) }
                        var descriptor = (0..<Appearance.length).map { _ in Float.random(in: 0..<1, using: &random) }
                        descriptor = Appearance.mean([descriptor])
                        let x = Double.random(in: 0..<0.8, using: &random), y = Double.random(in: 0.3..<0.8, using: &random)
                        passages.append(
                            (
                                Passage(
                                    requisition: requisition, camera: camera.id, segmentID: id, start: at, end: at.addingTimeInterval(Double.random(in: 2...8, using: &random)),
                                    objectClass: pick(classes, &random), confidence: (Double.random(in: 0.3...0.95, using: &random) * 1000).rounded() / 1000, colours: named,
                                    direction: Bool.random(using: &random) ? "left-to-right" : "right-to-left", box: [x, y, x + 0.15, y + 0.1], descriptor: descriptor),
                                nil
                            ))
                    }
                    total += passages.count
                    batch.append((id, passages))
                    if batch.count >= 1440 {
                        try catalog.saveAnalyses(requisition: requisition, segments: batch)
                        batch = []
                    }
                }
                try catalog.saveAnalyses(requisition: requisition, segments: batch)
            }
            print(
                String(
                    format: "%d passages (%d cameras, %d days, %d an hour) in %d segments, in %.1f s", total, inventory.cameras.count, days, perHour,
                    inventory.cameras.count * days * 1440, MonotonicClock.seconds() - started))
        }
    }

    /// Search latency: the searches a technician makes, through the service (the recorder's
    /// socket when one runs, else in this process), timed one by one.
    struct SearchLatency: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "search",
            abstract: "Time searches of a requisition's index: by colour, by camera and day, people over hours, and following a passage.",
            discussion: """
                Prints p50, p95 and max of each kind of search, each timed from the request to the \
                decoded reply (audit entry written). Kinds: red cars over the whole requisition; one \
                colour on one camera for one day; people on three cameras for two hours; following a \
                passage found by the first kind (`--like`).
                """)

        @OptionGroup var storageOptions: StorageOptions
        @OptionGroup var remote: ServiceOptions
        @Option(help: "The requisition's number.") var requisition: String
        @Option(help: "Searches of each kind.") var searches = 20

        func run() throws {
            let inventory = try SiteLocator.load(storageOptions.siteOptions.site)
            let (service, _) = try remote.connect(storageOptions, access: .readWrite)
            let number = requisition
            let found = try check("vigie bench search") { () throws(ServiceError) in try service.requisition(number: number) }
            let from = found.scopes.map(\.from).min()!, to = found.scopes.map(\.to).max()!
            var random = StableRandom(seed: 7)
            let cameras = inventory.cameras.map(\.id)
            let colours = ["white", "grey", "black", "blue", "red", "green"]
            var timings: [String: [Double]] = [:]
            var likes: [Int64] = []
            func timed(_ kind: String, _ request: SearchRequest) throws -> SearchReply {
                let started = MonotonicClock.seconds()
                let reply = try check("vigie bench search") { () throws(ServiceError) in try service.search(request) }
                timings[kind, default: []].append((MonotonicClock.seconds() - started) * 1000)
                return reply
            }
            for _ in 0..<searches {
                let red = try timed("red cars, whole requisition", SearchRequest(requisition: number, objectClass: "car", colour: "red", limit: 20))
                if let pick = red.passages.randomElement(using: &random) { likes.append(pick.id) }
                let day = from.addingTimeInterval(Double(Int.random(in: 0..<max(1, Int(to.timeIntervalSince(from) / 86_400) - 1), using: &random)) * 86_400)
                _ = try timed(
                    "one colour, one camera, one day",
                    SearchRequest(requisition: number, colour: colours.randomElement(using: &random), cameras: [cameras.randomElement(using: &random)!], from: day, to: day.addingTimeInterval(86_400), limit: 20))
                let hours = from.addingTimeInterval(Double.random(in: 0..<max(1, to.timeIntervalSince(from) - 7200), using: &random))
                _ = try timed(
                    "people, three cameras, two hours",
                    SearchRequest(requisition: number, objectClass: "person", cameras: Array(cameras.shuffled(using: &random).prefix(3)), from: hours, to: hours.addingTimeInterval(7200), limit: 50))
            }
            for like in likes { _ = try timed("following a passage (--like)", SearchRequest(requisition: number, like: like, limit: 20)) }
            print("searches of requisition \(number) (\(found.scopes.count) scope(s)), milliseconds:")
            for (kind, values) in timings.sorted(by: { $0.key < $1.key }) {
                let sorted = values.sorted()
                func at(_ q: Double) -> Double { sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * q).rounded()))] }
                print(String(format: "  %@ %3d searches  p50 %7.1f  p95 %7.1f  max %7.1f", kind.padded(36), sorted.count, at(0.5), at(0.95), sorted.last ?? 0))
            }
        }
    }
}

extension Bench {
    /// Real footage (a file) as a camera's recordings of a past moment, to analyse it.
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a video file into a camera's recordings as if recorded from AT on (analysis of real footage).",
            discussion: """
                The file's video packets are copied (not re-encoded) into the one-minute MPEG-TS segments \
                the recorder makes, with their catalog rows (hash, keyframes); its first picture is placed \
                at AT. The codec must be one MPEG-TS carries (H.264, H.265). Not for a store a recorder \
                is writing.
                """)

        @OptionGroup var storageOptions: StorageOptions
        @Argument(help: "The video file.") var file: String
        @Option(help: "The camera's id in the site.") var camera: String
        @Option(help: "When its first picture was taken (local time, YYYY-MM-DD HH:MM:SS).") var at: String

        func run() throws {
            let (inventory, store) = try storageOptions.open(.readWrite)
            guard inventory.cameras.contains(where: { $0.id == camera }) else {
                printError("vigie bench import: no camera \(camera) in \(inventory.file)")
                throw ExitCode(64)
            }
            let start = try parseLocal(at, inventory.site.timeZone, option: "--at")
            let source: DemuxerSource
            do {
                source = try DemuxerSource(url: file)
            } catch {
                printError("vigie bench import: \(file): \(error)")
                throw ExitCode(66)
            }
            let written = try SegmentImport(store: store).write(camera: camera, source: source, startingAt: start)
            let seconds = written.reduce(0) { $0 + $1.duration }
            print(String(format: "%@: %d segment(s), %.1f s of footage from %@", camera, written.count, seconds, LocalTime.format(start, timeZone: inventory.site.timeZone)))
        }
    }
}
