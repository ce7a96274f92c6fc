internal import CFFmpeg

/// Converts decoded frames to packed RGB at a chosen size with libswscale. Owns its
/// `SwsContext`, rebuilt only when the input size or format changes.
///
/// Used from one thread. Downscaling (wall tiles) uses area averaging, which is both
/// fast and free of aliasing at thumbnail sizes; upscaling uses bicubic.
public final class Scaler {
    private var context: OpaquePointer?
    public let outputWidth: Int
    public let outputHeight: Int

    public init(outputWidth: Int, outputHeight: Int) throws(MediaError) {
        guard outputWidth > 0, outputHeight > 0, outputWidth <= 16384, outputHeight <= 16384 else {
            throw MediaError(
                kind: .invalidArgument, operation: "scaler", message: "bad output size \(outputWidth)x\(outputHeight)")
        }
        self.outputWidth = outputWidth
        self.outputHeight = outputHeight
    }

    deinit { sws_freeContext(context) }

    /// Scales `frame` into a new RGB picture.
    public func scale(_ frame: Frame) throws(MediaError) -> RGBImage {
        var image = RGBImage(width: outputWidth, height: outputHeight)
        try scale(frame, into: &image)
        return image
    }

    /// Scales `frame` into `image`, reusing its storage (`image` must be of the output size).
    public func scale(_ frame: Frame, into image: inout RGBImage) throws(MediaError) {
        precondition(image.width == outputWidth && image.height == outputHeight, "Scaler: image of the wrong size")
        let source = frame.pointer
        let width = source.pointee.width, height = source.pointee.height
        let downscaling = Int(width) >= outputWidth && Int(height) >= outputHeight
        let flags = downscaling ? SWS_AREA : SWS_BICUBIC
        context = sws_getCachedContext(
            context, width, height, AVPixelFormat(source.pointee.format),
            Int32(outputWidth), Int32(outputHeight), AV_PIX_FMT_RGB24, flags, nil, nil, nil)
        guard let context else {
            throw MediaError(
                kind: .invalidArgument, operation: "sws_getCachedContext",
                message: "cannot convert \(frame.pixelFormatName) \(width)x\(height) to RGB \(outputWidth)x\(outputHeight)")
        }
        let stride = Int32(outputWidth * 3)
        let result: Int32 = image.pixels.withUnsafeMutableBufferPointer { buffer in
            var destination: [UnsafeMutablePointer<UInt8>?] = [buffer.baseAddress, nil, nil, nil]
            var destinationStride: [Int32] = [stride, 0, 0, 0]
            return withUnsafePointer(to: &source.pointee.data) { dataTuple in
                dataTuple.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { data in
                    withUnsafePointer(to: &source.pointee.linesize) { lineTuple in
                        lineTuple.withMemoryRebound(to: Int32.self, capacity: 8) { lines in
                            sws_scale(context, data, lines, 0, height, &destination, &destinationStride)
                        }
                    }
                }
            }
        }
        if result < 0 { throw MediaError(code: result, operation: "sws_scale") }
    }
}
