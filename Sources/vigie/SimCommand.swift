import ArgumentParser
import Foundation
import Media
import RecorderCore
import Simulation
import Analysis

struct Sim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "The simulated city: build its footage, print its ground truth.",
        subcommands: [Prepare.self, Archive.self, Truth.self, Score.self]
    )

    static func city(_ options: SiteOptions) throws -> (CameraInventory, SimulatedCityRuntime) {
        let inventory = try SiteLocator.load(options.site)
        guard let simulation = SiteSources.simulation(for: inventory) else {
            printError("vigie sim: \(inventory.file) has no sim:// camera")
            throw ExitCode(64)
        }
        return (inventory, simulation)
    }

    struct Prepare: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Render and encode the simulated cameras' footage now (else it is built on first use).")

        @OptionGroup var siteOptions: SiteOptions

        @Option(help: "Only cameras whose id matches this pattern (* and ?).")
        var cameras: String = "*"

        @Option(help: "Which streams: main, sub or all.")
        var stream: String = "all"

        func validate() throws {
            if !["main", "sub", "all"].contains(stream) { throw ValidationError("--stream is main, sub or all") }
        }

        func run() throws {
            LogSetup.toStandardError(level: siteOptions.level)
            let (inventory, simulation) = try Sim.city(siteOptions)
            let streams: [SimulatedStream] = stream == "all" ? [.sub, .main] : [SimulatedStream(rawValue: stream)!]
            let selected = inventory.cameras(matching: cameras).filter { SimulatedAddress.parse($0.mainURL) != nil }
            print("footage folder: \(simulation.cache.directory.path)")
            for camera in selected {
                for stream in streams {
                    let start = Date()
                    let existed = FileManager.default.fileExists(
                        atPath: simulation.cache.path(city: simulation.city, camera: camera.id, stream: stream).path)
                    do {
                        let file = try simulation.cache.footage(
                            city: simulation.city, camera: camera.id, stream: stream, timeZone: simulation.timeZone)
                        let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
                        let what = existed ? "cached" : String(format: "built in %.1f s", Date().timeIntervalSince(start))
                        print("\(camera.id.padded(28)) \(stream.rawValue.padded(4)) \(String(size / 1024).leftPadded(6)) KiB  \(what)  \(file.lastPathComponent)")
                    } catch {
                        printError("vigie sim prepare: \(camera.id) \(stream.rawValue): \(error)")
                        throw ExitCode(1)
                    }
                }
            }
        }
    }

    struct Archive: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write what the simulated cameras showed over a past period into the recordings, as fast as the disk takes it.",
            discussion: """
                The segments are the ones `vigie record` would have made of the same moments (one-minute \
                MPEG-TS files, their hash and keyframe index in the catalog), so analysis, playback and \
                exports can be tried and measured on hours of footage without recording them in real \
                time. The simulated city's truth (`vigie sim truth`) holds for them. Not for a site \
                whose recorder is running: stop it first.
                """)

        @OptionGroup var storageOptions: StorageOptions
        @Option(help: "From (local time, YYYY-MM-DD HH:MM:SS).") var from: String
        @Option(help: "To (local time).") var to: String
        @Option(help: "Only cameras whose id matches this pattern (* and ?).") var cameras: String = "*"

        func run() throws {
            LogSetup.toStandardError(level: storageOptions.siteOptions.level)
            let (inventory, simulation) = try Sim.city(storageOptions.siteOptions)
            let zone = inventory.site.timeZone
            let start = try parseLocal(from, zone, option: "--from"), end = try parseLocal(to, zone, option: "--to")
            guard end > start else { throw ValidationError("--to must be after --from") }
            let (_, store) = try storageOptions.open(.readWrite)
            let archive = SegmentImport(store: store)
            for camera in inventory.cameras(matching: cameras) where SimulatedAddress.parse(camera.mainURL) != nil {
                // Both streams, as the recorder records them (the sub stream unless the site says not to).
                var streams: [(StreamChoice, String)] = [(.main, camera.mainURL)]
                if inventory.site.recordSubStreams, let sub = camera.subURL, SimulatedAddress.parse(sub) != nil { streams.append((.sub, sub)) }
                for (stream, url) in streams {
                    let began = MonotonicClock.seconds()
                    do {
                        // What the camera sent from `start` on, as fast as it is read.
                        let source = try simulation.open(url: url, replayFrom: start)
                        let written = try archive.write(camera: camera.id, stream: stream, source: source, until: end)
                        let seconds = written.reduce(0) { $0 + $1.duration }
                        print(
                            String(
                                format: "%@ %@ %d segments, %.0f s of footage in %.1f s", camera.id.padded(28), stream.rawValue.padded(4), written.count,
                                seconds, MonotonicClock.seconds() - began))
                    } catch {
                        printError("vigie sim archive: \(camera.id) \(stream.rawValue): \(error)")
                        throw ExitCode(1)
                    }
                }
            }
        }
    }

    struct Truth: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print what the simulated cameras showed: which vehicle or pedestrian, colour, camera, when.",
            discussion: "Times are read and printed in the site's time zone unless --utc. Output is CSV or JSON lines.")

        @OptionGroup var siteOptions: SiteOptions

        @Option(help: "Start, \"YYYY-MM-DD HH:MM:SS\" local time (default: 10 minutes ago).")
        var from: String?

        @Option(help: "End, \"YYYY-MM-DD HH:MM:SS\" local time (default: now).")
        var to: String?

        @Option(help: "Only this camera.")
        var camera: String?

        @Option(help: "Only this colour (red, white, black, blue, grey, silver, green, yellow, brown, orange).")
        var color: String?

        @Option(help: "csv or jsonl.")
        var format: String = "csv"

        @Flag(help: "Print times in UTC.")
        var utc = false

        func validate() throws {
            if !["csv", "jsonl"].contains(format) { throw ValidationError("--format is csv or jsonl") }
            if let color, SimulatedColor(rawValue: color) == nil {
                throw ValidationError("unknown colour \(color); known: \(SimulatedColor.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }

        func run() throws {
            let (inventory, simulation) = try Sim.city(siteOptions)
            let zone = inventory.site.timeZone
            let parser = DateFormatter()
            parser.timeZone = zone
            parser.dateFormat = "yyyy-MM-dd HH:mm:ss"
            func parse(_ text: String?, _ fallback: Date) throws -> Date {
                guard let text else { return fallback }
                guard let date = parser.date(from: text) else { throw ValidationError("`\(text)` is not YYYY-MM-DD HH:MM:SS") }
                return date
            }
            let end = try parse(to, Date())
            let start = try parse(from, end.addingTimeInterval(-600))
            if let camera, inventory.camera(camera) == nil { throw ValidationError("no camera \(camera)") }
            let printer = ISO8601DateFormatter()
            printer.timeZone = utc ? TimeZone(identifier: "UTC")! : zone
            printer.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            var rows = simulation.city.sightings(from: start, to: end, camera: camera.flatMap { inventory.camera($0)?.id })
            if let color { rows = rows.filter { $0.agent.color.rawValue == color } }
            if format == "csv" { print("start,end,camera,agent,kind,color,direction,previous_camera") }
            for row in rows {
                let fields = [
                    printer.string(from: row.start), printer.string(from: row.end), row.cameraID, row.agent.id,
                    row.agent.kind.rawValue, row.agent.color.rawValue, row.direction.rawValue, row.previousCameraID ?? "",
                ]
                if format == "csv" {
                    print(fields.joined(separator: ","))
                } else {
                    let keys = ["start", "end", "camera", "agent", "kind", "color", "direction", "previous_camera"]
                    let body = zip(keys, fields).map { "\"\($0)\":\"\($1)\"" }.joined(separator: ",")
                    print("{\(body)}")
                }
            }
        }
    }
}

extension Sim {
    struct Score: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Score a requisition's index against the simulated city's truth: a colour search's precision and recall, following.",
            discussion: """
                Reads the requisition's passages from the catalog, searches them as `vigie search` does \
                (the colour as the passage's main colour, vehicles), matches every passage to what the \
                cameras really showed (camera, time, place in the picture), and prints the precision \
                and recall of the colour search, then follows each vehicle seen on two cameras or more \
                from its first passage: the share of its true passages elsewhere found in the first 5 \
                results, and how many steps of the route are the same vehicle. Does not audit: it is a \
                test of the software on simulated footage.
                """)

        @OptionGroup var storageOptions: StorageOptions
        @Option(help: "The requisition's number.") var requisition: String
        @Option(name: [.customLong("color"), .customLong("colour")], help: "The colour searched.") var colour = "red"
        @Option(help: "Least share of the passage's colour votes for it to be a result.") var minimumShare = 0.4
        @Option(help: "text or json.") var format = "text"
        @Flag(help: "Also list each true passage of the colour with the passages that matched it, and the results that are not of it.") var explain = false
        @Flag(help: "Also list, for each vehicle followed, its first ranked passages, its true passages with their ranks, and the route.")
        var explainFollowing = false

        func run() throws {
            let (inventory, simulation) = try Sim.city(storageOptions.siteOptions)
            let (_, store) = try storageOptions.open(.readOnly)
            guard let found = try store.catalog.requisition(number: requisition) else {
                printError("vigie sim score: no requisition \(requisition)")
                throw ExitCode(64)
            }
            var truth: [TruthScore.Sighting] = []
            for scope in found.scopes {
                for camera in scope.cameras.isEmpty ? inventory.cameras.map(\.id) : scope.cameras {
                    for s in simulation.city.sightings(from: scope.start, to: scope.end, camera: camera) {
                        let place = s.placeInPicture
                        truth.append(
                            TruthScore.Sighting(
                                agent: s.agent.id, camera: s.cameraID, vehicle: s.agent.kind != .pedestrian, colour: s.agent.color.rawValue,
                                start: max(s.start, scope.start), end: min(s.end, scope.end), bottom: place.bottom, centreX: place.centreX))
                    }
                }
            }
            let scorer = TruthScore(truth: truth)
            let all = try store.catalog.passages(requisition: found.number, objectClass: nil, from: nil, to: nil)
            let results = all.filter { $0.objectClass != "person" && $0.colours.first?.name == colour && $0.share(of: colour) >= minimumShare }
            let from = found.scopes.map(\.start).min()!, to = found.scopes.map(\.end).max()!
            let colourScore = scorer.colourSearch(colour, results: results, from: from, to: to)
            let graph = Dictionary(inventory.cameras.map { ($0.id, $0.neighbours) }, uniquingKeysWith: { a, _ in a })
            let following = Following(graph: graph)
            let followScore = scorer.following(all) { query in
                let (ranked, route) = following.follow(query, among: all)
                return (ranked.map(\.passage), route)
            }
            let matched = all.filter { scorer.match($0) != nil }.count
            if explain {
                let clock = ISO8601DateFormatter()
                for sighting in truth where sighting.vehicle && sighting.colour == colour {
                    let seen = all.filter { scorer.match($0) == sighting }
                    let text = seen.map { p in "\(p.id) \(p.objectClass) \(p.colours.map { "\($0.name) \(Int($0.share * 100))%" }.joined(separator: " "))" }
                    print("\(sighting.camera) \(sighting.agent) \(clock.string(from: sighting.start)) \(Int(sighting.end.timeIntervalSince(sighting.start))) s: \(text.isEmpty ? "MISSED" : text.joined(separator: "; "))")
                }
                for p in results {
                    let sighting = scorer.match(p)
                    guard sighting?.colour != colour else { continue }
                    let truly = sighting.map { "\($0.agent) \($0.colour)" } ?? "nothing true"
                    print("WRONG \(p.id) \(p.camera) \(clock.string(from: p.start)) \(p.objectClass) \(p.colours.map { "\($0.name) \(Int($0.share * 100))%" }.joined(separator: " ")): \(truly)")
                }
            }
            if explainFollowing {
                let clock = DateFormatter()
                clock.dateFormat = "HH:mm:ss"
                clock.timeZone = inventory.site.timeZone
                func describe(_ p: Passage) -> String {
                    let who = scorer.match(p).map { "\($0.agent)" } ?? "none"
                    return "#\(p.id) \(p.camera) \(clock.string(from: p.start))-\(clock.string(from: p.end)) \(p.objectClass) \(p.colours.first?.name ?? "?") = \(who)"
                }
                let matched = all.compactMap { p in scorer.match(p).map { (p, $0) } }
                let byAgent = Dictionary(grouping: matched.filter { $0.1.vehicle && $0.1.centreX == nil }, by: { $0.1.agent })
                for (agent, seen) in byAgent.sorted(by: { $0.key < $1.key }) {
                    guard Set(seen.map { $0.1.camera }).count >= 2, let query = seen.min(by: { $0.0.start < $1.0.start }) else { continue }
                    print("\(agent) from \(describe(query.0))")
                    let (ranked, route) = following.follow(query.0, among: all)
                    for candidate in ranked.prefix(8) {
                        print(String(format: "   score %.3f look %.3f streets %d  ", candidate.score, candidate.appearance, candidate.streets) + describe(candidate.passage))
                    }
                    for sighting in truth where sighting.agent == agent && sighting.camera != query.1.camera {
                        let pieces = all.filter { scorer.match($0) == sighting }
                        let ranks = pieces.map { p in ranked.firstIndex { $0.passage.id == p.id }.map { "rank \($0 + 1)" } ?? "not ranked" }
                        print("   true: \(sighting.camera) \(clock.string(from: sighting.start)): " + (pieces.isEmpty ? "not indexed" : zip(pieces, ranks).map { "#\($0.id) \($1) look \(String(format: "%.3f", Appearance.similarity(query.0.descriptor, $0.descriptor)))" }.joined(separator: ", ")))
                    }
                    print("   route: " + route.map { describe($0) }.joined(separator: " > "))
                }
            }
            if format == "json" {
                print(
                    "{\"passages\":\(all.count),\"matched\":\(matched),\"colour\":\"\(colour)\",\"precision\":\(colourScore.precision),\"recall\":\(colourScore.recall),\"results\":\(colourScore.returned),\"truth\":\(colourScore.truthCount),\"follow_top5\":\(followScore.share),\"follow_vehicles\":\(followScore.vehicles),\"route\":\(followScore.routeShare)}")
            } else {
                print("requisition \(found.number): \(all.count) passages indexed, \(matched) matched to the truth (\(truth.count) true sightings)")
                print(colourScore)
                print(followScore)
            }
        }
    }
}
