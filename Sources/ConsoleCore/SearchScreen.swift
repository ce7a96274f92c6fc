public import Foundation
public import RecorderAPI

/// The investigation screen of one requisition, without its terminal: the search's
/// criteria (a class, a colour), the vehicle followed, the selection in the results. The
/// console asks the recorder for `request` (each new one is a search in the audit log),
/// draws what came back and carries the actions of the keys out.
public struct SearchScreen: Equatable, Sendable {
    /// The classes the keys go through (nil: any), as the recorder names them.
    public static let classes: [String?] = [nil, "car", "van", "bus", "motorcycle", "bicycle", "person"]
    /// The colours the keys go through (nil: any); close shades side by side.
    public static let colours: [String?] = [nil, "red", "maroon", "orange", "pink", "yellow", "brown", "green", "blue", "purple", "white", "silver", "grey", "black"]
    /// How many results a search asks for (the list scrolls through them).
    public static let limit = 100
    /// Playback opens this long before the passage begins, to see the vehicle come.
    public static let leadIn: TimeInterval = 3

    public var requisition: String
    public var objectClass: String?
    public var colour: String?
    /// The passage whose vehicle is followed across the cameras (nil: the search by class and colour).
    public var following: Int64?
    /// The selected result, and the first one on screen.
    public var selected = 0
    public var top = 0
    /// The selection of the search's list, given back when following ends.
    var searchSelected = 0

    public init(requisition: String) { self.requisition = requisition }

    /// What the recorder is asked for.
    public var request: SearchRequest {
        if let following { return SearchRequest(requisition: requisition, like: following, limit: SearchScreen.limit) }
        return SearchRequest(requisition: requisition, objectClass: objectClass, colour: colour, limit: SearchScreen.limit)
    }

    /// The criteria in words, for the screen's head.
    public var criteria: String {
        if let following { return "following passage \(following)" }
        return "class \(objectClass ?? "any") · colour \(colour ?? "any")"
    }

    /// What the screen knows when a key comes: the results on screen (nil while they are asked
    /// for), how many fit, and which cameras the account may play and their neighbours.
    public struct Context {
        public var results: [PassageInfo]?
        /// Following: the route chained from the passage followed, in time order.
        public var route: [PassageInfo]?
        public var visibleRows: Int
        public var neighbours: (String) -> [String]
        public var mayPlay: (String) -> Bool
        public init(
            results: [PassageInfo]?, route: [PassageInfo]? = nil, visibleRows: Int, neighbours: @escaping (String) -> [String],
            mayPlay: @escaping (String) -> Bool
        ) {
            self.results = results
            self.route = route
            self.visibleRows = visibleRows
            self.neighbours = neighbours
            self.mayPlay = mayPlay
        }
    }

    /// What a key on the screen asks for.
    public enum Outcome: Equatable, Sendable {
        /// Nothing beyond drawing the screen again.
        case stay
        /// The screen closes (it is kept, to come back to with the same key).
        case close
        /// The footage of the passage: its camera and neighbours on a synchronised wall from
        /// `at`, with the passages to mark on the timeline (the route when following).
        case play(camera: String, cameras: [String], at: Date, marks: [TimelineMark])
        case startAnalysis
        case stopAnalysis
        /// Another requisition: the list of the open ones.
        case chooseRequisition
        case message(String)
    }

