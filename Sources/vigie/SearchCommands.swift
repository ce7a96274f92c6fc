import ArgumentParser
import Foundation
import RecorderAPI
import RecorderCore

struct AnalyseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyse", abstract: "Index a requisition's footage for search: its cameras and periods, nothing else.",
        discussion: """
            Decodes the recordings at reduced size and rate, finds what moves, detects vehicles \
            and people (YOLO on OpenVINO, CPU), follows each object through the picture and keeps \
            one passage per object: class, colours, direction, times, a thumbnail and an \
            appearance for following it across cameras. Never live, never faces. Progress is \
            saved per segment: run it again to resume after a stop (Ctrl-C or --stop). The index \
            is destroyed with the footage it came from.
            """)

    @OptionGroup var storageOptions: StorageOptions
    @OptionGroup var remote: ServiceOptions
    @Option(help: "The requisition's number.") var requisition: String
    @Flag(help: "Only say how far the analysis is.") var status = false
    @Flag(help: "Stop the analysis running on the recorder (it resumes where it stopped next time).") var stop = false
    @Flag(help: "Drop the index made so far and analyse everything again (after the model was replaced).") var again = false
    @Option(help: "main (the default) or sub: the sub streams where the recorder recorded them, about 1.6 times faster but a poorer look for following.")
    var stream = "main"

    func validate() throws {
        if again && (status || stop) { throw ValidationError("--again starts an analysis: not with --status or --stop") }
        guard stream == "main" || stream == "sub" else { throw ValidationError("--stream is main or sub, not \(stream)") }
    }

    func run() throws {
        let (service, _) = try remote.connect(storageOptions, access: .readWrite)
        let number = requisition
        if status || stop {
            let state = try check("vigie analyse") { () throws(ServiceError) in
                stop ? try service.stopAnalysis(requisition: number) : try service.analysis(requisition: number)
            }
            print(AnalyseCommand.line(state))
            return
        }
        var state = try check("vigie analyse") { () throws(ServiceError) in try service.startAnalysis(requisition: number, again: again, subStream: stream == "sub") }
        let interrupted = InterruptSignal()
        var shown = ""
        while state.state == "running" || state.state == "stopping" {
            Thread.sleep(forTimeInterval: 0.5)
            if interrupted.fired && state.state == "running" {
                state = try check("vigie analyse") { () throws(ServiceError) in try service.stopAnalysis(requisition: number) }
            }
            state = try check("vigie analyse") { () throws(ServiceError) in try service.analysis(requisition: number) }
            let line = AnalyseCommand.line(state)
            if line != shown {
                shown = line
                printError("vigie analyse: \(line)")
            }
        }
        print(AnalyseCommand.line(state))
        if let stages = state.stages, (stages["footage"] ?? 0) > 0 { print(AnalyseCommand.stages(stages)) }
        switch state.state {
        case "done": return
        case "stopped": throw ExitCode(75)
        default:
            printError("vigie analyse: \(state.error ?? "failed")")
            throw ExitCode(74)
        }
    }

    /// CPU time per stage of the run, and the speed in camera-hours per CPU-hour.
    static func stages(_ stages: [String: Double]) -> String {
        let names = ["decode", "scale", "motion", "detection", "tracking", "attributes"]
        let total = names.reduce(0) { $0 + (stages[$1] ?? 0) }
        let footage = stages["footage"] ?? 0
        var text = String(format: "CPU %.1f s for %.0f s of footage: %.1f camera-hours per CPU-hour;", total, footage, total > 0 ? footage / total : 0)
        for name in names { text += String(format: " %@ %.1f s", name, stages[name] ?? 0) }
        text += String(format: "; %.0f inferences, %.0f of %.0f pictures analysed", stages["inferences"] ?? 0, stages["analysed"] ?? 0, stages["pictures"] ?? 0)
        return text
    }

    static func line(_ s: AnalysisStatus) -> String {
        let share = s.secondsTotal > 0 ? s.secondsDone / s.secondsTotal : 0
        let bar = String(repeating: "#", count: Int(share * 20)) + String(repeating: ".", count: 20 - Int(share * 20))
        var text = "requisition \(s.requisition): \(s.state) [\(bar)] \(Int(share * 100))%, \(s.segmentsDone)/\(s.segmentsTotal) segments, "
        text += String(format: "%.0f/%.0f s of footage, %d passages", s.secondsDone, s.secondsTotal, s.passages)
        if s.state == "running", let left = s.remaining { text += String(format: ", about %.0f s left", left) }
        return text
    }
}

