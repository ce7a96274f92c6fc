import ConsoleCore
import Foundation
import Media
import RecorderAPI
import RecorderCore
import Render
import Wall

/// The investigation screen: a requisition's analysis with its progress, the results of a
/// search (or of following one vehicle) with their thumbnails drawn in the terminal, the
/// route across the cameras. The state (ConsoleCore's SearchScreen) decides; this draws.
extension WallConsole {
    /// The requisition recordings are consulted under, if one is: chosen in a list, given on the
    /// command line, or typed after R when it is an open requisition's number.
    var currentRequisition: String? {
        if let chosenRequisition { return chosenRequisition }
        if let requisition = options.requisition { return requisition }
        if let consultation, facts?.requisitions(wanted: false).list?.contains(where: { $0.number == consultation }) == true { return consultation }
        return nil
    }

    /// The answer to the screen's search, once it came (never an older search's).
    func searchList(_ screen: SearchScreen) -> SearchReply? {
        guard let found = searchFacts?.current, found.answered == screen.request else { return nil }
        return found.reply
    }

    /// Rows 0-3 are the head, the last two the keys and the status bar; each result takes
    /// three rows, its thumbnail at the left in the pictures' 4:3.
    var searchLayout: (top: Int, itemRows: Int, count: Int, thumbColumns: Int) {
        let top = 4, itemRows = 3
        let count = max(1, (curses.rows - 2 - top) / itemRows)
        var thumbColumns = 8  // blocks: a cell is about twice as high as wide
        if let cell = sixelCell {
            thumbColumns = max(4, Int((Double(itemRows * cell.height) * 4 / 3 / Double(cell.width)).rounded(.up)))
        }
        return (top, itemRows, count, thumbColumns)
    }

    /// Whether what came back from the recorder changed since the screen was drawn.
    func searchChanged() -> Bool {
        guard case .search(let screen) = state.overlay, let searchFacts else {
            searchShown = nil
            return false
        }
        let found = searchFacts.current
        let now = (screen.request, found.answered, found.status, found.thumbnails.count, found.error ?? found.statusError)
        if let shown = searchShown, shown.request == now.0, shown.answered == now.1, shown.status == now.2, shown.thumbnails == now.3, shown.error == now.4 {
            return false
        }
        searchShown = now
        return true
    }

