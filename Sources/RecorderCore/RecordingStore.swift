import Crypto
public import Foundation
import Synchronization

/// Where a site's recordings live: segment files under one folder per camera and UTC
/// day, the catalog beside them, and the small files around it.
///
///     STORAGE/catalog.sqlite          the catalog (SQLite, write-ahead log kept)
///     STORAGE/catalog.backup.sqlite   its last online backup (holds, registers, audit)
///     STORAGE/audit.head              the audit chain's head, outside the catalog, signed
///     STORAGE/keys/                   the recorder's audit signing key (`AuditKeyFolder`)
///     STORAGE/recorder.pid            the running recorder (the lock is on the folder itself)
///     STORAGE/recorder.status         what it says of itself every 2 s
///     STORAGE/CAMERA/YYYY-MM-DD/HHMMSS.ts
///     STORAGE/quarantine/...          files found in the storage that the recorder did not write
///     STORAGE/damaged/...             a damaged catalog, kept for forensics after a rebuild
public final class RecordingStore: Sendable {
    public let root: URL
    public let catalog: any Catalog
    public let audit: AuditLog
    public let access: CatalogAccess

    /// Opens the storage folder: for writing (the folder and catalog made when missing), or
    /// for reading only (nothing is written, so it works on a full disk and on read-only media).
    public init(root: URL, catalog: (any Catalog)? = nil, access: CatalogAccess = .readWrite) throws(CatalogError) {
        self.root = root
        self.access = access
        switch access {
        case .readWrite:
            do {
                try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            } catch {
                throw CatalogError("cannot create the storage folder \(root.path): \(error.localizedDescription)", kind: .cannotOpen)
            }
        case .readOnly:
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isFolder), isFolder.boolValue else {
                throw CatalogError("no recordings folder at \(root.path)", kind: .noCatalog)
            }
        }
        let opened: any Catalog
        if let catalog { opened = catalog } else { opened = try SQLiteCatalog(path: RecordingStore.catalogPath(root), access: access) }
        self.catalog = opened
        audit = AuditLog(catalog: opened, headPath: root.appendingPathComponent("audit.head").path, keys: AuditKeyFolder(storage: root))
    }

    static func catalogPath(_ root: URL) -> String { root.appendingPathComponent("catalog.sqlite").path }
    public var catalogPath: String { RecordingStore.catalogPath(root) }
    public var backupPath: String { root.appendingPathComponent("catalog.backup.sqlite").path }
    public var statusPath: String { root.appendingPathComponent("recorder.status").path }
    public var quarantine: URL { root.appendingPathComponent("quarantine") }
    public var damagedFolder: URL { root.appendingPathComponent("damaged") }

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

    /// A new segment's relative path (`SegmentPath`), its folder made, unique on disk.
    func newSegmentPath(camera: String, start: Date, stream: StreamChoice = .main) -> String {
        var counter = 1
        var path = SegmentPath.make(camera: camera, start: start, stream: stream)
        try? FileManager.default.createDirectory(
            at: root.appendingPathComponent(path).deletingLastPathComponent(), withIntermediateDirectories: true)
        while FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path) {
            counter += 1
            path = SegmentPath.make(camera: camera, start: start, counter: counter, stream: stream)
        }
        return path
    }

    /// Relative paths of every CAMERA/DAY/*.ts under the storage folder, sorted.
    public func segmentFiles() -> [String] {
        cameraFolders().flatMap(segmentFiles(camera:))
    }

    /// The camera folders of the storage (every folder but `quarantine` and `damaged`), sorted.
    public func cameraFolders() -> [String] {
        let manager = FileManager.default
        return ((try? manager.contentsOfDirectory(atPath: root.path)) ?? []).filter { camera in
            var isFolder: ObjCBool = false
            return camera != "quarantine" && camera != "damaged"
                && manager.fileExists(atPath: root.appendingPathComponent(camera).path, isDirectory: &isFolder) && isFolder.boolValue
        }.sorted()
    }

    /// Relative paths of one camera's CAMERA/DAY/*.ts, sorted.
    public func segmentFiles(camera: String) -> [String] {
        let manager = FileManager.default
        let cameraURL = root.appendingPathComponent(camera)
        var paths: [String] = []
        for day in (try? manager.contentsOfDirectory(atPath: cameraURL.path)) ?? [] {
            for file in (try? manager.contentsOfDirectory(atPath: cameraURL.appendingPathComponent(day).path)) ?? [] where file.hasSuffix(".ts") {
                paths.append("\(camera)/\(day)/\(file)")
            }
        }
        return paths.sorted()
    }

    /// Files kept apart in `quarantine/` (relative to it).
    public func quarantinedFiles() -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: quarantine.path) else { return [] }
        var files: [String] = []
        while let path = walker.nextObject() as? String {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: quarantine.appendingPathComponent(path).path, isDirectory: &isFolder), !isFolder.boolValue {
                files.append(path)
            }
        }
        return files.sorted()
    }

    /// Moves a file the recorder did not write out of the footage, into `quarantine/` at
    /// the same relative path (a number added if taken). Returns where it went.
    func quarantine(_ path: String) throws(CatalogError) -> String {
        var destination = quarantine.appendingPathComponent(path)
        var counter = 1
        while FileManager.default.fileExists(atPath: destination.path) {
            counter += 1
            destination = quarantine.appendingPathComponent("\(path).\(counter)")
        }
        do {
            try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw CatalogError("cannot make \(destination.deletingLastPathComponent().path): \(error.localizedDescription)", kind: .io)
        }
        guard rename(root.appendingPathComponent(path).path, destination.path) == 0 else {
            throw CatalogError("cannot move \(path) into quarantine: \(String(cString: strerror(errno)))", kind: .io)
        }
        return String(destination.path.dropFirst(root.path.count + 1))
    }

    /// Whether a recorder holds the storage's lock now.
    public var isRecorderRunning: Bool {
        let descriptor = open(root.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        if flock(descriptor, LOCK_SH | LOCK_NB) == 0 {
            flock(descriptor, LOCK_UN)
            return false
        }
        return errno == EWOULDBLOCK
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
        return (Hex.string(hasher.finalize()), bytes)
    }
}

