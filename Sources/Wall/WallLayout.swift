public import Foundation
public import RecorderCore
import Yams

/// A time window of the rotation schedule: on these weekdays, from one local time to
/// another (past midnight when `to` is earlier than `from`, the day being the day the
/// window opens), show these pages at this dwell.
public struct ScheduleWindow: Sendable, Hashable {
    public let name: String
    /// Weekdays the window opens on, 1 = Sunday ... 7 = Saturday (Calendar's numbering).
    public let weekdays: Set<Int>
    /// Minutes after local midnight.
    public let from: Int
    public let to: Int
    /// Page names, in order.
    public let pages: [String]
    public let dwell: Double?
    public let location: SourceLocation

    /// True when the window covers local weekday `weekday` at `minute` after midnight.
    public func covers(weekday: Int, minute: Int) -> Bool {
        if from == to { return weekdays.contains(weekday) }  // all day
        if from < to { return weekdays.contains(weekday) && minute >= from && minute < to }
        let previous = weekday == 1 ? 7 : weekday - 1
        return (weekdays.contains(weekday) && minute >= from) || (weekdays.contains(previous) && minute < to)
    }
}

/// One page of the wall: cameras shown together.
public struct WallPage: Sendable, Hashable {
    public let name: String
    /// The page of the file it comes from ("Gare" for "Gare 2/3").
    public let group: String
    /// Camera ids, pinned ones first, at most one grid's worth.
    public let cameraIDs: [String]
    public let dwell: Double
}

/// A wall's layout file: grid, default dwell, pinned cameras, pages and their schedule.
///
/// Pages list cameras by id or glob (`plumereau-*`), expanded in inventory order. Pinned
/// cameras take the first tiles of every page; a page with more cameras than the free
/// tiles becomes several pages ("Gare 1/2", "Gare 2/2").
public struct WallLayout: Sendable {
    public let file: String
    public let name: String
    /// The inventory file the layout's cameras come from (resolved against the layout's folder).
    public let inventoryFile: String
    public let columns: Int
    public let rows: Int
    public let dwell: Double
    public let pinned: [String]
    /// Every page, expanded.
    public let pages: [WallPage]
    /// The pages as the file lists them, before splitting to the grid (name, cameras, dwell).
    public let groups: [(name: String, cameraIDs: [String], dwell: Double)]
    public let schedule: [ScheduleWindow]
    public let warnings: [Diagnostic]

    static let wallKeys = ["name", "cameras", "grid", "dwell", "pinned"]
    static let pageKeys = ["name", "cameras", "dwell"]
    static let windowKeys = ["name", "days", "from", "to", "pages", "dwell"]
    static let dayNames = ["sun": 1, "mon": 2, "tue": 3, "wed": 4, "thu": 5, "fri": 6, "sat": 7]