    func drawSearchScreen(_ screen: SearchScreen) {
        let columns = curses.columns, layout = searchLayout
        guard let searchFacts else {
            curses.put(" INVESTIGATION — requisition \(screen.requisition)", row: 0, column: 0, width: columns, style: .status)
            curses.put("  search is not possible here: this console has no recordings (Esc: close)", row: 1, column: 0, width: columns, style: .warning)
            return
        }
        let found = searchFacts.current
        let reply = searchList(screen)
        let results = reply?.passages ?? []
        let first = min(screen.top, max(0, results.count - 1))
        let visible = Array(results.dropFirst(first).prefix(layout.count))
        searchFacts.want(screen.request, thumbnails: visible.map(\.id))

        // The head: the requisition and criteria, the analysis, the vehicle followed and its route.
        var head = " INVESTIGATION — requisition \(screen.requisition) │ \(screen.criteria)"
        if let reply { head += " │ \(results.count) result(s) of \(reply.indexed) passage(s) indexed" } else if found.error == nil { head += " │ searching…" }
        curses.put(head, row: 0, column: 0, width: columns, style: .status)
        if let status = found.status, status.requisition == screen.requisition {
            var line = " " + AnalysisProgress.bar(status, width: 20) + " " + AnalysisProgress.line(status)
            if status.state == "idle" || status.state == "stopped" { line += " · a: analyse its footage" }
            if status.state == "running" { line += " · s: stop" }
            curses.put(line, row: 1, column: 0, width: columns, style: status.state == "failed" ? .warning : .normal)
        } else {
            curses.put(" " + (found.statusError.map { "analysis: \($0)" } ?? "asking the recorder…"), row: 1, column: 0, width: columns, style: found.statusError == nil ? .normal : .warning)
        }
        let zone = core.inventory.site.timeZone
        let time = DateFormatter()
        time.timeZone = zone
        time.dateFormat = "HH:mm:ss"
        if let followed = reply?.followed {
            var line = " followed: \(followed.objectClass) \(followed.colour ?? "") — \(cameraName(followed.camera)) \(time.string(from: followed.start))"
            if let route = reply?.route, route.count > 1 {
                line += " │ route: " + route.map { "\(time.string(from: $0.start)) \(core.inventory.camera($0.camera)?.name ?? $0.camera)" }.joined(separator: " › ")
            }
            curses.put(line, row: 2, column: 0, width: columns, style: .label)
        } else {
            curses.put(" c: class  o: colour  x: any  f: follow the selected vehicle across the cameras  Enter: play it there", row: 2, column: 0, width: columns)
        }
        let problem = found.answered == screen.request ? found.error : nil
        if let problem {
            curses.put(" " + problem, row: 3, column: 0, width: columns, style: .warning)
        } else if let reply, let share = reply.analysedShare, share < 0.999 {
            curses.put(" note: \(Int(share * 100))% of the requisition's footage is analysed: results may be missing (a: analyse)", row: 3, column: 0, width: columns, style: .label)
        } else if reply != nil && results.isEmpty {
            curses.put(" nothing found\(reply!.indexed == 0 ? ": the index is empty (a: analyse the requisition's footage)" : "")", row: 3, column: 0, width: columns)
        } else {
            curses.put("", row: 3, column: 0, width: columns)
        }

        // The results: text beside each thumbnail (ncurses never writes over the thumbnail).
        let date = DateFormatter()
        date.timeZone = zone
        date.dateFormat = "dd/MM/yyyy HH:mm:ss"
        let onRoute = Set(reply?.route?.map(\.id) ?? [])
        let textColumn = layout.thumbColumns + 2
        for slot in 0..<layout.count {
            let row = layout.top + slot * layout.itemRows
            guard row + 1 < curses.rows - 2 else { break }
            guard slot < visible.count else {
                for line in 0..<layout.itemRows where row + line < curses.rows - 2 { curses.put("", row: row + line, column: textColumn, width: columns - textColumn) }
                continue
            }
            let passage = visible[slot], index = first + slot
            let style: Curses.Style = index == screen.selected ? .selected : .normal
            let length = passage.end.timeIntervalSince(passage.start)
            let line1 = " \(index + 1). \(cameraName(passage.camera))  \(date.string(from: passage.start))  \(String(format: "%.1f", length)) s"
            let colours = passage.colours.sorted { $0.value > $1.value }.prefix(3).map { "\($0.key) \(Int(($0.value * 100).rounded()))%" }.joined(separator: ", ")
            var line2 = " \(passage.objectClass) · \(colours.isEmpty ? "no colour read" : colours) · \(passage.direction) · score \(String(format: "%.2f", passage.score)) · passage \(passage.id)"
            if onRoute.contains(passage.id) { line2 += " · on the route" }
            if let streets = passage.streets { line2 += " · \(streets) street(s) away" }
            curses.put(line1, row: row, column: textColumn, width: columns - textColumn, style: style)
            curses.put(line2, row: row + 1, column: textColumn, width: columns - textColumn, style: index == screen.selected ? .selected : .label)
            if row + 2 < curses.rows - 2 { curses.put("", row: row + 2, column: textColumn, width: columns - textColumn) }
        }
        curses.put(
            " ↑↓ select  Enter play  f follow  c class  o colour  x any  a analyse  s stop  r requisition  Esc \(screen.following == nil ? "close" : "back to the search")",
            row: curses.rows - 2, column: 0, width: columns, style: .status)
    }

    private func cameraName(_ id: String) -> String {
        guard let camera = core.inventory.camera(id) else { return id }
        return "\(camera.number) \(camera.name)"
    }

    /// The thumbnails of the results on screen, each drawn once (again when the list moves).
    func drawSearchThumbnails() {
        guard case .search(let screen) = state.overlay, let searchFacts else { return }
        let layout = searchLayout
        if searchThumbnails.count != layout.count || searchThumbnails.first?.renderer.columns ?? 0 > layout.thumbColumns {
            searchThumbnails = (0..<layout.count).map { slot in
                let place = CellRect(row: layout.top + slot * layout.itemRows, column: 1, rows: layout.itemRows, columns: layout.thumbColumns)
                return (renderer(for: place, aspect: 4.0 / 3.0), nil)
            }
        }
        let found = searchFacts.current
        let results = found.answered == screen.request ? found.reply?.passages ?? [] : []
        let first = min(screen.top, max(0, results.count - 1))
        var buffer = VTBuffer(colorMode: colorMode)
        for slot in searchThumbnails.indices {
            let renderer = searchThumbnails[slot].renderer
            guard renderer.originRow + renderer.rows <= curses.rows - 2 else { continue }
            let index = first + slot
            let id: Int64? = index < results.count ? results[index].id : nil
            let image = id.flatMap { found.thumbnails[$0] }
            // Shown: the passage's picture, or (-id) the place kept dark until it comes.
            let wanted: Int64? = id.map { image != nil ? $0 : -$0 }
            guard wanted != searchThumbnails[slot].shown else { continue }
            searchThumbnails[slot].shown = wanted
            renderer.invalidate()
            let pixels =
                image?.resampled(width: renderer.pixelWidth, height: renderer.pixelHeight).pixels
                ?? [UInt8](repeating: id == nil ? 0 : 24, count: renderer.pixelWidth * renderer.pixelHeight * 3)
            renderer.draw(pixels: pixels, into: &buffer)
        }
        guard !buffer.bytes.isEmpty else { return }
        buffer.resetAttributes()
        writeRaw("\u{1B}7\u{1B}[?2026h" + String(decoding: buffer.drain(), as: UTF8.self) + "\u{1B}[?2026l\u{1B}8")
    }

    /// The screen was cleared: every thumbnail is drawn again.
    func forgetSearchThumbnails() {
        searchThumbnails = []
        searchShown = nil
    }
}
