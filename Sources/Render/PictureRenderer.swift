/// Something that draws pictures into a rectangle of the terminal: block cells or sixel.
/// One per tile; the console gives it pictures at its pixel size and a frame's buffer.
public protocol PictureRenderer: AnyObject {
    /// The picture size it wants, in pixels.
    var pixelWidth: Int { get }
    var pixelHeight: Int { get }
    /// Draws what changed; returns how many cells or strips were sent.
    @discardableResult
    func draw(pixels: [UInt8], into buffer: inout VTBuffer) -> Int
    /// The terminal no longer shows what this renderer drew (cleared, resized).
    func invalidate()
}

extension CellRenderer: PictureRenderer {}
extension SixelRenderer: PictureRenderer {}
