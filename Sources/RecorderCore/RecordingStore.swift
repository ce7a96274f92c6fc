import Crypto
public import Foundation

/// Where a site's recordings live: segment files under one folder per camera and UTC
/// day, the catalog beside them, and the audit chain's head.
///
///     STORAGE/catalog.sqlite
///     STORAGE/audit.head
///     STORAGE/CAMERA/YYYY-MM-DD/HHMMSS.ts
public final class RecordingStore: Sendable {
    public let root: URL
    public let catalog: any Catalog
    public let audit: AuditLog

    public init(root: URL, catalog: (any Catalog)? = nil) throws(CatalogError) {
        self.root = root
        do {
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        } catch {
            throw CatalogError("cannot create the storage folder \(root.path): \(error.localizedDescription)")
        }
        let opened: any Catalog
        if let catalog { opened = catalog } else { opened = try SQLiteCatalog(path: root.appendingPathComponent("catalog.sqlite").path) }
        self.catalog = opened
        audit = AuditLog(catalog: opened, headPath: root.appendingPathComponent("audit.head").path)
    }

    /// The folder given (--storage), else $VIGIE_STORAGE, else
    /// ~/.local/share/vigie/recordings/SITE (one folder per site name).
    public static func root(given: String?, siteName: String) -> URL {
        if let given { return URL(fileURLWithPath: given) }
        if let storage = ProcessInfo.processInfo.environment["VIGIE_STORAGE"], !storage.isEmpty {
            return URL(fileURLWithPath: storage)
        }
        let slug = siteName.lowercased().map { $0.isLetter || $0.isNumber ? String($0) : "-" }.joined()
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".local/share/vigie/recordings/\(slug)")
    }

    public func url(of segment: SegmentRecord) -> URL { root.appendingPathComponent(segment.path) }

    /// A new segment's relative path: CAMERA/YYYY-MM-DD/HHMMSS.ts in UTC, made unique.
    func newSegmentPath(camera: String, start: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: start)
        let day = String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
        let base = String(format: "%02d%02d%02d", c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
        let folder = root.appendingPathComponent(camera).appendingPathComponent(day)
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var name = "\(base).ts", counter = 1
        while FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path) {
            counter += 1
            name = "\(base)-\(counter).ts"
        }
        return "\(camera)/\(day)/\(name)"
    }

    /// SHA-256 (hex) and size of a file, read in 1 MiB blocks into one reused buffer.
    public static func digest(of url: URL) -> (sha256: String, bytes: Int64)? {
        let descriptor = open(url.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var hasher = SHA256()
        var bytes: Int64 = 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let count = read(descriptor, buffer.baseAddress, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            bytes += Int64(count)
        }
        return (hasher.finalize().map { String(format: "%02x", $0) }.joined(), bytes)
    }
}
