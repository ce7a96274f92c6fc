public import Foundation

/// A rectangle of terminal cells, 0-based.
public struct CellRect: Sendable, Hashable {
    public var row: Int
    public var column: Int
    public var rows: Int
    public var columns: Int

    public init(row: Int, column: Int, rows: Int, columns: Int) {
        self.row = row
        self.column = column
        self.rows = rows
        self.columns = columns
    }

    public func contains(row r: Int, column c: Int) -> Bool {
        r >= row && r < row + rows && c >= column && c < column + columns
    }
}

/// Where each tile of a grid goes on a screen: a label line and the picture below it,
/// one blank column between tiles, the status bar on the last line.
public struct TileGeometry: Sendable, Equatable {
    public struct Tile: Sendable, Equatable {
        public let label: CellRect
        public let picture: CellRect
    }

    public let tiles: [Tile]
    public let statusBar: CellRect

    public init(screenColumns: Int, screenRows: Int, gridColumns: Int, gridRows: Int) {
        statusBar = CellRect(row: max(0, screenRows - 1), column: 0, rows: 1, columns: screenColumns)
        let usableRows = max(0, screenRows - 1)
        var tiles: [Tile] = []
        for gridRow in 0..<gridRows {
            let top = usableRows * gridRow / gridRows
            let bottom = usableRows * (gridRow + 1) / gridRows
            for gridColumn in 0..<gridColumns {
                let left = screenColumns * gridColumn / gridColumns
                let right = screenColumns * (gridColumn + 1) / gridColumns - (gridColumn < gridColumns - 1 ? 1 : 0)
                let width = max(0, right - left)
                tiles.append(
                    Tile(
                        label: CellRect(row: top, column: left, rows: 1, columns: width),
                        picture: CellRect(row: top + 1, column: left, rows: max(0, bottom - top - 1), columns: width)))
            }
        }
        self.tiles = tiles
    }

    /// The tile under a screen cell (mouse clicks).
    public func tile(atRow row: Int, column: Int) -> Int? {
        tiles.firstIndex { $0.label.contains(row: row, column: column) || $0.picture.contains(row: row, column: column) }
    }
}

/// The timeline under a pane in playback: what each column of a bar stands for, around
/// the time shown. Pure: the console draws the cells.
public enum Timeline {
    public enum Cell: Sendable, Equatable {
        case missing, recorded, held, cursor
        /// A passage searched for (the vehicle followed on this camera): however short, it has its column.
        case passage
    }

    /// `width` columns covering `span` seconds centred on `cursor`; a column is recorded
    /// when a recorded range covers most of it, held when a hold also covers it, and a
    /// passage's when one of `marks` touches it.
    public static func cells(
        width: Int, cursor: Date, span: Double, recorded: [(start: Date, end: Date)], held: [(start: Date, end: Date)],
        marks: [(start: Date, end: Date)] = []
    ) -> [Cell] {
        guard width > 0, span > 0 else { return [] }
        let perColumn = span / Double(width)
        let origin = cursor.addingTimeInterval(-span / 2)
        func covered(_ ranges: [(start: Date, end: Date)], from: Date, to: Date) -> Double {
            ranges.reduce(0) { total, range in
                total + max(0, min(range.end, to).timeIntervalSince(max(range.start, from)))
            }
        }
        var cells: [Cell] = []
        for column in 0..<width {
            let from = origin.addingTimeInterval(Double(column) * perColumn), to = from.addingTimeInterval(perColumn)
            if cursor >= from && cursor < to {
                cells.append(.cursor)
            } else if marks.contains(where: { $0.start < to && $0.end >= from }) {
                cells.append(.passage)
            } else if covered(recorded, from: from, to: to) >= perColumn / 2 {
                cells.append(covered(held, from: from, to: to) > 0 ? .held : .recorded)
            } else {
                cells.append(.missing)
            }
        }
        return cells
    }
}

/// A picture fitted in a rectangle of cells, keeping its shape (most cameras are 4:3 or
/// 16:9; a stretched picture misleads about what it shows), centred.
public enum PictureFit {
    /// For character cells, taken as twice as tall as wide: the cells the picture takes.
    public static func cells(in rect: CellRect, aspect: Double) -> CellRect {
        let aspect = aspect.isFinite && aspect > 0.2 && aspect < 5 ? aspect : 16.0 / 9.0
        var columns = rect.columns, rows = rect.rows
        if Double(columns) / Double(max(1, rows) * 2) > aspect {
            columns = max(1, Int((Double(rows * 2) * aspect).rounded()))
        } else {
            rows = max(1, Int((Double(columns) / aspect / 2).rounded()))
        }
        columns = min(columns, max(1, rect.columns))
        rows = min(rows, max(1, rect.rows))
        return CellRect(row: rect.row + (rect.rows - rows) / 2, column: rect.column + (rect.columns - columns) / 2, rows: rows, columns: columns)
    }

    /// For sixel, in pixels of cells `cellWidth` x `cellHeight`: the picture's even size in
    /// pixels and the cells it covers.
    public static func pixels(in rect: CellRect, aspect: Double, cellWidth: Int, cellHeight: Int) -> (width: Int, height: Int, cells: CellRect) {
        let aspect = aspect.isFinite && aspect > 0.2 && aspect < 5 ? aspect : 16.0 / 9.0
        let width = Double(rect.columns * cellWidth), height = Double(rect.rows * cellHeight)
        let fitWidth = min(width, height * aspect), fitHeight = min(height, width / aspect)
        let columns = Int((fitWidth / Double(cellWidth)).rounded(.down)), rows = Int((fitHeight / Double(cellHeight)).rounded(.down))
        let cells = CellRect(row: rect.row + (rect.rows - rows) / 2, column: rect.column + (rect.columns - columns) / 2, rows: rows, columns: columns)
        return (max(2, Int(fitWidth) / 2 * 2), max(2, Int(fitHeight) / 2 * 2), cells)
    }
}