/// Ctrl-C asks for a clean stop instead of killing the command.
final class InterruptSignal: @unchecked Sendable {  // the flag is written by the signal source's queue, read by the loop
    private let source: any DispatchSourceSignal
    private(set) var fired = false

    init() {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [unowned self] in self.fired = true }
        source.resume()
    }
}

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search", abstract: "Search a requisition's index: \"only the red cars\", or one vehicle's passages across the town.",
        discussion: """
            Passages ranked by confidence (the colour's share times the detector's), each with its \
            camera, times and colours. With --like PASSAGE, the passages of the same vehicle on \
            the other cameras, ranked by likeness and by whether it could have driven there in \
            the time (the cameras' neighbours), then the route chained from it. Each search is \
            written to the audit log with its requisition and criteria.
            """)

    @OptionGroup var storageOptions: StorageOptions
    @OptionGroup var remote: ServiceOptions
    @Option(help: "The requisition's number.") var requisition: String
    @Option(name: [.customLong("class")], help: "car, van (or truck), bus, motorcycle, bicycle, person.") var objectClass: String?
    @Option(name: [.customLong("color"), .customLong("colour")], help: "white, silver, grey, black, red, maroon, orange, brown, yellow, green, blue, purple, pink.")
    var colour: String?
    @Option(help: "Camera ids or numbers, comma separated.") var cameras: String?
    @Option(help: "From (local time, YYYY-MM-DD HH:MM:SS).") var from: String?
    @Option(help: "To (local time).") var to: String?
    @Option(help: "Follow the vehicle of this passage (its number in an earlier search).") var like: Int64?
    @Option(help: "How many results.") var limit = 20
    @Option(help: "table or json.") var format = "table"

    func validate() throws {
        if !["table", "json"].contains(format) { throw ValidationError("--format is table or json") }
        if limit < 1 || limit > 500 { throw ValidationError("--limit is 1 to 500") }
    }

    func run() throws {
        let (service, zone) = try remote.connect(storageOptions, access: .readWrite)
        let request = SearchRequest(
            requisition: requisition, objectClass: objectClass, colour: colour?.lowercased(), cameras: cameras.map(cameraList) ?? [],
            from: try from.map { try parseLocal($0, zone, option: "--from") }, to: try to.map { try parseLocal($0, zone, option: "--to") }, like: like, limit: limit)
        let reply = try check("vigie search") { () throws(ServiceError) in try service.search(request) }
        if format == "json" {
            print(String(decoding: API.encode(reply), as: UTF8.self))
            return
        }
        let clock = DateFormatter()
        clock.timeZone = zone
        clock.dateFormat = "yyyy-MM-dd HH:mm:ss"
        func row(_ p: PassageInfo) -> String {
            let colours = p.colours.sorted { $0.value > $1.value }.map { "\($0.key) \(Int(($0.value * 100).rounded()))%" }.joined(separator: ", ")
            return "\(String(p.id).leftPadded(7))  \(String(format: "%.2f", p.score))  \(p.camera.padded(26)) \(clock.string(from: p.start))  \(String(format: "%5.1f", p.end.timeIntervalSince(p.start))) s  \(p.objectClass.padded(10)) \(p.direction.padded(13)) \(colours)"
        }
        if let share = reply.analysedShare, share < 0.999 {
            printError("vigie search: note: \(Int(share * 100))% of requisition \(reply.requisition)'s footage is analysed (vigie analyse --requisition \(reply.requisition))")
        }
        let header = "passage  score  camera                     start                dur.  class      direction     colours"
        if let followed = reply.followed {
            print("following passage \(followed.id):")
            print(header)
            print(row(followed))
            print("\nthe same vehicle elsewhere, most likely first:")
        }
        print(header)
        for p in reply.passages { print(row(p)) }
        if let route = reply.route, route.count > 1 {
            print("\nroute (\(route.count) passages):")
            for p in route { print("  \(clock.string(from: p.start))  \(p.camera)  (\(p.id))") }
        }
        printError("vigie search: \(reply.passages.count) result(s) of \(reply.indexed) passage(s) indexed")
    }
}
