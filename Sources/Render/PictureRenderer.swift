/// Something that draws pictures into a rectangle of the terminal: block cells or sixel.
/// One per tile; the console gives it pictures at its pixel size and a frame's buffer.
public protocol PictureRenderer: AnyObject {
    /// The picture size it wants, in pixels.
    var pixelWidth: Int { get }
    var pixelHeight: Int { get }
    /// The text cells it covers: top-left corner (0-based) and size.
    var originRow: Int { get }
    var originColumn: Int { get }
    var columns: Int { get }
    var rows: Int { get }
    /// Draws what changed; returns how many cells or strips were sent.
    @discardableResult
    func draw(pixels: [UInt8], into buffer: inout VTBuffer) -> Int
    /// The terminal no longer shows what this renderer drew (cleared, resized).
    func invalidate()
}

extension CellRenderer: PictureRenderer {}
extension SixelRenderer: PictureRenderer {}

extension PictureRenderer {
    /// Shows a state over the picture, so nobody takes a frozen picture for a live one:
    /// the last picture (if any) darkened, and `text` across the middle in white on red.
    /// The renderer then forgets what it drew, so the next live picture is sent whole and
    /// covers the banner.
    public func drawBanner(_ text: String, over lastPicture: [UInt8]?, into buffer: inout VTBuffer) {
        var dimmed = lastPicture ?? [UInt8](repeating: 0, count: pixelWidth * pixelHeight * 3)
        if dimmed.count == pixelWidth * pixelHeight * 3 {
            for index in dimmed.indices { dimmed[index] = dimmed[index] / 3 }
            invalidate()
            draw(pixels: dimmed, into: &buffer)
            buffer.forgetCursor()
        }
        let width = min(columns, text.unicodeScalars.count + 2)
        guard width > 0, rows > 0 else { return }
        let label = String(String.UnicodeScalarView(text.unicodeScalars.prefix(width - min(2, width - 1))))
        let padded = (" " + label + " ").unicodeScalars.prefix(width)
        buffer.writeText(
            String(String.UnicodeScalarView(padded)), row: originRow + rows / 2, column: originColumn + (columns - width) / 2,
            foreground: RGB(255, 255, 255), background: RGB(170, 20, 20))
        buffer.resetAttributes()
        invalidate()
    }
}
