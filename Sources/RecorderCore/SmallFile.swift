import Foundation

/// The small state files beside the catalog (the audit chain's head, the recorder's status
/// and metrics, its pid) are rewritten in place: their blocks are allocated once, so a full
/// disk never stops them from being updated (a temporary file and a rename would need new
/// blocks each time, and fail just when the state matters most).
///
/// The text is padded with line feeds to the file's allocated size; readers ignore blank lines.
enum SmallFile {
    /// Writes `text` at the start of `path`, padded to at least `capacity` bytes; `lock`
    /// holds an exclusive `flock` on the file while `decide` (given the current content)
    /// says whether to write. Returns false when nothing could be written.
    @discardableResult
    static func write(_ text: String, to path: String, capacity: Int = 4096, onlyIf decide: ((String) -> Bool)? = nil) -> Bool {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        if decide != nil { flock(descriptor, LOCK_EX) }
        defer { if decide != nil { flock(descriptor, LOCK_UN) } }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return false }
        let current = Int(status.st_size)
        if let decide, !decide(read(descriptor: descriptor, size: current)) { return true }
        var bytes = Array(text.utf8)
        let wanted = max(capacity, (bytes.count + 4095) / 4096 * 4096)
        if current < wanted {
            // Allocate once; on a full disk keep writing within what the file already has.
            if posix_fallocate(descriptor, 0, off_t(wanted)) != 0 && bytes.count > current { return false }
        }
        let size = max(current, wanted)
        if bytes.count < size { bytes += [UInt8](repeating: UInt8(ascii: "\n"), count: size - bytes.count) }
        let written = bytes.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        return written == bytes.count
    }

    /// The file's text, padding removed; nil when it cannot be read.
    static func read(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return nil }
        return read(descriptor: descriptor, size: Int(status.st_size))
    }

    private static func read(descriptor: Int32, size: Int) -> String {
        guard size > 0 else { return "" }
        var bytes = [UInt8](repeating: 0, count: min(size, 1 << 20))
        let count = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return "" }
        var text = String(decoding: bytes.prefix(count), as: UTF8.self)
        while text.last == "\n" { text.removeLast() }
        return text
    }
}