    /// The layout used when none is given: every camera of the inventory, 4x4, named after the
    /// site (quoted, so that a `:` or a `#` in the name stays a name).
    public static func defaultYAML(name: String) -> String {
        var quoted = "\""
        for scalar in name.unicodeScalars {
            switch scalar {
            case "\\": quoted += "\\\\"
            case "\"": quoted += "\\\""
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return "wall:\n  name: \(quoted)\"\n  grid: 4x4\n"
    }

    /// Reads a layout file; its inventory is read from `cameras:` unless one is given.
    public static func load(path: String, inventory given: CameraInventory? = nil) throws(ConfigurationError) -> (WallLayout, CameraInventory) {
        try parse(yaml: try YAMLDocument.read(path: path), file: path, inventory: given)
    }

    public static func parse(yaml text: String, file: String, inventory given: CameraInventory? = nil) throws(ConfigurationError)
        -> (WallLayout, CameraInventory)
    {
        let document = try YAMLDocument(text: text, file: file)
        var checker = YAMLChecker(document: document)
        guard let root = document.root else {
            throw ConfigurationError([Diagnostic(.error, SourceLocation(file: file, line: 1, column: 1), "the file is empty")])
        }
        let top = checker.entries(of: root, allowed: ["wall", "pages", "schedule"], what: "the layout")
        guard let wallEntry = top["wall"] else {
            checker.error(root, "missing `wall:` block (name, cameras, grid, dwell)")
            throw ConfigurationError(checker.diagnostics)
        }
        let wall = checker.entries(of: wallEntry.value, allowed: wallKeys, what: "wall")
        let name = checker.text(wall, "name", in: "wall", required: true)?.0 ?? "Mur"

        // The inventory.
        var inventory = given
        var inventoryFile = given?.file ?? ""
        if inventory == nil {
            if let (value, node) = checker.text(wall, "cameras", in: "wall", required: true) {
                let base = URL(fileURLWithPath: file).deletingLastPathComponent()
                inventoryFile = value.hasPrefix("/") ? value : base.appendingPathComponent(value).path
                do {
                    inventory = try CameraInventory.load(path: inventoryFile)
                } catch {
                    checker.error(node, "camera inventory \(value): \(error.errors.first?.description ?? "unusable")")
                }
            } else {
                checker.error(wallEntry.value, "`cameras:` (the camera inventory file) is missing in wall")
            }
        }

        var columns = 3, rows = 3
        if let (value, node) = checker.text(wall, "grid", in: "wall", required: true) {
            let parts = value.lowercased().split(separator: "x").compactMap { Int($0) }
            if parts.count == 2, (1...8).contains(parts[0]), (1...8).contains(parts[1]) {
                columns = parts[0]
                rows = parts[1]
            } else {
                checker.error(node, "grid is COLUMNSxROWS from 1x1 to 8x8, not `\(value)`")
            }
        }
        let dwell = checker.seconds(wall, "dwell", in: "wall") ?? 10

        guard let inventory else { throw ConfigurationError(checker.diagnostics) }
        func expand(_ node: Node, what: String) -> [String] {
            var ids: [String] = []
            let items = node.sequence.map(Array.init) ?? (node.scalar != nil ? [node] : [])
            if items.isEmpty { checker.error(node, "\(what) is a list of camera ids or patterns") }
            for item in items {
                guard let pattern = item.scalar?.string, !pattern.isEmpty else {
                    checker.error(item, "a camera id or pattern")
                    continue
                }
                let matches =
                    pattern.contains("*") || pattern.contains("?")
                    ? inventory.cameras(matching: pattern).map(\.id) : (inventory.camera(pattern).map { [$0.id] } ?? [])
                if matches.isEmpty {
                    checker.error(item, "`\(pattern)` matches no camera of \(inventory.file)")
                }
                for id in matches where !ids.contains(id) { ids.append(id) }
            }
            return ids
        }

        let pinned = wall["pinned"].map { expand($0.value, what: "pinned") } ?? []
        if pinned.count >= columns * rows {
            checker.error(wall["pinned"]?.value, "\(pinned.count) pinned cameras leave no tile to rotate in a \(columns)x\(rows) grid")
        }
        let free = max(1, columns * rows - pinned.count)

        var pages: [WallPage] = []
        var groups: [(name: String, cameraIDs: [String], dwell: Double)] = []
        var pageNodes: [String: Node] = [:]
        if let pagesEntry = top["pages"] {
            if let list = pagesEntry.value.sequence {
                for item in list {
                    let entries = checker.entries(of: item, allowed: pageKeys, what: "a page")
                    guard let (pageName, nameNode) = checker.text(entries, "name", in: "a page", required: true) else {
                        checker.error(item, "page without `name`")
                        continue
                    }
                    if pageNodes[pageName] != nil {
                        checker.error(nameNode, "two pages named `\(pageName)`")
                        continue
                    }
                    pageNodes[pageName] = nameNode
                    let pageDwell = checker.seconds(entries, "dwell", in: "page \(pageName)") ?? dwell
                    guard let camerasNode = entries["cameras"]?.value else {
                        checker.error(item, "page \(pageName) has no `cameras`")
                        continue
                    }
                    let ids = expand(camerasNode, what: "cameras of page \(pageName)").filter { !pinned.contains($0) }
                    if ids.isEmpty {
                        checker.error(camerasNode, "page \(pageName) is empty (all its cameras are unknown or pinned)")
                        continue
                    }
                    groups.append((pageName, ids, pageDwell))
                    pages += WallLayout.split(name: pageName, ids: ids, pinned: pinned, free: free, dwell: pageDwell)
                }
            } else {
                checker.error(pagesEntry.value, "`pages:` is a list of pages, each starting with `- name:`")
            }
        } else {
            // No pages: every camera of the inventory, a grid at a time.
            let ids = inventory.cameras.map(\.id).filter { !pinned.contains($0) }
            groups.append(("Toutes", ids, dwell))
            pages = WallLayout.split(name: "Toutes", ids: ids, pinned: pinned, free: free, dwell: dwell)
        }

        var windows: [ScheduleWindow] = []
        if let scheduleEntry = top["schedule"] {
            for item in scheduleEntry.value.sequence.map(Array.init) ?? [] {
                let entries = checker.entries(of: item, allowed: windowKeys, what: "a schedule window")
                let windowName = checker.text(entries, "name", in: "a schedule window", required: true)?.0 ?? "window"
                var days = Set<Int>()
                if let daysNode = entries["days"]?.value {
                    for day in daysNode.sequence.map(Array.init) ?? [daysNode] {
                        let word = day.scalar?.string.lowercased().prefix(3) ?? ""
                        if word == "all" || word == "dai" {
                            days.formUnion(1...7)
                        } else if let number = dayNames[String(word)] {
                            days.insert(number)
                        } else {
                            checker.error(day, "unknown day `\(day.scalar?.string ?? "")`: mon, tue, wed, thu, fri, sat, sun or all")
                        }
                    }
                } else {
                    days = Set(1...7)
                }
                let from = checker.clock(entries, "from", in: "window \(windowName)") ?? 0
                let to = checker.clock(entries, "to", in: "window \(windowName)") ?? 0
                var names: [String] = []
                if let pagesNode = entries["pages"]?.value {
                    for page in pagesNode.sequence.map(Array.init) ?? [pagesNode] {
                        guard let pageName = page.scalar?.string else { continue }
                        if !pages.contains(where: { $0.group == pageName }) {
                            checker.error(page, "window \(windowName): no page named `\(pageName)`")
                        } else {
                            names.append(pageName)
                        }
                    }
                } else {
                    checker.error(item, "window \(windowName) has no `pages`")
                }
                let windowDwell = checker.seconds(entries, "dwell", in: "window \(windowName)")
                windows.append(
                    ScheduleWindow(
                        name: windowName, weekdays: days, from: from, to: to, pages: names, dwell: windowDwell,
                        location: document.location(of: item)))
            }
        }
        // Overlapping windows: the first wins, which may not be what the author meant.
        for (i, a) in windows.enumerated() {
            for b in windows[(i + 1)...] where WallLayout.overlap(a, b) {
                checker.diagnostics.append(
                    Diagnostic(
                        .warning, b.location,
                        "window `\(b.name)` overlaps `\(a.name)` (line \(a.location.line)), which comes first and wins"))
            }
        }

        let sorted = checker.diagnostics.sorted { ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column) }
        if sorted.contains(where: { $0.severity == .error }) || pages.isEmpty {
            if pages.isEmpty && !sorted.contains(where: { $0.severity == .error }) {
                throw ConfigurationError(sorted + [Diagnostic(.error, document.location(of: root), "the layout has no page")])
            }
            throw ConfigurationError(sorted)
        }
        let layout = WallLayout(
            file: file, name: name, inventoryFile: inventoryFile.isEmpty ? inventory.file : inventoryFile, columns: columns,
            rows: rows, dwell: dwell, pinned: pinned, pages: pages, groups: groups, schedule: windows, warnings: sorted)
        return (layout, inventory)
    }

    /// A page's cameras cut to the free tiles of a grid: "Gare 1/2", "Gare 2/2".
    static func split(name: String, ids: [String], pinned: [String], free: Int, dwell: Double) -> [WallPage] {
        let parts = stride(from: 0, to: ids.count, by: free).map { Array(ids[$0..<min(ids.count, $0 + free)]) }
        return parts.enumerated().map { index, part in
            WallPage(
                name: parts.count == 1 ? name : "\(name) \(index + 1)/\(parts.count)", group: name, cameraIDs: pinned + part,
                dwell: dwell)
        }
    }

    /// The same layout on another grid (the operator's `g` key): pages are cut again.
    public func withGrid(columns: Int, rows: Int) -> WallLayout {
        let pinned = columns * rows > self.pinned.count ? self.pinned : []
        let free = max(1, columns * rows - pinned.count)
        let pages = groups.flatMap { WallLayout.split(name: $0.name, ids: $0.cameraIDs, pinned: pinned, free: free, dwell: $0.dwell) }
        return WallLayout(
            file: file, name: name, inventoryFile: inventoryFile, columns: columns, rows: rows, dwell: dwell, pinned: pinned,
            pages: pages, groups: groups, schedule: schedule, warnings: warnings)
    }

    /// Whether two windows share a minute of the week.
    static func overlap(_ a: ScheduleWindow, _ b: ScheduleWindow) -> Bool {
        for weekday in 1...7 {
            for minute in stride(from: 0, to: 1440, by: 1) where a.covers(weekday: weekday, minute: minute) {
                if b.covers(weekday: weekday, minute: minute) { return true }
            }
        }
        return false
    }

    /// The pages and dwell in force at `date` (site time zone): the first window that
    /// covers it, else every page at its own dwell.
    public func activePages(at date: Date, timeZone: TimeZone) -> (window: String?, pages: [WallPage]) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.weekday, .hour, .minute], from: date)
        let minute = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
        for window in schedule where window.covers(weekday: parts.weekday ?? 1, minute: minute) {
            let chosen = window.pages.flatMap { name in pages.filter { $0.group == name } }
            if !chosen.isEmpty {
                return (
                    window.name,
                    chosen.map { WallPage(name: $0.name, group: $0.group, cameraIDs: $0.cameraIDs, dwell: window.dwell ?? $0.dwell) }
                )
            }
        }
        return (nil, pages)
    }
}

extension YAMLChecker {
    /// A positive number of seconds.
    mutating func seconds(_ entries: [String: (key: Node, value: Node)], _ key: String, in what: String) -> Double? {
        guard let (value, node) = text(entries, key, in: what, required: true) else { return nil }
        guard let seconds = Double(value), seconds >= 1, seconds <= 3600 else {
            error(node, "\(key) is a number of seconds from 1 to 3600, not `\(value)`")
            return nil
        }
        return seconds
    }

    /// A local time "HH:MM", as minutes after midnight.
    mutating func clock(_ entries: [String: (key: Node, value: Node)], _ key: String, in what: String) -> Int? {
        guard let (value, node) = text(entries, key, in: what, required: true) else { return nil }
        let parts = value.split(separator: ":").map { Int($0) }
        guard parts.count == 2, let hour = parts[0], let minute = parts[1], (0...24).contains(hour), (0...59).contains(minute),
            hour * 60 + minute <= 1440
        else {
            error(node, "\(key) is a time of day HH:MM, not `\(value)`")
            return nil
        }
        return (hour * 60 + minute) % 1440
    }
}