    public mutating func handle(_ key: ConsoleKey, _ context: Context) -> Outcome {
        let count = context.results?.count ?? 0
        switch key {
        case .up, .character("k"): move(to: selected - 1, count: count, rows: context.visibleRows)
        case .down, .character("j"): move(to: selected + 1, count: count, rows: context.visibleRows)
        case .pageUp: move(to: selected - max(1, context.visibleRows), count: count, rows: context.visibleRows)
        case .pageDown: move(to: selected + max(1, context.visibleRows), count: count, rows: context.visibleRows)
        case .character("c") where following == nil:
            objectClass = SearchScreen.next(after: objectClass, in: SearchScreen.classes)
            restart()
        case .character("o") where following == nil:
            colour = SearchScreen.next(after: colour, in: SearchScreen.colours)
            restart()
        case .character("x") where following == nil:
            objectClass = nil
            colour = nil
            restart()
        case .character("c"), .character("o"), .character("x"):
            return .message("following a vehicle: Esc goes back to the search by class and colour")
        case .character("f"):
            guard let results = context.results, selected < results.count else { return .message("no passage selected to follow") }
            let chosen = results[selected]
            guard chosen.id != following else { return .message("this is the passage followed") }
            if following == nil { searchSelected = selected }
            following = chosen.id
            selected = 0
            top = 0
        case .enter:
            guard let results = context.results, selected < results.count else { return .message("no passage selected") }
            let chosen = results[selected]
            guard context.mayPlay(chosen.camera) else { return .message("your account may not play \(chosen.camera)'s recordings") }
            var cameras = [chosen.camera]
            for neighbour in context.neighbours(chosen.camera) where context.mayPlay(neighbour) && !cameras.contains(neighbour) {
                cameras.append(neighbour)
            }
            // On the timeline: the route followed (and the passage chosen, were it not on it).
            var shown = following != nil ? (context.route ?? []) : []
            if !shown.contains(where: { $0.id == chosen.id }) { shown.append(chosen) }
            let marks = shown.map { TimelineMark(camera: $0.camera, start: $0.start, end: $0.end, passage: $0.id, chosen: $0.id == chosen.id) }
            return .play(
                camera: chosen.camera, cameras: Array(cameras.prefix(ConsoleState.synchronizedLimit)), at: chosen.start.addingTimeInterval(-SearchScreen.leadIn),
                marks: marks)
        case .escape, .backspace:
            guard following != nil else { return .close }
            following = nil
            selected = searchSelected
            top = max(0, selected - max(1, context.visibleRows) + 1)
        case .character("a"): return .startAnalysis
        case .character("s"): return .stopAnalysis
        case .character("r"): return .chooseRequisition
        default: break
        }
        return .stay
    }

    /// A new search: the list starts at its top.
    private mutating func restart() {
        selected = 0
        top = 0
    }

    private mutating func move(to index: Int, count: Int, rows: Int) {
        guard count > 0 else { return }
        selected = max(0, min(count - 1, index))
        let rows = max(1, rows)
        if selected < top { top = selected }
        if selected >= top + rows { top = selected - rows + 1 }
    }

    static func next(after value: String?, in list: [String?]) -> String? {
        let index = list.firstIndex(of: value) ?? 0
        return list[(index + 1) % list.count]
    }
}

/// A passage drawn on the playback's timeline of its camera.
public struct TimelineMark: Equatable, Sendable {
    public var camera: String
    public var start: Date
    public var end: Date
    public var passage: Int64
    /// The passage whose playback was asked for (the others are the route's).
    public var chosen: Bool
    public init(camera: String, start: Date, end: Date, passage: Int64, chosen: Bool) {
        self.camera = camera
        self.start = start
        self.end = end
        self.passage = passage
        self.chosen = chosen
    }
}

/// The analysis's progress in words: share, segments, passages and the time left.
public enum AnalysisProgress {
    /// A bar of `width` cells, filled by the share of the footage analysed.
    public static func bar(_ status: AnalysisStatus, width: Int) -> String {
        let share = status.secondsTotal > 0 ? min(1, max(0, status.secondsDone / status.secondsTotal)) : (status.state == "done" ? 1 : 0)
        let filled = Int((share * Double(width)).rounded(.down))
        return String(repeating: "█", count: filled) + String(repeating: "░", count: max(0, width - filled))
    }

    public static func line(_ status: AnalysisStatus) -> String {
        let share = status.secondsTotal > 0 ? status.secondsDone / status.secondsTotal : (status.state == "done" ? 1 : 0)
        var text = "analysis \(status.state) \(Int((share * 100).rounded(.down)))% · \(status.segmentsDone)/\(status.segmentsTotal) segments · \(status.passages) passages"
        if status.state == "running" || status.state == "stopping" {
            if let left = status.remaining { text += " · about \(duration(left)) left" } else { text += " · estimating the time left" }
        }
        if let error = status.error, status.state == "failed" { text += " · \(error)" }
        return text
    }

    /// 45 s, 12 min, 2 h 05.
    public static func duration(_ seconds: Double) -> String {
        let s = max(0, Int(seconds.rounded()))
        if s < 90 { return "\(s) s" }
        if s < 5400 { return "\(Int((Double(s) / 60).rounded())) min" }
        return String(format: "%d h %02d", s / 3600, (s % 3600) / 60)
    }
}