/// The storage's lock: one recorder per storage folder. An exclusive `flock` on the folder
/// itself, not on a file in it: a folder that holds footage cannot be deleted, so no one can
/// let a second recorder in by removing a lock file. The kernel drops it if the process dies.
public final class StorageLock: Sendable {
    private let descriptor: Mutex<Int32>
    public let root: URL

    /// Takes the lock or throws `.locked`, naming the pid of the recorder that holds it.
    public init(root: URL) throws(CatalogError) {
        self.root = root
        let descriptor = open(root.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw CatalogError("cannot open the storage folder \(root.path): \(String(cString: strerror(errno)))", kind: .cannotOpen)
        }
        let pidPath = root.appendingPathComponent("recorder.pid").path
        // A reader checking whether a recorder runs holds a shared lock for an instant: try a few times.
        var attempts = 0
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let reason = errno
            attempts += 1
            if reason == EINTR || (reason == EWOULDBLOCK && attempts < 10) {
                usleep(50_000)
                continue
            }
            close(descriptor)
            guard reason == EWOULDBLOCK else {
                throw CatalogError("cannot lock the storage folder \(root.path): \(String(cString: strerror(reason)))", kind: .io)
            }
            let pid = (SmallFile.read(pidPath) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            throw CatalogError("another recorder\(pid.isEmpty ? "" : " (pid \(pid))") is recording into \(root.path)", kind: .locked)
        }
        self.descriptor = Mutex(descriptor)
        SmallFile.write("\(getpid())\n", to: pidPath, capacity: 64)
    }

    /// Releases the lock (also done when the process ends).
    public func release() {
        descriptor.withLock { descriptor in
            if descriptor >= 0 { close(descriptor) }
            descriptor = -1
        }
    }
}

/// Lowercase hexadecimal of bytes (digests).
public enum Hex {
    public static func string(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
