/// Draws pictures into one rectangle of the terminal with a block blitter, sending only
/// what changed.
///
/// Keeps a copy of what the terminal shows in its rectangle. A new cell is sent only when
/// one of its pixels differs by more than `threshold` (largest channel difference) from
/// what is shown, so sensor noise on a still street costs nothing; a slow background
/// refresh sends, row by row, what differs by less, so the picture never drifts.
public final class CellRenderer {
    public let blitter: Blitter
    public let colorMode: ColorMode
    public let columns: Int
    public let rows: Int
    /// Top-left corner on the screen, 0-based.
    public let originRow: Int
    public let originColumn: Int
    /// Changes at or below this (0-255, largest channel difference) are not sent at once.
    public var threshold: Int
    /// One row in this many frames is refreshed with the smaller differences too (those
    /// above a third of the threshold), so the picture converges on the source.
    public var refreshEvery: Int = 8
    private var shown: [Cell]
    private var next: [Cell] = []
    private var frameIndex = 0
    private var refreshRow = 0

    public init(
        columns: Int, rows: Int, originRow: Int = 0, originColumn: Int = 0, blitter: Blitter, colorMode: ColorMode,
        threshold: Int = 10
    ) {
        self.columns = columns
        self.rows = rows
        self.originRow = originRow
        self.originColumn = originColumn
        self.blitter = blitter
        self.colorMode = colorMode
        self.threshold = threshold
        shown = [Cell](repeating: Cell.unknown, count: columns * rows)
    }

    /// Pixels a picture must have for `draw(pixels:into:)`.
    public var pixelWidth: Int { columns * blitter.width }
    public var pixelHeight: Int { rows * blitter.height }

    /// Forgets what the terminal shows (it was cleared or overwritten): the next frame is sent whole.
    public func invalidate() {
        for index in shown.indices { shown[index] = Cell.unknown }
    }

    /// What the terminal shows in the rectangle, as this renderer last drew it.
    public var shownCells: [Cell] { shown }

    /// Blits a picture of `pixelWidth` x `pixelHeight` and writes the changed cells.
    /// Returns how many cells were sent.
    @discardableResult
    public func draw(pixels: [UInt8], into buffer: inout VTBuffer) -> Int {
        blitter.cells(pixels: pixels, columns: columns, rows: rows, colorMode: colorMode, into: &next)
        return draw(cells: next, into: &buffer)
    }

    /// Writes the cells that changed beyond the threshold (and the refresh row's small changes).
    @discardableResult
    public func draw(cells: [Cell], into buffer: inout VTBuffer) -> Int {
        precondition(cells.count == columns * rows, "CellRenderer: wrong number of cells")
        frameIndex += 1
        var refreshing = -1
        if refreshEvery > 0 && frameIndex % refreshEvery == 0 {
            refreshing = refreshRow
            refreshRow = (refreshRow + 1) % rows
        }
        var sent = 0
        for row in 0..<rows {
            let limit = row == refreshing ? threshold / 3 : threshold
            let base = row * columns
            for column in 0..<columns {
                let cell = cells[base + column]
                let old = shown[base + column]
                guard blitter.difference(cell, from: old) > limit else { continue }
                buffer.moveTo(row: originRow + row, column: originColumn + column)
                buffer.write(cell, glyph: blitter.glyph(for: cell.mask))
                shown[base + column] = cell
                sent += 1
            }
        }
        return sent
    }
}
